"""A strict reader for the IDX files of MNIST and Fashion-MNIST, gzipped or not.

Format: big-endian uint32 magic ``0x0000 08 ndim`` (2051 for 3-d uint8 images, 2049 for 1-d uint8
labels), ``ndim`` big-endian uint32 dims, then exactly prod(dims) bytes. Anything else (bad gzip,
short header, wrong magic, zero dims, body too short or too long) raises ``DataError`` naming the file.
"""

from __future__ import annotations

import gzip
import math
import struct
import zlib
from pathlib import Path

import numpy as np
import torch

from ..errors import DataError
from .core import RawData, TensorSplit

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
# role -> file stem; the files may also use "." before "idx" (a common re-upload) and end in ".gz"
IDX_STEMS = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def parse_idx(data: bytes, magic: int, name: str) -> np.ndarray:
    """The uint8 array in an (uncompressed) IDX file's bytes; ``magic`` is 2051 or 2049."""
    kind = "images" if magic == IMAGES_MAGIC else "labels"
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{name}: truncated IDX header ({len(data)} bytes, need {header})")
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        raise DataError(f"{name}: not an IDX {kind} file (magic {found}, expected {magic})")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    if 0 in dims:
        raise DataError(f"{name}: IDX {kind} file with an empty dimension {dims}")
    body, expected = len(data) - header, math.prod(dims)
    if body != expected:
        raise DataError(f"{name}: IDX body is {body} bytes, expected {expected} for dims {dims} (truncated or corrupt)")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def read_idx(path: Path, magic: int) -> np.ndarray:
    """Parse an IDX file from disk, gunzipping it first if it starts with the gzip magic."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror or e})") from None
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as e:
            raise DataError(f"{path}: corrupt gzip data ({' '.join(str(e).split()) or type(e).__name__})") from None
    return parse_idx(data, magic, str(path))


def find_idx_files(folder: Path) -> dict[str, Path] | None:
    """The four IDX files in ``folder`` (uncompressed preferred), or None unless all four are there."""
    found = {}
    for role, stem in IDX_STEMS.items():
        names = [f"{base}{ext}" for ext in ("", ".gz") for base in (stem, stem.replace("-idx", ".idx"))]
        path = next((folder / n for n in names if (folder / n).is_file()), None)
        if path is None:
            return None
        found[role] = path
    return found


def read_idx_dataset(files: dict[str, Path], classes: list[str]) -> RawData:
    """Both splits of an MNIST-like dataset from its four IDX files."""
    splits = []
    for split in ("train", "test"):
        images = read_idx(files[f"{split}_images"], IMAGES_MAGIC)
        labels = read_idx(files[f"{split}_labels"], LABELS_MAGIC)
        if len(images) != len(labels):
            raise DataError(f"{files[f'{split}_images']}: {len(images)} images but {len(labels)} labels in {files[f'{split}_labels']}")
        if labels.max() >= len(classes):
            raise DataError(f"{files[f'{split}_labels']}: label {labels.max()} out of range for {len(classes)} classes")
        splits.append(TensorSplit(torch.from_numpy(images.copy()).unsqueeze(1), torch.from_numpy(labels.astype(np.int64))))
    train, test = splits
    if train.images.shape[1:] != test.images.shape[1:]:
        raise DataError(f"{files['test_images']}: image size {tuple(test.images.shape[2:])} differs from train's {tuple(train.images.shape[2:])}")
    return RawData(classes, train, test)
