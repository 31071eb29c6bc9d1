"""The "why it works" page's data: ``experiments.why``'s three measurements on the CIFAR ResNets of
this library and a fixed batch of real CIFAR-10 test images, computed once and cached.

- gradients: plain-N and ResNet-N at initialisation (seed 0), N = 20 and 56, on 128 images;
- ratios: the shipped ResNet-20 on 256 images;
- removals: the shipped ResNet-20 on 500 images; a plain network has no shipped weights yet, and
  the answer says so instead of showing nothing.
The batches are stratified samples of the test split (the same images every time).
"""

from __future__ import annotations

import threading
from dataclasses import asdict
from functools import cached_property
from typing import Any

import torch

from ..data import ImageData, load_dataset, preprocess
from ..errors import DataError, DataNotFoundError
from ..experiments import why
from ..factory import create_model
from ..weights import shipped

DEPTHS = (20, 56)
GRADIENT_IMAGES, RATIO_IMAGES, REMOVAL_IMAGES = 128, 256, 500
TRAINED = "resnet20"  # the trained network the page reads
SEED = 0


class WhyLab:
    """The measurements, over CIFAR-10 found in ``data_dir`` (the usual places otherwise)."""

    def __init__(self, data_dir: str | None) -> None:
        self.data_dir = data_dir
        self._lock = threading.Lock()
        self._cache: dict[str, dict[str, Any]] = {}

    @cached_property
    def data(self) -> ImageData:
        try:
            return load_dataset("cifar10", self.data_dir, val_size=0)
        except DataNotFoundError:
            raise DataError(
                "these measurements need CIFAR-10, which was not found: start the explorer with "
                "--data-dir PATH where PATH holds cifar10/"
            ) from None

    def batch(self, count: int, mean: tuple[float, ...], std: tuple[float, ...]) -> tuple[torch.Tensor, torch.Tensor]:
        sample = self.data.test.subset(count, SEED)
        return preprocess(sample.images, mean, std), sample.labels

    def _cached(self, key: str, compute: Any) -> dict[str, Any]:
        with self._lock:  # one computation at a time: each is a few hundred ms of both cores
            if key not in self._cache:
                self._cache[key] = compute()
            return self._cache[key]

    def gradients(self) -> dict[str, Any]:
        return self._cached("gradients", self._gradients)

    def _gradients(self) -> dict[str, Any]:
        x, y = self.batch(GRADIENT_IMAGES, self.data.mean, self.data.std)
        curves = {}
        for depth in DEPTHS:
            for kind in ("plain", "resnet"):
                torch.manual_seed(SEED)
                model = create_model(f"{kind}{depth}")
                curves[f"{kind}{depth}"] = [asdict(n) for n in why.gradient_norms(model, x, y)]
        return {"images": GRADIENT_IMAGES, "dataset": "cifar10 test", "seed": SEED, "models": curves}

    def _trained(self) -> torch.nn.Module:
        if TRAINED not in shipped():
            raise DataError(f"no trained {TRAINED} ships with this copy of classicnets")
        return create_model(TRAINED, pretrained=True).eval()

    def ratios(self) -> dict[str, Any]:
        return self._cached("ratios", self._ratios)

    def _ratios(self) -> dict[str, Any]:
        model = self._trained()
        x, _ = self.batch(RATIO_IMAGES, model.pretrained_cfg.mean, model.pretrained_cfg.std)
        return {"model": TRAINED, "weights": model.pretrained_cfg.weights, "images": RATIO_IMAGES,
                "blocks": [asdict(r) for r in why.residual_ratios(model, x)]}  # fmt: skip

    def removals(self) -> dict[str, Any]:
        return self._cached("removals", self._removals)

    def _removals(self) -> dict[str, Any]:
        model = self._trained()
        x, y = self.batch(REMOVAL_IMAGES, model.pretrained_cfg.mean, model.pretrained_cfg.std)
        full, rows = why.drop_blocks(model, x, y)
        plain = next((n for n in shipped() if n.startswith("plain")), None)
        return {
            "images": REMOVAL_IMAGES,
            "resnet": {"model": TRAINED, "weights": model.pretrained_cfg.weights, "accuracy": full,
                       "blocks": [asdict(r) for r in rows]},  # fmt: skip
            "plain": None if plain is None else self._plain_removals(plain),
            "plain_note": None if plain is not None else (
                "no trained plain network ships yet (the degradation sweep trains its plain networks for "
                "4,600 iterations only, to compare depths, and keeps their curves, not their weights)"),
        }

    def _plain_removals(self, name: str) -> dict[str, Any]:
        model = create_model(name, pretrained=True).eval()
        x, y = self.batch(REMOVAL_IMAGES, model.pretrained_cfg.mean, model.pretrained_cfg.std)
        full, rows = why.drop_blocks(model, x, y)
        return {"model": name, "weights": model.pretrained_cfg.weights, "accuracy": full,
                "blocks": [asdict(r) for r in rows]}  # fmt: skip
