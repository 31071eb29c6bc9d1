"""scikit-learn's bundled 8 x 8 handwritten digits, made to look like MNIST; works offline everywhere.

1797 images with values 0..16 are scaled to 0..255 (x * 255 / 16, rounded) and upsampled to 28 x 28
(antialiased bilinear). scikit-learn defines no train/test split, so we hold out a stratified 20%
for test with a FIXED seed (0): 1438 train, 359 test images, the same in every run.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import torch
from torchvision.transforms.v2 import functional as TF

from .core import RawData, TensorSplit, hold_out

SIZE = 28
TEST_FRACTION = 0.2
HOLD_OUT_SEED = 0


def digits_source() -> Path:
    """The file scikit-learn reads the digits from (for the cache checksum and logs)."""
    return Path(str(resources.files("sklearn.datasets") / "data" / "digits.csv.gz"))


def read_digits() -> RawData:
    from sklearn.datasets import load_digits  # here, not at the top: importing scikit-learn takes ~1 s

    bunch = load_digits()
    pixels = torch.from_numpy(bunch.images).mul(255 / 16).round().to(torch.uint8).unsqueeze(1)
    images = TF.resize(pixels, [SIZE, SIZE], antialias=True)
    labels = torch.from_numpy(bunch.target).to(torch.int64)
    train, test = hold_out(TensorSplit(images, labels), TEST_FRACTION, HOLD_OUT_SEED, "test hold-out")
    return RawData([str(c) for c in range(10)], train, test)
