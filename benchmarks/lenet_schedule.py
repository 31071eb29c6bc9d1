"""Choose LeNet-5's short MNIST schedule on the validation split, never on the test set.

Issue #22 asks for 99.0% test accuracy in 8 s of training with a schedule fixed in advance, on a
CPU without bf16 units too, where every step runs in fp32. This trains each candidate below in
fp32 (``--precision fp32``, the arithmetic of such a CPU) with several seeds, logging only once, at
the end, and prints each candidate's validation error (the 5,000 images held out of the 60,000) as
mean and spread over the seeds, with its steps and its training time. The candidate to adopt is the
shortest one whose mean validation error is at most ``--target-val`` (default 1.0%: these
5,000 images are harder than the test set, and a 3-epoch run with 1.00% validation error had
0.77% test error in docs/benchmarks.md), or, where none is, the one with the lowest mean
validation error; nothing here reads the test error. ``time_to_accuracy.py`` then runs the
adopted schedule once and reports its test accuracy. Run it on an idle machine.

    python benchmarks/lenet_schedule.py --data-dir ../shared/data [--seeds 0 1 2] [--out runs/lenet-schedule]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

# name: optimizer steps and the options that differ from the defaults: batch 128, peak lr 0.1,
# one-cycle, Nesterov momentum 0.9, weight decay 5e-4, no label smoothing.
CANDIDATES: dict[str, tuple[int, dict[str, str]]] = {
    "lr0.1-1073": (1073, {}),  # time_to_accuracy.py's schedule until 2026-12-06: 2.5 epochs
    "lr0.1-860": (860, {}),
    "lr0.2-860": (860, {"lr": "0.2"}),
    "lr0.05-1073": (1073, {"lr": "0.05"}),
    "lr0.05-860": (860, {"lr": "0.05"}),
    "lr0.1-1073-ls0.1": (1073, {"label-smoothing": "0.1"}),
    "lr0.1-860-ls0.1": (860, {"label-smoothing": "0.1"}),
    "lr0.1-1073-wd1e-4": (1073, {"weight-decay": "1e-4"}),
}


def args_of(steps: int, options: dict[str, str]) -> list[str]:
    """The ``classicnets train`` options of a candidate, logging once, at its last step."""
    chosen = {"batch-size": "128", "lr": "0.1", **options}
    return [*(w for k, v in chosen.items() for w in (f"--{k}", v)), "--iterations", str(steps),
            "--eval-every", str(steps), "--no-log-epochs"]  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default="../shared/data")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--candidates", nargs="+", default=list(CANDIDATES), choices=list(CANDIDATES))
    ap.add_argument("--target-val", type=float, default=0.010, help="the adopted schedule's mean validation error")
    ap.add_argument("--out", default="runs/lenet-schedule", type=Path)
    args = ap.parse_args()
    rows = []
    for name in args.candidates:
        steps, options = CANDIDATES[name]
        vals, times = [], []
        for seed in args.seeds:
            run = args.out / f"{name}-seed{seed}"
            if not (run / "metrics.jsonl").exists():
                cmd = [sys.executable, "-m", "classicnets", "train", "lenet5_modern", "--dataset", "mnist",
                       *args_of(steps, options), "--precision", "fp32", "--seed", str(seed),
                       "--test-eval", "end", "--data-dir", args.data_dir, "--out", str(run), "--no-progress"]  # fmt: skip
                done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                if done.returncode:
                    raise SystemExit(f"{name} seed {seed} failed: {done.stderr.strip()}")
            last = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])
            vals.append(last["val_error"])
            times.append(last["wall_time"])
        spread = statistics.stdev(vals) if len(vals) > 1 else 0.0
        rows.append({"name": name, "steps": steps, "val_error_mean": statistics.mean(vals), "val_error_std": spread,
                     "val_errors": vals, "train_wall_s": statistics.mean(times)})  # fmt: skip
        print(f"{name:22} {steps:5} steps  validation error {statistics.mean(vals):.2%} +- {spread:.2%} "
              f"({', '.join(f'{v:.2%}' for v in vals)})  {statistics.mean(times):.1f} s of training", flush=True)
    good = [r for r in rows if r["val_error_mean"] <= args.target_val]
    if good:
        pick = min(good, key=lambda r: (r["steps"], r["val_error_mean"]))
        print(f"adopt {pick['name']}: the shortest with mean validation error <= {args.target_val:.2%}")
    else:
        pick = min(rows, key=lambda r: r["val_error_mean"])
        print(f"no candidate reaches a mean validation error of {args.target_val:.2%}; "
              f"adopt {pick['name']}, the lowest")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
