"""The on-disk tensor cache: each dataset decoded once, stored as safetensors (never pickle).

A cache file holds the official train and test splits of one dataset (uint8 images, int64 labels)
and, in its metadata, the sha256 of the source: the bytes and relative paths of every source file
(the four IDX files, the CIFAR tar, every file of an image folder ...) plus the reading options and
``FORMAT``. The file is named ``<dataset>-<sha256[:16]>.safetensors``, so a changed source gets a
new file and is decoded again. Files are written to a temporary name in the same folder, then
``os.replace``d, so a crash never leaves a half-written cache. An unwritable cache folder only
costs the caching (one warning per process); a corrupt cache file is rebuilt.

Folder: ``$CLASSICNETS_CACHE``, else ``~/.cache/classicnets/tensors``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from ..errors import DataError
from .core import DataWarning, RawData, TensorSplit

FORMAT = "classicnets-data-1"  # bump when the decoding changes, to invalidate old caches
_KEYS = ("train_images", "train_labels", "test_images", "test_labels")
_warned_unwritable: set[Path] = set()


def cache_dir() -> Path:
    env = os.environ.get("CLASSICNETS_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "classicnets" / "tensors"


def fingerprint(files: Iterable[Path], root: Path, options: str = "") -> str:
    """sha256 of the files' relative paths, sizes and bytes (in sorted path order), options and FORMAT."""
    h = hashlib.sha256(f"{FORMAT}\0{options}\0".encode())
    for path in sorted(files):
        rel = path.relative_to(root) if path.is_relative_to(root) else Path(path.name)
        try:
            with open(path, "rb") as f:
                h.update(f"{rel.as_posix()}\0{os.fstat(f.fileno()).st_size}\0".encode())
                while chunk := f.read(1 << 20):
                    h.update(chunk)
        except OSError as e:
            raise DataError(f"{path}: cannot read ({e.strerror or e})") from None
    return h.hexdigest()


def cache_path(dataset: str, digest: str) -> Path:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", dataset).strip("-.") or "dataset"
    return cache_dir() / f"{slug}-{digest[:16]}.safetensors"


def cached(dataset: str, digest: str, build: Callable[[], RawData]) -> RawData:
    """The cached data for ``digest`` if present and intact, else ``build()`` (then cached)."""
    path = cache_path(dataset, digest)
    if path.is_file():
        raw = _read(path, digest)
        if raw is not None:
            return raw
    raw = build()
    _write(path, digest, raw)
    return raw


def _read(path: Path, digest: str) -> RawData | None:
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            if meta.get("sha256") != digest or sorted(f.keys()) != sorted(_KEYS):
                return None
            t = {k: f.get_tensor(k) for k in _KEYS}
        return RawData(
            json.loads(meta["classes"]),
            TensorSplit(t["train_images"], t["train_labels"]),
            TensorSplit(t["test_images"], t["test_labels"]),
            meta.get("warning", ""),
        )
    except (OSError, SafetensorError, ValueError, KeyError):  # corrupt or foreign file: rebuild it
        return None


def _write(path: Path, digest: str, raw: RawData) -> None:
    tensors: dict[str, torch.Tensor] = {
        "train_images": raw.train.images, "train_labels": raw.train.labels,
        "test_images": raw.test.images, "test_labels": raw.test.labels,
    }
    meta = {"sha256": digest, "classes": json.dumps(raw.classes), "warning": raw.warning, "format": FORMAT}
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
        os.close(fd)
        save_file(tensors, tmp, metadata=meta)
        os.replace(tmp, path)
    except (OSError, SafetensorError) as e:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        if path.parent not in _warned_unwritable:
            _warned_unwritable.add(path.parent)
            reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
            warnings.warn(f"not caching decoded data: cannot write to {path.parent} ({reason}); set CLASSICNETS_CACHE to a writable folder", DataWarning, stacklevel=2)
