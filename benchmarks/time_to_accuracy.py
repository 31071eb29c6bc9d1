"""Wall time to a target test accuracy, training with the project's own ``classicnets train``.

* lenet5_modern on MNIST, target 99.0% (batch 128, one-cycle to lr 0.1, 2.5 epochs, label
  smoothing 0.1, chosen on the validation split by ``lenet_schedule.py``);
* resnet20 on CIFAR-10 with ``--recipe resnet-cifar-fast``, target 91.25% (the paper's 8.75%
  error). Where the run ends first, it reports the accuracy reached and the time spent.

Each run is a fixed schedule chosen in advance: nothing is chosen on the test set. The headline is
the test error of the weights the run fixes (the best checkpoint on the validation split where
there is one; for the ResNet recipe, which trains on all 50,000 images, the last weights),
measured once at the end with ``classicnets.train.evaluate`` (one view of each 32x32 test image,
as ``classicnets eval``). "Time to target" is the training wall clock (evaluations included) of the first logged
point whose test accuracy reached the target; the test accuracy in the log is only reported.
Run it on an idle machine: a second process on 2 cores slows training many times over.

    python benchmarks/time_to_accuracy.py --data-dir ../shared/data [--cases lenet5_modern resnet20]
        [--resnet-epochs N] [--out runs/tta]
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

from classicnets.train import evaluate

CASES = {
    "lenet5_modern": {
        "target": 0.99,
        "args": ["--dataset", "mnist", "--batch-size", "128", "--lr", "0.1", "--iterations", "1073",
                 "--label-smoothing", "0.1", "--eval-every", "150"],  # chosen by lenet_schedule.py
    },
    "resnet20": {"target": 0.9125, "args": ["--dataset", "cifar10", "--recipe", "resnet-cifar-fast"]},
}  # fmt: skip


def run_case(name: str, data_dir: str, out: Path, extra: list[str], tag: str = "", fresh: bool = False) -> dict:
    """Train (or, when ``run`` holds a cut-off run of the same command, resume) and report."""
    case = CASES[name]
    run = out / (name + tag)
    cmd = [sys.executable, "-m", "classicnets", "train", name, *case["args"], *extra, "--data-dir", data_dir,
           "--out", str(run), "--no-progress"]  # fmt: skip
    if fresh and run.exists():
        shutil.rmtree(run)
    if (run / "last.state.pt").exists():
        cmd += ["--resume", str(run)]  # the same command, continued where it stopped
    shown = "classicnets " + shlex.join(cmd[3:])
    print(f"$ {shown}", flush=True)
    start = time.perf_counter()
    done = subprocess.run(cmd, stderr=subprocess.PIPE, text=True)
    if done.returncode and "already finished" not in done.stderr:
        raise SystemExit(f"{shown} failed: {done.stderr.strip()}")
    total = time.perf_counter() - start
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    hit = next((r for r in records if r.get("test_error") is not None and 1 - r["test_error"] >= case["target"]), None)
    final = records[-1]
    chosen = evaluate(run, data_dir=data_dir)  # best.safetensors (validation), else last; one view per test image
    vals = [r["val_error"] for r in records if r.get("val_error") is not None]
    result = {
        "model": name, "command": shown, "target": case["target"], "process_wall_s": total,
        "train_wall_s": final["wall_time"], "final_test_accuracy": 1 - final["test_error"],
        "best_val_error": min(vals) if vals else None,
        "time_to_target_s": hit["wall_time"] if hit else None, "epochs_to_target": hit["epoch"] if hit else None,
        "fixed_weights_test_error": chosen.error, "fixed_weights": "best on validation" if vals else "last",
    }  # fmt: skip
    print(f"{name}: the {result['fixed_weights']} weights have test error {chosen.error:.2%} "
          f"({round(chosen.error * chosen.count)}/{chosen.count}), one view of each test image")
    if hit:
        print(f"{name}: reached {case['target']:.2%} test accuracy at {hit['wall_time']:.1f} s "
              f"(epoch {hit['epoch']:.2f}); process wall time {total:.1f} s, "
              f"final test accuracy {result['final_test_accuracy']:.2%}")  # fmt: skip
    else:
        print(f"{name}: did NOT reach {case['target']:.2%}; reached {result['final_test_accuracy']:.2%} "
              f"(best {1 - min(r['test_error'] for r in records if r.get('test_error') is not None):.2%}) "
              f"in {final['wall_time']:.1f} s of training, {total:.1f} s process wall time")  # fmt: skip
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default="../shared/data")
    ap.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    ap.add_argument("--resnet-epochs", type=int, help="override the recipe's epochs (default: the recipe's)")
    ap.add_argument("--out", default="runs/tta", type=Path)
    ap.add_argument("--fresh", action="store_true", help="delete earlier runs in --out instead of resuming them")
    ap.add_argument("--compare-fp32", action="store_true",
                    help="also run each case in NCHW fp32, to show the fast settings reach the same accuracy")
    args = ap.parse_args()
    results = []
    for name in args.cases:
        extra = ["--epochs", str(args.resnet_epochs)] if name == "resnet20" and args.resnet_epochs else []
        results.append(run_case(name, args.data_dir, args.out, extra, fresh=args.fresh))
        if args.compare_fp32:
            slow = run_case(name, args.data_dir, args.out, [*extra, "--precision", "fp32", "--no-channels-last"], "-fp32",
                            fresh=args.fresh)
            results.append(slow)
            print(f"{name}: fast path {results[-2]['final_test_accuracy']:.2%} vs NCHW fp32 "
                  f"{slow['final_test_accuracy']:.2%} final test accuracy; training time "
                  f"{results[-2]['train_wall_s']:.1f} s vs {slow['train_wall_s']:.1f} s")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
