"""The in-memory dataset types: uint8 tensor splits and the dataset record built from them.

Every dataset ends up as uint8 ``N x C x H x W`` images with int64 labels, held whole in memory
(the largest, CIFAR, is 180 MB). ``stratified_order`` is the one seeded selection used for the
validation split, the digits/folder test hold-outs and ``TensorSplit.subset``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from ..errors import ConfigError
from .image import fit_size, pair, to_channels


class DataWarning(UserWarning):
    """Something about the data the user should know, that does not stop loading."""


@dataclass
class TensorSplit:
    """One split: ``images`` uint8 N x C x H x W (contiguous), ``labels`` int64 N."""

    images: torch.Tensor
    labels: torch.Tensor

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.dim() != 4:
            raise ValueError(f"images must be uint8 N x C x H x W, got {self.images.dtype} {tuple(self.images.shape)}")
        if self.labels.dtype != torch.int64 or self.labels.shape != (len(self.images),):
            raise ValueError(f"labels must be int64 of shape ({len(self.images)},), got {self.labels.dtype} {tuple(self.labels.shape)}")
        self.images = self.images.contiguous()
        self.labels = self.labels.contiguous()

    def __len__(self) -> int:
        return len(self.labels)

    def select(self, index: np.ndarray) -> TensorSplit:
        t = torch.from_numpy(index)
        return TensorSplit(self.images[t], self.labels[t])

    def subset(self, n: int, seed: int = 0) -> TensorSplit:
        """``n`` samples (all if fewer) chosen class-proportionally with ``seed``, in their original order."""
        if n < 0:
            raise ConfigError(f"subset size must be >= 0, got {n}")
        return self.select(np.sort(stratified_order(self.labels, seed)[:n]))


@dataclass
class RawData:
    """A dataset as read from disk: the official train and test splits (what the tensor cache stores)."""

    classes: list[str]
    train: TensorSplit
    test: TensorSplit
    warning: str = ""  # e.g. skipped files; re-emitted on every load, cached or not


@dataclass
class ImageData:
    """A dataset ready for training: train/val carved from the official training data, the official test."""

    name: str
    classes: list[str]
    train: TensorSplit
    val: TensorSplit
    test: TensorSplit
    mean: tuple[float, ...]  # per channel, of train, in [0, 1] units
    std: tuple[float, ...]
    source: str = ""  # where it was read from, for logs

    @property
    def in_chans(self) -> int:
        return int(self.train.images.shape[1])

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def image_size(self) -> tuple[int, int]:
        return int(self.train.images.shape[2]), int(self.train.images.shape[3])

    def fit_to(self, size: int | tuple[int, int], in_chans: int | None = None) -> ImageData:
        """Adapt the uint8 images to a model's input once (see ``image.fit_size`` / ``image.to_channels``).

        Channels first (1 -> 3 repeats, 3 -> 1 is PIL's "L" luma), then size: zero padding when the
        target is larger by an even margin in both dims and less than twice as large (MNIST 28 ->
        LeNet 32: 2 px of background on each side, as LeCun did), a resize otherwise. 32 -> 64 is
        resized, not padded. Mean and std are recomputed on train.
        """
        chans = self.in_chans if in_chans is None else in_chans
        if chans not in (1, 3):
            raise ConfigError(f"in_chans must be 1 or 3, got {chans}")
        if chans == self.in_chans and pair(size) == self.image_size:
            return replace(self)

        def fit(split: TensorSplit) -> TensorSplit:
            return TensorSplit(fit_size(to_channels(split.images, chans), size), split.labels)

        train = fit(self.train)
        mean, std = channel_stats(train.images)
        return replace(self, train=train, val=fit(self.val), test=fit(self.test), mean=mean, std=std)


def channel_stats(images: torch.Tensor) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Exact per-channel mean and (population) std of uint8 images, in [0, 1] units."""
    if len(images) == 0:
        raise ValueError("cannot compute mean/std of an empty split")
    values = torch.arange(256, dtype=torch.float64)
    means, stds = [], []
    for c in range(images.shape[1]):
        hist = torch.bincount(images[:, c].reshape(-1), minlength=256).double()
        n = hist.sum()
        mean = (hist * values).sum() / n
        var = (hist * (values - mean) ** 2).sum() / n
        means.append(float(mean) / 255)
        stds.append(float(var.sqrt()) / 255)
    return tuple(means), tuple(stds)


def stratified_order(labels: torch.Tensor, seed: int) -> np.ndarray:
    """A seeded permutation of ``range(len(labels))`` whose every prefix is class-proportional.

    Each sample gets its fractional position within its own class (in a seeded shuffle); sorting by
    it interleaves the classes, so the first k indices hold about k * n_c / n samples of class c.
    (numpy does the sorting: single-threaded, it stays fast on a busy machine.)
    """
    n = len(labels)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).numpy()
    lab = labels.numpy()[perm]
    counts = np.bincount(lab)
    by_class = np.argsort(lab, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[by_class] = np.arange(n) - (np.cumsum(counts) - counts)[lab[by_class]]
    position = (rank + 0.5) / counts[lab]
    return perm[np.argsort(position, kind="stable")]


def resolve_count(size: int | float, n: int, what: str) -> int:
    """A count from an int (0..n-1) or a fraction in [0, 1) of ``n``."""
    if isinstance(size, bool) or not isinstance(size, (int, float)):
        raise ConfigError(f"{what} must be a count or a fraction, got {size!r}")
    if isinstance(size, float):
        if not 0.0 <= size < 1.0:
            raise ConfigError(f"{what} as a fraction must be in [0, 1), got {size}")
        return round(size * n)
    if not 0 <= size < n:
        raise ConfigError(f"{what} must be between 0 and {n - 1} (the split has {n} samples), got {size}")
    return size


def hold_out(split: TensorSplit, size: int | float, seed: int, what: str) -> tuple[TensorSplit, TensorSplit]:
    """Split into (rest, held_out), the held-out part stratified and seeded; both keep the original order."""
    k = resolve_count(size, len(split), what)
    order = stratified_order(split.labels, seed)
    return split.select(np.sort(order[k:])), split.select(np.sort(order[:k]))

