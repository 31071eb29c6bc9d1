"""Kill and resume: trainings SIGKILLed at random moments, restarted, and compared bit for bit.

One uninterrupted reference run, then N runs of the same configuration (lenet5_modern on digits,
batch 32, a checkpoint every 10 steps, one thread), each SIGKILLed 1 to --kills times at moments
drawn uniformly (seeded) over the reference process's wall time, start-up included. After each
kill the run is restarted: with ``--resume`` once it has a training state, from scratch before.
After every kill, every checkpoint file in the run folder must load and the last weights must
match the training state (as ``--resume`` finds them); at the end, the run's last and best weights
must equal the reference's tensor for tensor (``torch.equal``), and its metrics log too (timings
aside).

    python benchmarks/kill_resume.py [--runs 10] [--kills 3] [--iterations 300] [--seed 0] [--out DIR]

Prints one line per run, then "N runs, K survived intact (bit-identical)"; exits 1 unless all did.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from classicnets.errors import CheckpointError
from classicnets.train import read_metrics, read_weights
from classicnets.train.checkpoint import BEST, LAST, STATE, load_training_state, read_state

TRAIN = ["lenet5_modern", "--dataset", "digits", "--batch-size", "32", "--eval-every", "10", "--threads", "1",
         "--no-progress"]  # fmt: skip
TIMING = ("images_per_s", "wall_time")  # metrics that differ between identical runs
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def command(run: Path, iterations: int) -> list[str]:
    """The command that continues ``run``: resume it once it has a training state, else start it."""
    if (run / STATE).exists():
        return [sys.executable, "-m", "classicnets", "train", "--resume", str(run)]
    return [sys.executable, "-m", "classicnets", "train", *TRAIN, "--iterations", str(iterations), "--out", str(run)]


def finish(run: Path, iterations: int) -> str | None:
    """Run ``run`` to its end; the error's last line if that fails."""
    proc = subprocess.run(command(run, iterations), env=ENV, capture_output=True, text=True, check=False)
    return None if proc.returncode == 0 else (proc.stderr.strip().splitlines() or ["no output"])[-1]


def check_files(run: Path) -> str | None:
    """Every checkpoint file loads, and the last weights match the state; the problem if not."""
    try:
        for name in (LAST, BEST):
            if (run / name).exists():
                read_weights(run / name)
        if (run / STATE).exists():
            load_training_state(run)  # what --resume does: finishes a pending save, checks the pair
    except CheckpointError as e:
        return str(e)
    return None


def saved_step(run: Path) -> int | None:
    """The step of the run's training state, None before the first checkpoint."""
    return read_state(run / STATE)["step"] if (run / STATE).exists() else None


def killed_run(run: Path, iterations: int, kills: int, span: float, rng: random.Random) -> tuple[list[str], str | None]:
    """Train into ``run``, SIGKILLing it up to ``kills`` times (not once its last step is saved), then to
    the end: (what happened, problem)."""
    events: list[str] = []
    for _ in range(kills):
        if saved_step(run) == iterations:
            return events, None
        delay = rng.uniform(0, span)
        proc = subprocess.Popen(command(run, iterations), env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        else:
            events.append(f"ended before its kill at {delay:.1f}s")
            return events, None if proc.returncode == 0 else f"exit status {proc.returncode}"
        problem = check_files(run)
        if problem is not None:
            return [*events, f"killed at {delay:.1f}s"], f"after a kill: {problem}"
        step = saved_step(run)
        events.append(f"killed at {delay:.1f}s ({'no checkpoint yet' if step is None else f'checkpoint at step {step}'})")
    return events, None if saved_step(run) == iterations else finish(run, iterations)


def same_run(run: Path, reference: Path) -> str | None:
    """How ``run`` differs from ``reference`` (weights bit for bit, metrics without timings), or None."""
    for name in (LAST, BEST):
        mine, theirs = read_weights(run / name)[0], read_weights(reference / name)[0]
        if mine.keys() != theirs.keys() or not all(torch.equal(mine[k], theirs[k]) for k in mine):
            return f"{name} differs from the reference"

    def records(folder: Path) -> list[dict[str, Any]]:
        return [{k: v for k, v in r.items() if k not in TIMING} for r in read_metrics(folder)]

    return None if records(run) == records(reference) else "metrics.jsonl differs from the reference"


def main() -> int:
    parser = argparse.ArgumentParser(description="SIGKILL trainings at random moments, resume them, compare bit for bit.")
    parser.add_argument("--runs", type=int, default=10, help="killed runs (default 10)")
    parser.add_argument("--kills", type=int, default=3, help="at most this many kills per run (default 3)")
    parser.add_argument("--iterations", type=int, default=300, help="optimizer steps per run (default 300)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the kill moments (default 0)")
    parser.add_argument("--out", type=Path, help="folder for the runs (default: a temporary folder)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        reference = out / "reference"
        start = time.perf_counter()
        problem = finish(reference, args.iterations)
        span = time.perf_counter() - start
        if problem is not None:
            sys.exit(f"the reference run failed: {problem}")
        print(f"reference: {args.iterations} steps, {span:.1f}s from process start to end; kills drawn in [0, {span:.1f}]s")
        intact = 0
        for i in range(args.runs):
            events, problem = killed_run(out / f"run{i}", args.iterations, rng.randint(1, args.kills), span, rng)
            problem = problem or same_run(out / f"run{i}", reference)
            intact += problem is None
            print(f"run {i}: {'; '.join(events)} -> {'bit-identical' if problem is None else 'FAILED: ' + problem}")
        print(f"{args.runs} runs, {intact} survived intact (bit-identical)")
    return 0 if intact == args.runs else 1


if __name__ == "__main__":
    sys.exit(main())
