"""Training throughput: classicnets' loop against a textbook PyTorch loop, in the same process run.

For each case (lenet5_modern on MNIST, resnet20 on CIFAR-10) it measures images/s over one
training epoch, data loading included:

* textbook: NCHW fp32, a torchvision dataset whose every sample goes through PIL transforms
  (pad/crop/flip, ToTensor, Normalize) in a DataLoader with the usual 2 workers, SGD momentum;
* classicnets: ``classicnets.train.train`` itself for one epoch (uint8 tensor cache, whole-batch
  augmentation, channels_last, bf16 autocast where the CPU has it); images/s is read from its
  metrics log (training steps, data included; the end-of-epoch evaluation excluded).

It prints the ratio, and the share of the machine's measured matmul peak (bf16 and fp32) that our
training step reaches (MFU), counting the model's training FLOPs with torch.utils.flop_counter.

    python benchmarks/train_speed.py --data-dir ../shared/data [--repeats 3] [--cases resnet20]
"""

from __future__ import annotations

import argparse
import gzip
import platform
import shutil
import statistics
import tarfile
import tempfile
import time
from pathlib import Path

import torch
import torchvision
from torch.utils.data import DataLoader
from torch.utils.flop_counter import FlopCounterMode
from torchvision import transforms as T

import classicnets as cn
from classicnets.data import load_dataset
from classicnets.train import choose_precision, make_config, read_metrics, train

CASES = {
    "lenet5_modern": {"dataset": "mnist", "crop": 0, "flip": False, "size": 32},
    "resnet20": {"dataset": "cifar10", "crop": 4, "flip": True, "size": 32},
}
BATCH = 128


def textbook_dataset(name: str, data_dir: Path, work: Path) -> torch.utils.data.Dataset:
    """The dataset as a textbook builds it: torchvision's class over files on disk, PIL transforms."""
    ds = load_dataset(name, data_dir)  # only for its mean/std, the same statistics as ours
    norm = T.Normalize(ds.mean, ds.std)
    if name == "mnist":
        raw = work / "MNIST" / "raw"
        raw.mkdir(parents=True, exist_ok=True)
        for f in (data_dir / "mnist").glob("*.gz"):
            with gzip.open(f) as src, open(raw / f.stem, "wb") as dst:
                shutil.copyfileobj(src, dst)
        tf = T.Compose([T.Pad(2), T.ToTensor(), norm])  # LeNet: 28 -> 32 as the paper
        return torchvision.datasets.MNIST(str(work), train=True, transform=tf)
    with tarfile.open(data_dir / "cifar10" / "cifar10-jpeg.tar") as tar:
        tar.extractall(work / "cifar10", filter="data")
    tf = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.ToTensor(), norm])
    return torchvision.datasets.ImageFolder(str(work / "cifar10" / "train"), transform=tf)


def textbook_epoch(model_name: str, dataset: torch.utils.data.Dataset, in_chans: int) -> float:
    """One epoch of the textbook loop; returns images/s."""
    torch.manual_seed(0)
    model = cn.create_model(model_name, num_classes=10, in_chans=in_chans)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    loader = DataLoader(dataset, batch_size=BATCH, shuffle=True, num_workers=2, drop_last=True)
    model.train()
    seen, start = 0, time.perf_counter()
    for x, y in loader:
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        seen += len(y)
    return seen / (time.perf_counter() - start)


def ours_epoch(model_name: str, case: dict, data_dir: Path, work: Path, tag: str) -> tuple[float, str]:
    """One epoch of ``classicnets.train``; returns images/s (from its log) and the precision."""
    out = work / f"ours-{model_name}-{tag}"
    cfg = make_config(model_name, case["dataset"], str(out), data_dir=str(data_dir), epochs=1, batch_size=BATCH,
                      crop_padding=case["crop"], hflip=case["flip"], progress=False, val_size=1000)  # fmt: skip
    train(cfg)
    return float(read_metrics(out / "metrics.jsonl")[-1]["images_per_s"]), choose_precision(torch.device("cpu"))


def matmul_peak(dtype: torch.dtype, n: int = 2048, reps: int = 10) -> float:
    """Measured FLOP/s of a large square matrix product."""
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    for _ in range(3):
        a @ b
    start = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * n**3 * reps / (time.perf_counter() - start)


def train_flops_per_image(model_name: str, in_chans: int, size: int) -> float:
    """Forward + backward FLOPs of one image, counted by torch.utils.flop_counter."""
    model = cn.create_model(model_name, num_classes=10, in_chans=in_chans)
    x = torch.randn(8, in_chans, size, size)
    with FlopCounterMode(display=False) as counter:
        model(x).sum().backward()
    return counter.get_total_flops() / 8


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default="../shared/data", type=Path)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    args = ap.parse_args()
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())  # fmt: skip
    print(f"machine: {cpu}, {torch.get_num_threads()} threads, torch {torch.__version__}, "
          f"torchvision {torchvision.__version__}")  # fmt: skip
    peak = {"bf16": matmul_peak(torch.bfloat16), "fp32": matmul_peak(torch.float32)}
    print(f"measured matmul peak: bf16 {peak['bf16'] / 1e9:.1f} GFLOP/s, fp32 {peak['fp32'] / 1e9:.1f} GFLOP/s")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name in args.cases:
            case = CASES[name]
            in_chans = 1 if case["dataset"] == "mnist" else 3
            book_ds = textbook_dataset(case["dataset"], args.data_dir, work / "book")
            book, ours = [], []
            for r in range(args.repeats):
                book.append(textbook_epoch(name, book_ds, in_chans))
                ips, precision = ours_epoch(name, case, args.data_dir, work, str(r))
                ours.append(ips)
                print(f"  {name} run {r + 1}: textbook {book[-1]:,.0f} img/s, classicnets {ours[-1]:,.0f} img/s")
            b, o = statistics.median(book), statistics.median(ours)
            flops = train_flops_per_image(name, in_chans, case["size"])
            achieved = flops * o
            print(f"{name} on {case['dataset']}: textbook {b:,.0f} img/s, classicnets {o:,.0f} img/s "
                  f"(median of {args.repeats}), ratio {o / b:.2f}x; precision {precision}")  # fmt: skip
            print(f"  training FLOPs/image {flops / 1e6:.1f} M -> {achieved / 1e9:.1f} GFLOP/s = "
                  f"{achieved / peak['bf16']:.1%} of the bf16 matmul peak, {achieved / peak['fp32']:.1%} of fp32")  # fmt: skip


if __name__ == "__main__":
    main()
