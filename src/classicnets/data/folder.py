"""Image-folder datasets (``folder:PATH``), in torchvision's ImageFolder layout, read into uint8 tensors.

- Layout: ``PATH/<class>/**/<file>``; or ``PATH/train/<class>/...`` and ``PATH/test/<class>/...``.
  Without ``train/`` and ``test/``, a stratified 20% of each class is held out as the test split,
  with a FIXED seed (0), so the test split never changes between runs.
- Classes: the sorted subfolder names, as ImageFolder, except that hidden entries (names starting
  with ".") are ignored. Files are read recursively, sorted by path.
- Size: when every image has the same (H, W), that size; otherwise 64 x 64 (shorter side resized to
  64, then center crop). ``image_size=`` overrides it.
- Channels: 1 when every image is grayscale (modes 1, L, LA, I, I;16, F), else 3.
- Every file is tried (the extension does not matter). Files that cannot be decoded (corrupt,
  truncated, not an image) are SKIPPED, and the loader reports ONE warning that counts them and names
  one, e.g. "skipped 3 unreadable files in PATH (e.g. cat/x.jpg)". An empty folder, no class
  subfolders, a single class, or a class with no readable training image is a ``DataError``.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from PIL import Image

from ..errors import DataError, DataNotFoundError
from .core import RawData, TensorSplit, hold_out
from .image import GRAY_MODES, load_image, oriented_size, pair

TEST_FRACTION = 0.2
HOLD_OUT_SEED = 0
DEFAULT_SIZE = 64


def class_dirs(root: Path) -> list[str]:
    """Sorted names of the non-hidden subfolders of ``root``."""
    with os.scandir(root) as entries:
        return sorted(e.name for e in entries if e.is_dir() and not e.name.startswith("."))


def walk_files(root: Path) -> list[Path]:
    """Every non-hidden file under ``root`` (recursively, following links), sorted by path."""
    found = []
    for d, subdirs, files in os.walk(root, followlinks=True):
        subdirs[:] = [s for s in subdirs if not s.startswith(".")]
        found.extend(Path(d) / f for f in files if not f.startswith("."))
    return sorted(found)


def split_roots(path: Path) -> dict[str, Path]:
    """``{"train": ..., "test": ...}`` for a train/test layout, ``{"train": path}`` for a single folder."""
    if not path.is_dir():
        raise DataNotFoundError(f"folder dataset {path} not found (no such directory)")
    has = {s: (path / s).is_dir() for s in ("train", "test")}
    if has["train"] != has["test"]:
        there, missing = ("train", "test") if has["train"] else ("test", "train")
        raise DataError(f"{path} has {there}/ but no {missing}/: give both, or neither (then 20% of each class is held out for test)")
    return {s: path / s for s in has} if has["train"] else {"train": path}


def read_image_folder(path: Path, image_size: int | tuple[int, int] | None = None) -> RawData:
    roots = split_roots(path)
    classes = class_dirs(roots["train"])
    if not classes:
        raise DataError(f"{roots['train']} has no class subfolders (expected {roots['train']}/<class>/<image files>)")
    if len(classes) == 1:
        raise DataError(f"{roots['train']} has a single class ({classes[0]!r}); a classifier needs at least 2")
    if "test" in roots and (extra := sorted(set(class_dirs(roots["test"])) - set(classes))):
        raise DataError(f"{roots['test']} has class {extra[0]!r} which {roots['train']} lacks")

    skipped: list[Path] = []
    files: dict[str, list[tuple[Path, int]]] = {}
    sizes, gray = set(), True
    for split, root in roots.items():
        files[split] = []
        for label, cls in enumerate(classes):
            for f in walk_files(root / cls) if (root / cls).is_dir() else []:
                try:
                    with Image.open(f) as img:
                        sizes.add(oriented_size(img))
                        gray = gray and img.mode in GRAY_MODES
                except Exception:  # noqa: BLE001  (not an image: PIL raises many types)
                    skipped.append(f)
                    continue
                files[split].append((f, label))
    if not sizes:
        raise DataError(f"{path} has no readable images")
    if image_size is not None:
        size = pair(image_size)
    else:
        size = sizes.pop() if len(sizes) == 1 else (DEFAULT_SIZE, DEFAULT_SIZE)
    chans = 1 if gray else 3

    splits = {}
    for split, items in files.items():
        images, labels = [], []
        for f, label in items:
            try:
                images.append(load_image(f, chans, size))
            except DataError:
                skipped.append(f)
                continue
            labels.append(label)
        if not images:
            raise DataError(f"{roots[split]} has no readable images")
        splits[split] = TensorSplit(torch.stack(images), torch.tensor(labels, dtype=torch.int64))

    empty = sorted(set(range(len(classes))) - set(splits["train"].labels.tolist()))
    if empty:
        raise DataError(f"{roots['train'] / classes[empty[0]]} has no readable images")
    if "test" in splits:
        train, test = splits["train"], splits["test"]
    else:
        train, test = hold_out(splits["train"], TEST_FRACTION, HOLD_OUT_SEED, "test hold-out")
        if len(test) == 0:
            raise DataError(f"{path} has too few images to hold out a test split ({len(train)})")
    warning = ""
    if skipped:
        s = "" if len(skipped) == 1 else "s"
        warning = f"skipped {len(skipped)} unreadable file{s} in {path} (e.g. {skipped[0].relative_to(path)})"
    return RawData(classes, train, test, warning)
