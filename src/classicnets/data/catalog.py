"""Datasets by name: discovery, download on request, the tensor cache, and the validation split.

Names: ``mnist``, ``fashion-mnist``, ``cifar10``, ``cifar100``, ``digits`` and ``folder:PATH``
(PATH relative to the current folder). Validation splits are carved from the official training
data with ``split_seed`` (stratified): 5000 images for MNIST, Fashion-MNIST and CIFAR (CIFAR:
He et al.'s 45k/5k), 10% for digits and folders; ``val_size`` overrides (a count or a fraction,
0 for none). The test split is always the official one (digits, single folders: a fixed hold-out).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from ..errors import ConfigError, DataError, UnknownNameError
from . import cifar
from .cache import cached, fingerprint
from .core import DataWarning, ImageData, RawData, channel_stats, hold_out
from .digits import digits_source, read_digits
from .discovery import Format, candidate_dirs, locate, not_found, search_roots
from .download import download as fetch
from .folder import read_image_folder, split_roots, walk_files
from .idx import find_idx_files, read_idx_dataset

LISTING = "classicnets train --help"  # where dataset names are listed (--dataset), for unknown-name errors
FOLDER_PREFIX = "folder:"
FOLDER_VAL_SIZE = 0.1


@dataclass(frozen=True)
class NamedDataset:
    name: str
    aliases: tuple[str, ...]  # folder names it may live under in a root
    formats: tuple[Format, ...]  # by preference
    val_size: int | float
    hint: str  # how to get it, for the not-found message
    refuse: Callable[[Path], None] | None = None  # raises on an unsafe copy found in a candidate folder


def _idx_files(folder: Path) -> dict[str, Path]:
    files = find_idx_files(folder)
    if files is None:
        raise DataError(f"{folder}: the four IDX files are no longer there")
    return files


def _idx_format(classes: list[str]) -> Format:
    return Format(
        probe=lambda d: d if find_idx_files(d) is not None else None,
        sources=lambda d: list(_idx_files(d).values()),
        read=lambda d: read_idx_dataset(_idx_files(d), classes),
    )


def _cifar_formats(spec: cifar.CifarSpec) -> tuple[Format, ...]:
    return (  # lossless official binary first, then the ImageFolder tree, then a tar of it
        Format(partial(cifar.probe_binary, spec), partial(cifar.binary_sources, spec), partial(cifar.read_binary, spec)),
        Format(partial(cifar.probe_folder, spec), cifar.folder_sources, partial(cifar.read_folder, spec)),
        Format(partial(cifar.probe_tar, spec), lambda p: [p], partial(cifar.read_tar, spec)),
    )


def _hint(folder: str, extra: str = "") -> str:
    return f"get it with --download (download=True), or --data-dir PATH where PATH holds {folder}{extra}"


FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
NAMED = {
    d.name: d
    for d in (
        NamedDataset("mnist", ("mnist", "MNIST"), (_idx_format([str(i) for i in range(10)]),), 5000,
                     _hint("mnist/ with its 4 IDX files")),
        NamedDataset("fashion-mnist", ("fashion-mnist", "FashionMNIST", "fashion_mnist"), (_idx_format(FASHION_CLASSES),), 5000,
                     _hint("fashion-mnist/ with its 4 IDX files", ", or apt install dataset-fashion-mnist")),
        NamedDataset("cifar10", ("cifar10", "cifar-10", "CIFAR10"), _cifar_formats(cifar.CIFAR10), 5000,
                     _hint("cifar-10-batches-bin/, cifar10/{train,test}/<class>/ or cifar10/cifar10.tar"),
                     partial(cifar.refuse_pickle, cifar.CIFAR10)),
        NamedDataset("cifar100", ("cifar100", "cifar-100", "CIFAR100"), _cifar_formats(cifar.CIFAR100), 5000,
                     _hint("cifar-100-binary/ or cifar100/{train,test}/<class>/"),
                     partial(cifar.refuse_pickle, cifar.CIFAR100)),
    )
}


def list_datasets() -> list[str]:
    """Dataset names; any ImageFolder tree also loads as ``folder:PATH``."""
    return [*NAMED, "digits"]


def _named(name: str) -> NamedDataset:
    key = name.strip().lower()
    if key not in NAMED:
        raise UnknownNameError.nearest("dataset", name, list_datasets(), LISTING)
    return NAMED[key]


def _foreign(spec: NamedDataset) -> frozenset[str]:
    return frozenset(a.lower() for d in NAMED.values() if d is not spec for a in (d.name, *d.aliases))


def find_data(name: str, data_dir: str | os.PathLike[str] | None = None) -> Path | None:
    """Where ``name`` would be read from (file or folder), or None; discovery only, nothing is read."""
    key = name.strip()
    if key.startswith(FOLDER_PREFIX):
        path = Path(key[len(FOLDER_PREFIX) :]).expanduser().resolve()
        return path if path.is_dir() else None
    if key.lower() == "digits":
        return digits_source()
    spec = _named(key)
    found = locate(search_roots(data_dir), spec.aliases, _foreign(spec), spec.formats)
    return None if found is None else found[1]


def _locate(spec: NamedDataset, data_dir: str | os.PathLike[str] | None, download: bool) -> tuple[Format, Path]:
    roots = search_roots(data_dir)
    found = locate(roots, spec.aliases, _foreign(spec), spec.formats)
    if found is None and download:
        target = Path(data_dir).expanduser() if data_dir is not None else Path.home() / ".cache" / "classicnets"
        fetch(spec.name, target)
        found = locate([target], spec.aliases, _foreign(spec), spec.formats)
    if found is None:
        if spec.refuse is not None:
            for root in roots:
                for d in candidate_dirs(root, spec.aliases, _foreign(spec)):
                    if d.is_dir():
                        spec.refuse(d)
        raise not_found(spec.name, roots, spec.hint)
    return found


@dataclass(frozen=True)
class _Plan:
    """How to read one dataset, and what identifies its source for the tensor cache."""

    name: str  # ImageData.name
    source: Path  # what is read, for logs
    val_size: int | float  # the default validation split
    read: Callable[[], RawData]
    files: Callable[[], list[Path]]  # the source files, for the cache checksum
    root: Path  # the checksum names files relative to it
    options: str = ""  # reading options that change the tensors


def _plan(name: str, data_dir: str | os.PathLike[str] | None, download: bool, image_size: int | tuple[int, int] | None) -> _Plan:
    key = name.strip()
    if key.startswith(FOLDER_PREFIX):
        path = Path(key[len(FOLDER_PREFIX) :]).expanduser().resolve()
        split_roots(path)  # fail early on a missing folder or a half train/test layout
        return _Plan(f"{FOLDER_PREFIX}{path}", path, FOLDER_VAL_SIZE, partial(read_image_folder, path, image_size),
                     partial(walk_files, path), path, f"image_size={image_size}")
    if image_size is not None:
        raise ConfigError(f"image_size applies to folder datasets only; use ImageData.fit_to(size) for {name!r}")
    if key.lower() == "digits":
        source = digits_source()
        return _Plan("digits", source, FOLDER_VAL_SIZE, read_digits, lambda: [source], source.parent)
    spec = _named(key)
    fmt, found = _locate(spec, data_dir, download)
    return _Plan(spec.name, found, spec.val_size, partial(fmt.read, found), partial(fmt.sources, found),
                 found if found.is_dir() else found.parent)


def load_dataset(
    name: str,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = False,
    val_size: int | float | None = None,
    split_seed: int = 0,
    cache: bool = True,
    image_size: int | tuple[int, int] | None = None,
) -> ImageData:
    """Load a dataset by name (see ``list_datasets``) into uint8 tensors, with train/val/test splits.

    ``data_dir`` is searched first (see ``search_roots``); ``download=True`` fetches a missing
    dataset; ``cache=False`` neither reads nor writes the tensor cache; ``image_size`` (folder
    datasets only) sets the common size images are converted to.
    """
    plan = _plan(name, data_dir, download, image_size)
    if cache:
        slug = f"folder-{plan.source.name}" if plan.name.startswith(FOLDER_PREFIX) else plan.name
        raw = cached(slug, fingerprint(plan.files(), plan.root, plan.options), plan.read)
    else:
        raw = plan.read()
    if raw.warning:
        warnings.warn(raw.warning, DataWarning, stacklevel=2)
    train, val = hold_out(raw.train, plan.val_size if val_size is None else val_size, split_seed, "val_size")
    mean, std = channel_stats(train.images)
    return ImageData(plan.name, raw.classes, train, val, raw.test, mean, std, str(plan.source))
