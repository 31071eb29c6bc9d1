"""Training throughput: classicnets' loop against a textbook PyTorch loop, side by side in one run.

For each case (lenet5_modern on MNIST, resnet20 on CIFAR-10) it times a steady-state training
epoch, data loading AND the end-of-epoch evaluation included:

* textbook: NCHW fp32, a torchvision dataset whose every sample goes through PIL transforms
  (pad/crop/flip, ToTensor, Normalize) in a DataLoader with the usual 2 workers, SGD momentum;
  after the epoch, the test set is evaluated through a DataLoader the same way;
* classicnets: ``classicnets.train.train`` itself (uint8 tensor cache, whole-batch augmentation,
  channels_last, bf16 autocast where the CPU has it, fused SGD, no host sync per step; for
  resnet20 also ``--compile``), evaluating validation and test at the end of each epoch.

Both run 2 epochs and the second is timed (the first pays for worker start-up and compilation).
Images/s counts training images over the epoch's whole wall time. Since 2026-12-06 each side
runs in a fresh process of its own, so that neither inherits the memory, threads or compiled
code the other left behind (before, both ran in this process, the textbook loop first).

Then each side runs once more as a user would start it, in a fresh process: one epoch and its test
evaluation, Python's start-up, imports and data loading included (``classicnets train NAME
--epochs 1`` with its defaults chosen by this CPU, against the textbook loop's script, which
keeps glibc's malloc as it comes). Images/s counts the training images over the process's wall time.

It also measures the step alone: the training FLOPs of one image (``torch.utils.flop_counter``)
times the step's images/s, against the machine's bf16 and fp32 matmul peaks measured in the same
run (MFU). And it prints the ceiling that arithmetic sets on the whole command: its FLOPs (the
training images forward and backward, the test images forward) done at that measured matmul
rate with nothing else costing time, as images/s and as a multiple of the textbook's figure.
Where that multiple is under 2, 2x the textbook needs every FLOP of the command, batch norms,
data and evaluation included, at more than the rate of a large matrix product.

    python benchmarks/train_speed.py --data-dir ../shared/data [--cases resnet20 lenet5_modern resnet56]
        [--textbook-only]

``--textbook-only`` times the textbook loop's steady epoch alone (no classicnets side, no ratio):
the rate that turns a paper's schedule into the textbook's hours on this machine, for a network
whose classicnets figures come from its own training log (ResNet-56's, about 15 minutes).
"""

from __future__ import annotations

import argparse
import gzip
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import torchvision
from PIL import Image
from torch.utils.data import DataLoader
from torchvision import transforms as T

import classicnets as cn
from classicnets.data import load_dataset
from classicnets.train import make_config, read_metrics, train
from classicnets.train.device import choose_precision, cpu_description, keep_freed_memory
from classicnets.train.loop import training_flops_per_image

CASES = {
    "lenet5_modern": {"dataset": "mnist", "crop": 0, "flip": False, "size": 32, "compile": False},
    "resnet20": {"dataset": "cifar10", "crop": 4, "flip": True, "size": 32, "compile": True},
    "resnet56": {"dataset": "cifar10", "crop": 4, "flip": True, "size": 32, "compile": True},
}
BATCH = 128


def textbook_datasets(name: str, data_dir: Path, work: Path) -> tuple[torch.utils.data.Dataset, torch.utils.data.Dataset]:
    """Training and test sets as a textbook builds them: torchvision's classes over files, PIL transforms."""
    ds = load_dataset(name, data_dir)  # only for its mean/std, the same statistics as ours
    norm = T.Normalize(ds.mean, ds.std)
    if name == "mnist":
        raw = work / "MNIST" / "raw"
        raw.mkdir(parents=True, exist_ok=True)
        for f in (data_dir / "mnist").glob("*.gz"):
            with gzip.open(f) as src, open(raw / f.stem, "wb") as dst:
                shutil.copyfileobj(src, dst)
        tf = T.Compose([T.Pad(2), T.ToTensor(), norm])  # LeNet: 28 -> 32 as the paper
        return (torchvision.datasets.MNIST(str(work), train=True, transform=tf),
                torchvision.datasets.MNIST(str(work), train=False, transform=tf))  # fmt: skip
    # torchvision.datasets.CIFAR10's way: the uint8 arrays in memory, a PIL image per sample
    train_tf = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.ToTensor(), norm])
    full = load_dataset(name, data_dir, val_size=0)  # all 50,000 training images, as torchvision's class
    return ArraysAsPIL(full.train, train_tf), ArraysAsPIL(full.test, T.Compose([T.ToTensor(), norm]))


class ArraysAsPIL(torch.utils.data.Dataset):
    """A split's uint8 images held in memory as HWC arrays, each sample made a PIL image and
    transformed, as ``torchvision.datasets.CIFAR10.__getitem__`` does."""

    def __init__(self, split, transform) -> None:
        self.images = split.images.permute(0, 2, 3, 1).contiguous().numpy()
        self.labels = split.labels.tolist()
        self.transform = transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        return self.transform(Image.fromarray(self.images[i])), self.labels[i]


def textbook(model_name: str, train_set, test_set, in_chans: int, epochs: int = 2) -> tuple[float, float]:
    """Two epochs of the textbook loop, each followed by a test evaluation; returns (training
    images/s of the last epoch, evaluation included; test error)."""
    torch.manual_seed(0)
    model = cn.create_model(model_name, num_classes=10, in_chans=in_chans)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    loader = DataLoader(train_set, batch_size=BATCH, shuffle=True, num_workers=2, drop_last=True)
    rate, error = 0.0, 1.0
    for _ in range(epochs):
        start, seen = time.perf_counter(), 0
        model.train()
        for x, y in loader:
            loss = torch.nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            seen += len(y)
        model.eval()
        wrong = 0
        with torch.no_grad():
            for x, y in DataLoader(test_set, batch_size=256, num_workers=2):
                wrong += int((model(x).argmax(1) != y).sum())
        error = wrong / len(test_set)
        rate = seen / (time.perf_counter() - start)
    return rate, error


def channels_of(case: dict) -> int:
    return 1 if case["dataset"] == "mnist" else 3


def textbook_once(model_name: str, data_dir: Path, epochs: int = 1) -> tuple[float, float]:
    """The textbook loop as its own script: ``epochs`` epochs, each followed by the test set (one
    for ``whole_commands``); returns ``textbook``'s figures."""
    case = CASES[model_name]
    with tempfile.TemporaryDirectory() as tmp:
        train_set, test_set = textbook_datasets(case["dataset"], data_dir, Path(tmp))
        return textbook(model_name, train_set, test_set, channels_of(case), epochs=epochs)


def steady_once(model_name: str, side: str, data_dir: Path) -> None:
    """One side's two-epoch measurement in this (fresh) process; prints its figures as JSON."""
    keep_freed_memory()  # as classicnets.train does; the textbook loop gets the same allocator
    if side == "textbook":
        rate, error = textbook_once(model_name, data_dir, epochs=2)
        print(json.dumps({"rate": rate, "error": error}))
        return
    with tempfile.TemporaryDirectory() as tmp:
        rate, step_rate, error = ours(model_name, CASES[model_name], data_dir, Path(tmp))
    print(json.dumps({"rate": rate, "step_rate": step_rate, "error": error}))


def steady(model_name: str, side: str, data_dir: Path) -> dict:
    """``steady_once`` in a fresh process: the figures it printed."""
    cmd = [sys.executable, __file__, "--data-dir", str(data_dir), "--steady-once", model_name, side]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed: {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout.splitlines()[-1])


def trained_images(case: dict, data_dir: Path, val_size: int | None = None) -> int:
    """Training images in one epoch of whole batches (``val_size=0``: all of them, as the one-epoch commands)."""
    return len(load_dataset(case["dataset"], data_dir, val_size=val_size).train) // BATCH * BATCH


def whole_commands(model_name: str, case: dict, data_dir: Path, work: Path) -> tuple[float, float, str]:
    """One epoch and its evaluation as fresh processes, start-up included; returns (textbook
    images/s, classicnets images/s, the first line classicnets printed: what it chose here)."""
    images = trained_images(case, data_dir, val_size=0)
    book_cmd = [sys.executable, __file__, "--data-dir", str(data_dir), "--textbook-once", model_name]
    flip = ["--hflip"] if case["flip"] else []
    ours_cmd = [sys.executable, "-m", "classicnets", "train", model_name, "--dataset", case["dataset"], "--epochs", "1",
                "--batch-size", str(BATCH), "--crop-padding", str(case["crop"]), *flip, "--val-size", "0",
                "--data-dir", str(data_dir), "--out", str(work / f"whole-{model_name}"), "--no-progress"]  # fmt: skip
    rates, said = [], ""
    for cmd in (book_cmd, ours_cmd):
        start = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode:
            raise SystemExit(f"{' '.join(cmd)} failed: {done.stderr.strip()[-500:]}")
        rates.append(images / (time.perf_counter() - start))
        said = done.stdout.splitlines()[0] if done.stdout else said
    return rates[0], rates[1], said


def ours(model_name: str, case: dict, data_dir: Path, work: Path) -> tuple[float, float, float]:
    """Two epochs of ``classicnets.train``; returns (training images/s of the second epoch, its
    evaluation included; the step-only images/s of that epoch; test error)."""
    out = work / f"ours-{model_name}"
    cfg = make_config(model_name, case["dataset"], str(out), data_dir=str(data_dir), epochs=2, batch_size=BATCH,
                      crop_padding=case["crop"], hflip=case["flip"], compile=case["compile"], progress=False)  # fmt: skip
    result = train(cfg)
    first, second = read_metrics(out / "metrics.jsonl")[-2:]
    images = trained_images(case, data_dir)
    return images / (second["wall_time"] - first["wall_time"]), float(second["images_per_s"]), float(result.test_error)


def whole_command_ceiling(model_name: str, case: dict, data_dir: Path, rate: float) -> float:
    """Images/s of ``whole_commands``' classicnets run if its every FLOP ran at ``rate`` FLOP/s
    and nothing else took time: the training images forward and backward, the test set forward."""
    channels, size = channels_of(case), (case["size"], case["size"])
    images, tested = trained_images(case, data_dir, val_size=0), len(load_dataset(case["dataset"], data_dir).test)
    forward = 2 * cn.summary(cn.create_model(model_name, num_classes=10, in_chans=channels), (channels, *size)).totals.macs
    flops = images * training_flops_per_image(model_name, channels, size, num_classes=10) + tested * forward
    return images / (flops / rate)


def matmul_peak(dtype: torch.dtype, n: int = 2048, reps: int = 20) -> float:
    """Measured FLOP/s of a large square matrix product."""
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    for _ in range(3):
        a @ b
    start = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * n**3 * reps / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default="../shared/data", type=Path)
    ap.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    ap.add_argument("--textbook-once", choices=list(CASES), help=argparse.SUPPRESS)  # the whole-command textbook run
    ap.add_argument("--steady-once", nargs=2, metavar=("CASE", "SIDE"), help=argparse.SUPPRESS)  # one side's 2 epochs
    ap.add_argument("--textbook-only", action="store_true", help="time the textbook loop's steady epoch alone")
    args = ap.parse_args()
    if args.textbook_once:
        textbook_once(args.textbook_once, args.data_dir)
        return
    if args.steady_once:
        return steady_once(*args.steady_once, args.data_dir)
    used = choose_precision(torch.device("cpu"))  # what classicnets trains in here
    print(f"machine: {cpu_description() or platform.processor()}; classicnets trains in {used} here; "
          f"{torch.get_num_threads()} threads, torch {torch.__version__}, torchvision {torchvision.__version__}")  # fmt: skip
    # bf16 is emulated where the CPU has no bf16 units (hundreds of times slower): not timed there
    peak = {"fp32": matmul_peak(torch.float32), **({"bf16": matmul_peak(torch.bfloat16)} if used == "bf16" else {})}
    print("measured matmul rate (2048 x 2048): " + ", ".join(f"{k} {v / 1e9:.0f} GFLOP/s" for k, v in peak.items()))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name in args.cases:
            case = CASES[name]
            book_side = steady(name, "textbook", args.data_dir)
            if args.textbook_only:
                print(f"{name} on {case['dataset']}, one epoch with its evaluation: textbook {book_side['rate']:,.0f} img/s "
                      f"(test error {book_side['error']:.2%} after 2 epochs); the paper's 64k iterations of batch {BATCH} "
                      f"at that rate: {64_000 * BATCH / book_side['rate']:,.0f} s")  # fmt: skip
                continue
            our_side = steady(name, "ours", args.data_dir)
            book, book_err = book_side["rate"], book_side["error"]
            mine, step_rate, mine_err = our_side["rate"], our_side["step_rate"], our_side["error"]
            print(f"{name} on {case['dataset']}, one epoch with its evaluation: textbook {book:,.0f} img/s "
                  f"(test error {book_err:.2%} after 2 epochs), classicnets {mine:,.0f} img/s "
                  f"(test error {mine_err:.2%}); ratio {mine / book:.2f}x")  # fmt: skip
            flops = training_flops_per_image(name, channels_of(case), (case["size"], case["size"]), num_classes=10)
            achieved = flops * step_rate
            print(f"  the step alone: {step_rate:,.0f} img/s x {flops / 1e6:.1f} MFLOP/image = "
                  f"{achieved / 1e9:.0f} GFLOP/s = {achieved / peak[used]:.1%} of the {used} matmul rate measured above"
                  + (f" ({achieved / peak['fp32']:.1%} of fp32)" if used != "fp32" else ""))  # fmt: skip
            book_whole, mine_whole, said = whole_commands(name, case, args.data_dir, work)
            print(f"  one epoch as a whole command, start-up and evaluation included: textbook {book_whole:,.0f} img/s, "
                  f"classicnets {mine_whole:,.0f} img/s; ratio {mine_whole / book_whole:.2f}x ({said})")  # fmt: skip
            ceiling = whole_command_ceiling(name, case, args.data_dir, peak[used])
            print(f"  the most this CPU's {used} arithmetic allows for that command (all its FLOPs at the matmul rate "
                  f"above, nothing else): {ceiling:,.0f} img/s, {ceiling / book_whole:.2f}x the textbook; "
                  f"classicnets ran at {mine_whole / ceiling:.0%} of it; 2x the textbook needs every FLOP at "
                  f"{2 * book_whole / ceiling:.0%} of that rate")  # fmt: skip


if __name__ == "__main__":
    main()
