"""Where ResNet-20's CIFAR-10 points go: one short budget, one seed, one change at a time.

Every variant trains resnet20 for ``--epochs`` (default 15) on the same 45k/5k split with the same
seed, and changes ONE thing against the base run ``ours``:

* the pipeline: ``ours`` is ``classicnets train`` (uint8 tensor cache, whole-batch augmentation,
  channels_last, bf16 autocast, torch.compile); ``textbook-fp32`` is the textbook loop
  (torchvision ``ImageFolder`` over the PNG files, per-sample ``RandomCrop(32, padding=4)``,
  ``RandomHorizontalFlip``, ``ToTensor``, ``Normalize`` in a 2-worker ``DataLoader``, NCHW fp32,
  ``torch.optim.SGD``) with the same recipe and learning-rate function; ``textbook-bf16`` is that
  loop with our arithmetic (bf16 autocast, channels_last), so it isolates the data pipeline;
* the arithmetic: ``ours-fp32``;
* the data: ``data-jpeg`` trains and tests on CIFAR-10 after one JPEG generation at quality 75
  with 4:2:0 chroma, the settings of the JPEG copy that earlier figures of this project were
  measured on: what that copy cost;
* the recipe: cosine instead of one-cycle, the paper's weight decay 1e-4, no Nesterov, batch 512,
  label smoothing 0.1, and the paper's step schedule (lr / 10 at 50% and 75%, wd 1e-4, no Nesterov);
* the seed: ``ours-seed1``, the base with another seed, to show the noise.

The base recipe is one-cycle (peak lr 0.1), batch 128, SGD Nesterov momentum 0.9, weight decay
5e-4, pad-4 crop and flip. Each variant is a folder under ``--out``; a finished variant is not
rerun and an interrupted ``classicnets`` variant resumes (``train --resume``), so the whole
ablation can be stopped and started again. Results: ``OUT/results.json`` and a Markdown table.

    python benchmarks/accuracy_ablation.py --data-dir ../shared/data --out runs/ablation [--only ours ...]
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

BASE = ["--dataset", "cifar10", "--schedule", "onecycle", "--lr", "0.1", "--batch-size", "128",
        "--weight-decay", "5e-4", "--nesterov", "--crop-padding", "4", "--hflip", "--seed", "0",
        "--compile", "--test-eval", "every", "--no-progress"]  # fmt: skip
CIFAR = "cifar10"  # the lossless PNG tree of the official pixels: train/<class>/, test/<class>/


@dataclass(frozen=True)
class Variant:
    what: str  # the one change, in words
    args: tuple[str, ...] = ()  # options added to BASE (the later one wins)
    pipeline: str = "classicnets"  # or "textbook"
    precision: str = "bf16"  # textbook only
    channels_last: bool = True  # textbook only
    data: str = "real"  # or "jpeg"


VARIANTS: dict[str, Variant] = {
    "ours": Variant("base: classicnets fast path, one-cycle"),
    "recipe-cosine": Variant("cosine schedule, no warm-up", ("--schedule", "cosine")),
    "recipe-wd1e-4": Variant("weight decay 1e-4 (the paper's)", ("--weight-decay", "1e-4")),
    "recipe-no-nesterov": Variant("plain momentum (the paper's)", ("--no-nesterov",)),
    "recipe-batch512": Variant("batch 512, peak lr 0.4", ("--batch-size", "512", "--lr", "0.4")),
    "recipe-label-smoothing": Variant("label smoothing 0.1", ("--label-smoothing", "0.1")),
    "recipe-paper-step": Variant(
        "the paper's recipe shape: lr 0.1 / 10 at 50% and 75%, wd 1e-4, no Nesterov",
        ("--schedule", "step", "--milestone-unit", "step", "--weight-decay", "1e-4", "--no-nesterov"),
    ),
    "ours-fp32": Variant("fp32 instead of bf16 autocast", ("--precision", "fp32")),
    "textbook-bf16": Variant("torchvision per-sample pipeline, bf16 + channels_last", pipeline="textbook"),
    "textbook-fp32": Variant("the textbook pipeline: torchvision, fp32, NCHW", pipeline="textbook",
                             precision="fp32", channels_last=False),
    "data-jpeg": Variant("one JPEG generation of the data (quality 75, 4:2:0: the old copy's)", data="jpeg"),
    "ours-seed1": Variant("seed 1 instead of 0 (noise)", ("--seed", "1")),
}


def step_milestones(variant: Variant, epochs: int) -> list[str]:
    """The paper-step variant's milestones (50% and 75% of the run, in steps of batch 128)."""
    if "step" not in variant.args:
        return []
    steps = epochs * (45_000 // 128)
    return ["--milestones", str(steps // 2), str(steps * 3 // 4)]


# ---- data -------------------------------------------------------------------------------------


def jpeg_copy(data_dir: Path, work: Path, quality: int = 75) -> tuple[Path, dict]:
    """CIFAR-10 after one JPEG generation: each image encoded at ``quality`` with 4:2:0 chroma,
    decoded, and stored losslessly (PNG) as ``work/cifar10/{train,test}/<class>/*.png``. Returns the
    data folder and the generation's PSNR against the official pixels."""
    from PIL import Image

    stats_file = work / "jpeg.json"
    if stats_file.is_file():
        return work, json.loads(stats_file.read_text())
    squared_error, n = 0.0, 0
    for png in sorted((data_dir / CIFAR).glob("*/*/*.png")):
        rgb = np.asarray(Image.open(png).convert("RGB"))
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, "JPEG", quality=quality, subsampling=2)
        decoded = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
        squared_error += float(((decoded.astype(np.float64) - rgb) ** 2).mean())
        dest = work / CIFAR / png.relative_to(data_dir / CIFAR)
        dest.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(decoded).save(dest)
        n += 1
    stats = {"images": n, "quality": quality, "psnr_db": 10 * np.log10(255**2 / (squared_error / n))}
    stats_file.write_text(json.dumps(stats, indent=2))
    return work, stats


# ---- the two pipelines -----------------------------------------------------------------------


def run_classicnets(name: str, variant: Variant, run: Path, data_dir: Path, epochs: int) -> None:
    """``classicnets train`` (or ``--resume``) in a subprocess, as a user runs it."""
    if (run / "last.state.pt").exists():
        cmd = ["train", "--resume", str(run), "--no-progress"]
    else:
        cmd = ["train", "resnet20", *BASE, "--epochs", str(epochs), *variant.args,
               *step_milestones(variant, epochs), "--data-dir", str(data_dir), "--out", str(run)]  # fmt: skip
    print("$ classicnets " + " ".join(cmd), flush=True)
    subprocess.run([sys.executable, "-m", "classicnets", *cmd], check=True)


def run_textbook(variant: Variant, run: Path, data_dir: Path, epochs: int, seed: int = 0) -> None:
    """The textbook loop, with the base recipe (the same learning-rate function as classicnets)."""
    import torch
    import torchvision
    from torch.utils.data import DataLoader, Subset
    from torchvision import transforms as T

    import classicnets as cn
    from classicnets.data import load_dataset
    from classicnets.data.core import stratified_order
    from classicnets.train import make_config
    from classicnets.train.schedules import schedule_factor

    files = data_dir / CIFAR
    ours = load_dataset("cifar10", data_dir)  # the split and the statistics, as classicnets has them
    norm = T.Normalize(ours.mean, ours.std)
    train_tf = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.ToTensor(), norm])
    full = torchvision.datasets.ImageFolder(str(files / "train"), transform=train_tf)
    labels = torch.tensor(full.targets)
    train_idx = np.sort(stratified_order(labels, 0)[5000:])
    val_idx = np.sort(stratified_order(labels, 0)[:5000])
    plain = torchvision.datasets.ImageFolder(str(files / "train"), transform=T.ToTensor())
    for i in (0, 12345, len(train_idx) - 1):  # the same images in the same order as classicnets' split
        pixels = (plain[int(train_idx[i])][0] * 255).round().byte()
        assert torch.equal(pixels, ours.train.images[i]), "the textbook split differs from classicnets'"
    eval_tf = T.Compose([T.ToTensor(), norm])
    val = Subset(torchvision.datasets.ImageFolder(str(files / "train"), transform=eval_tf), val_idx.tolist())
    test = torchvision.datasets.ImageFolder(str(files / "test"), transform=eval_tf)
    cfg = make_config("resnet20", "cifar10", str(run), epochs=epochs, lr=0.1, batch_size=128, weight_decay=5e-4,
                      nesterov=True, schedule="onecycle")  # fmt: skip
    torch.manual_seed(seed)
    model = cn.create_model("resnet20")
    fmt = torch.channels_last if variant.channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    g = torch.Generator().manual_seed(seed)
    loader = DataLoader(Subset(full, train_idx.tolist()), batch_size=128, shuffle=True, num_workers=2,
                        drop_last=True, generator=g, persistent_workers=True)  # fmt: skip
    per_epoch = len(loader)
    total = per_epoch * epochs
    bf16 = variant.precision == "bf16"

    def error(ds: torch.utils.data.Dataset) -> float:
        model.eval()
        wrong = n = 0
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            for x, y in DataLoader(ds, batch_size=256, num_workers=2):
                wrong += int((model(x.contiguous(memory_format=fmt)).argmax(1) != y).sum())
                n += len(y)
        model.train()
        return wrong / n

    run.mkdir(parents=True, exist_ok=True)
    log = []
    step, start = 0, time.perf_counter()
    for epoch in range(epochs):
        for x, y in loader:
            for group in opt.param_groups:
                group["lr"] = cfg.lr * schedule_factor(cfg, step, per_epoch, total)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss = torch.nn.functional.cross_entropy(model(x.contiguous(memory_format=fmt)), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
        record = {"epoch": epoch + 1, "step": step, "val_error": error(val), "test_error": error(test),
                  "wall_time": time.perf_counter() - start}  # fmt: skip
        log.append(record)
        print(json.dumps(record), flush=True)
    (run / "metrics.json").write_text(json.dumps(log, indent=2))


# ---- results ---------------------------------------------------------------------------------


def final_numbers(run: Path) -> dict | None:
    """The last record's val and test error, epoch and training wall time; None before the first."""
    if (run / "metrics.json").is_file():
        last = json.loads((run / "metrics.json").read_text())[-1]
    elif (run / "metrics.jsonl").is_file():
        records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]
        if not records:
            return None
        last = records[-1]
    else:
        return None
    return {"val_error": last["val_error"], "test_error": last["test_error"], "wall_time_s": last["wall_time"],
            "epochs": round(last["epoch"], 2)}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default="../shared/data", type=Path)
    ap.add_argument("--out", default="runs/ablation", type=Path)
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--only", nargs="+", choices=list(VARIANTS), help="run these variants only")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    names = args.only or list(VARIANTS)
    extra: dict[str, dict] = {}
    for name in names:
        variant, run = VARIANTS[name], args.out / name
        done = final_numbers(run)
        if done is not None and done["epochs"] >= args.epochs:
            print(f"{name}: finished already", flush=True)
            continue
        print(f"== {name}: {variant.what}", flush=True)
        data_dir = args.data_dir
        if variant.data == "jpeg":
            data_dir, extra["jpeg"] = jpeg_copy(args.data_dir, args.out / "data-jpeg")
            print(f"one JPEG generation: {extra['jpeg']}", flush=True)
        if variant.pipeline == "textbook":
            run_textbook(variant, run, args.data_dir, args.epochs)
        else:
            run_classicnets(name, variant, run, data_dir, args.epochs)
    results = {n: {"what": VARIANTS[n].what, **(final_numbers(args.out / n) or {})} for n in VARIANTS}
    results["_data"] = extra
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    base = results["ours"].get("test_error")
    print("| variant | what changes | val error | test error | vs ours (points) | training time |")
    print("| --- | --- | --- | --- | --- | --- |")
    for n in VARIANTS:
        r = results[n]
        if "test_error" not in r:
            continue
        delta = f"{100 * (r['test_error'] - base):+.2f}" if base is not None else "-"
        print(f"| {n} | {r['what']} | {r['val_error']:.2%} | {r['test_error']:.2%} | {delta} | {r['wall_time_s'] / 60:.1f} min |")


if __name__ == "__main__":
    main()
