"""The data path: decoding into the uint8 tensor cache, loading from it, and whole-batch
augmentation, against torchvision's per-sample transforms on the same images.

    python benchmarks/data_pipeline.py --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import torch
from torchvision.transforms import v2 as T

from classicnets.data import Augment, BatchLoader, load_dataset


def timed(fn):  # noqa: ANN001, ANN201 - a tiny helper for this script
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default="../shared/data", type=Path)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        os.environ["CLASSICNETS_CACHE"] = cache  # a cold cache
        for name in ("mnist", "cifar10"):
            _, cold = timed(lambda: load_dataset(name, args.data_dir))
            ds, warm = timed(lambda: load_dataset(name, args.data_dir))
            print(f"{name}: first load (decode + write cache) {cold:.2f} s, from the cache {warm:.2f} s")
    loader = BatchLoader(ds.train, 128, mean=ds.mean, std=ds.std, shuffle=True, augment=Augment(4, True), seed=0)
    _, ours = timed(lambda: sum(len(y) for _, y in loader.epoch(0)))
    print(f"cifar10 train ({len(ds.train):,} images): classicnets batched crop+flip+normalise {ours:.2f} s per epoch")
    ref = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.ToDtype(torch.float32, scale=True),
                     T.Normalize(ds.mean, ds.std)])  # fmt: skip
    n = 5000
    _, per_sample = timed(lambda: [ref(img) for img in ds.train.images[:n]])
    print(f"torchvision v2 per-sample transforms on uint8 tensors: {per_sample * len(ds.train) / n:.2f} s per epoch "
          f"(extrapolated from {n:,} images); ratio {per_sample * len(ds.train) / n / ours:.0f}x")  # fmt: skip


if __name__ == "__main__":
    main()
