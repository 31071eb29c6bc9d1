"""Batches as whole tensors, deterministic by (seed, epoch, batch index), with batched augmentation.

``BatchLoader`` holds a split's uint8 tensors (on ``device``), and for each batch gathers the
samples, augments them as a batch, then normalizes. No per-sample Python, no worker processes.

- Order: epoch ``e``'s permutation comes from a generator seeded with (seed, e); with
  ``world_size > 1`` rank ``r`` takes positions ``r, r + world_size, ...`` of it (disjoint shards).
  With ``drop_last=True`` the permutation is first cut to a multiple of ``world_size``, so every
  rank has the same number of batches (what DDP training needs); with ``drop_last=False`` the
  shards cover every sample once (for evaluation) and may differ by one batch.
- Augmentation of batch ``b`` comes from a generator seeded with (seed, epoch, rank, b), so
  ``epoch(e, start=k)`` resumes mid-epoch with no saved RNG state, and the global RNG is untouched.
  It reproduces torchvision's ``RandomCrop(size, padding=p, fill=0)`` (offsets uniform in [0, 2p]
  per axis, independently) and ``RandomHorizontalFlip(0.5)``: each batch is zero-padded once, then
  every image's crop (and flip) is gathered with one index tensor.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import ConfigError
from .core import TensorSplit

Stats = Sequence[float] | torch.Tensor
_ORDER, _AUGMENT = 0, 1  # generator streams


@dataclass(frozen=True)
class Augment:
    crop_padding: int = 0  # random crop of the original size after zero-padding this many px per side
    hflip: bool = False  # random horizontal flip with p = 0.5

    def __post_init__(self) -> None:
        if self.crop_padding < 0:
            raise ConfigError(f"crop_padding must be >= 0, got {self.crop_padding}")

    @property
    def active(self) -> bool:
        return self.crop_padding > 0 or self.hflip


def preprocess(images_u8: torch.Tensor, mean: Stats, std: Stats) -> torch.Tensor:
    """uint8 (N x) C x H x W -> float32 ``(x / 255 - mean) / std``, as ToTensor + Normalize compute it."""
    if images_u8.dtype != torch.uint8:
        raise TypeError(f"preprocess expects uint8 images, got {images_u8.dtype}")
    c = images_u8.shape[-3]
    if len(mean) != c or len(std) != c:
        raise ConfigError(f"mean/std have {len(mean)}/{len(std)} values for {c}-channel images")
    m = torch.as_tensor(mean, dtype=torch.float32, device=images_u8.device).view(-1, 1, 1)
    s = torch.as_tensor(std, dtype=torch.float32, device=images_u8.device).view(-1, 1, 1)
    return images_u8.float().div_(255).sub_(m).div_(s)


def seeded_generator(*words: int) -> torch.Generator:
    """A CPU generator whose seed mixes ``words`` (numpy's SeedSequence), for independent streams."""
    seed = int(np.random.SeedSequence(list(words)).generate_state(1, dtype=np.uint64)[0])
    return torch.Generator().manual_seed(seed)


def random_crop_flip(images: torch.Tensor, padding: int, hflip: bool, generator: torch.Generator) -> torch.Tensor:
    """Per image of a uint8 N x C x H x W batch: a random H x W crop of the zero-padded image, then a flip (p=0.5)."""
    n, c, h, w = images.shape
    dev = images.device
    oy = torch.randint(0, 2 * padding + 1, (n,), generator=generator).to(dev)
    ox = torch.randint(0, 2 * padding + 1, (n,), generator=generator).to(dev)
    flip = (torch.rand(n, generator=generator) < 0.5).to(dev) if hflip else torch.zeros(n, dtype=torch.bool, device=dev)
    cols = torch.arange(w, device=dev)
    cols = ox[:, None] + torch.where(flip[:, None], w - 1 - cols, cols)  # n x w, in padded coordinates
    rows = oy[:, None] + torch.arange(h, device=dev)  # n x h
    padded = F.pad(images, (padding,) * 4)
    # one gather over each flattened padded plane, the same pixel index for every channel
    pixel = (rows[:, :, None] * padded.shape[3] + cols[:, None, :]).view(n, 1, h * w)
    return padded.view(n, c, -1).gather(2, pixel.expand(n, c, h * w)).view(n, c, h, w)


class BatchLoader:
    """Batches ``(x, y)`` of a split: x float32 normalized N x C x H x W (optionally channels_last), y int64."""

    def __init__(
        self,
        split: TensorSplit,
        batch_size: int,
        *,
        mean: Stats,
        std: Stats,
        shuffle: bool = False,
        augment: Augment | None = None,
        seed: int = 0,
        drop_last: bool = False,
        channels_last: bool = False,
        device: str | torch.device = "cpu",
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        if world_size < 1 or not 0 <= rank < world_size:
            raise ConfigError(f"rank must be in [0, world_size), got rank {rank}, world_size {world_size}")
        if seed < 0:
            raise ConfigError(f"seed must be >= 0, got {seed}")
        self.device = torch.device(device)
        self.images = split.images.to(self.device)
        self.labels = split.labels.to(self.device)
        c = self.images.shape[1]
        if len(mean) != c or len(std) != c:
            raise ConfigError(f"mean/std have {len(mean)}/{len(std)} values for {c}-channel images")
        self.mean = torch.as_tensor(mean, dtype=torch.float32, device=self.device)
        self.std = torch.as_tensor(std, dtype=torch.float32, device=self.device)
        self.batch_size, self.shuffle, self.seed, self.drop_last = batch_size, shuffle, seed, drop_last
        self.augment = augment if augment is not None and augment.active else None
        self.channels_last, self.rank, self.world_size = channels_last, rank, world_size

    def _shard_size(self) -> int:
        n, ws = len(self.labels), self.world_size
        return n // ws if self.drop_last else len(range(self.rank, n, ws))

    def __len__(self) -> int:
        per_rank = self._shard_size()
        return per_rank // self.batch_size if self.drop_last else math.ceil(per_rank / self.batch_size)

    def order(self, epoch: int) -> torch.Tensor:
        """This rank's sample indices for ``epoch``, in batch order."""
        n = len(self.labels)
        perm = torch.randperm(n, generator=seeded_generator(self.seed, _ORDER, epoch)) if self.shuffle else torch.arange(n)
        if self.drop_last:
            perm = perm[: n - n % self.world_size]
        return perm[self.rank :: self.world_size]

    def epoch(self, epoch: int, start: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """The batches of ``epoch``, from batch index ``start`` (to resume mid-epoch)."""
        if epoch < 0 or not 0 <= start <= len(self):
            raise ConfigError(f"epoch must be >= 0 and start in [0, {len(self)}], got epoch {epoch}, start {start}")
        return self._batches(epoch, start)

    def _batches(self, epoch: int, start: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        order = self.order(epoch).to(self.device)
        bs = self.batch_size
        for b in range(start, len(self)):
            idx = order[b * bs : (b + 1) * bs]
            x = self.images[idx]
            if self.augment is not None:
                g = seeded_generator(self.seed, _AUGMENT, epoch, self.rank, b)
                x = random_crop_flip(x, self.augment.crop_padding, self.augment.hflip, g)
            x = preprocess(x, self.mean, self.std)
            if self.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            yield x, self.labels[idx]

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        return self.epoch(0)
