"""Stop latency: how long a training run takes to end after SIGTERM, for each shipped network.

A cloud machine gives 30 seconds to 2 minutes of notice. For each network, ``--trials`` runs of
``classicnets train`` on its real dataset, each sent SIGTERM at a moment drawn uniformly (seeded)
over one logging interval after its first checkpoint: some land between logging points (the run
saves the step it is on), some in a logging point's evaluations (cut short; the step is saved
without its record). Measured: seconds from the signal to the process's exit, the step saved,
and where the signal landed; then each run is resumed for a few steps to check that it continues.
The baseline in the same run is the time of one logging point's evaluation (what a stop at the
next logging point would have cost on top of the steps up to it).

    python benchmarks/stop_latency.py --data-dir ../shared/data [--trials 3] [--models lenet5 resnet20]

Runs are eager (``--no-compile``): the signal is read after each step, compiled or not, and the
compilation would only lengthen the wait for the first checkpoint.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from classicnets.train import read_metrics
from classicnets.train.checkpoint import STATE, read_state
from classicnets.train.device import cpu_description

# Each shipped network on its dataset, as shipped (recipe), logging every EVERY steps.
CASES = {
    "lenet5": ["--dataset", "mnist", "--recipe", "lenet5"],
    "lenet5_modern": ["--dataset", "mnist"],
    "resnet20": ["--dataset", "cifar10", "--recipe", "resnet-cifar-fast"],
    "resnet56": ["--dataset", "cifar10", "--recipe", "resnet-cifar-fast"],
}
EVERY = {"lenet5": 400, "lenet5_modern": 400, "resnet20": 40, "resnet56": 20}


def trial(model: str, data_dir: str, out: Path, rng: random.Random) -> dict[str, float | int | str]:
    """One run, SIGTERMed at a random moment of its second logging interval."""
    every = EVERY[model]
    cmd = [sys.executable, "-m", "classicnets", "train", model, *CASES[model], "--data-dir", data_dir, "--out", str(out),
           "--eval-every", str(every), "--no-log-epochs", "--no-compile", "--no-progress", "--iterations", str(20 * every)]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = None
    while proc.poll() is None:
        if (out / STATE).exists():
            first = time.perf_counter()
            break
        time.sleep(0.01)
    if first is None:
        raise SystemExit(f"{model}: the run ended before its first checkpoint: {proc.stderr.read() if proc.stderr else ''}")
    interval = _interval(out, proc)  # seconds between the first and the second checkpoint, measured
    delay = rng.uniform(0, interval)
    time.sleep(delay)
    sent = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=600)
    latency = time.perf_counter() - sent
    step = read_state(out / STATE)["step"]
    logged = {int(r["step"]) for r in read_metrics(out)}
    where = "a logging point (its evaluations cut)" if step % every == 0 and step not in logged else (
        "just after a checkpoint" if step in logged else "between logging points")  # fmt: skip
    return {"latency_s": latency, "step": step, "where": where, "status": proc.returncode, "interval_s": interval,
            "error": err.strip().splitlines()[-1] if proc.returncode not in (143,) and err.strip() else ""}  # fmt: skip


def _interval(out: Path, proc: subprocess.Popen[str]) -> float:
    """Wait for the second checkpoint; the seconds since the first."""
    start, first_step = time.perf_counter(), read_state(out / STATE)["step"]
    while proc.poll() is None:
        try:
            if read_state(out / STATE)["step"] > first_step:
                return time.perf_counter() - start
        except Exception:  # noqa: BLE001 - a state being replaced: read it again
            pass
        time.sleep(0.01)
    raise SystemExit("the run ended before its second checkpoint")


def resumes(out: Path) -> bool:
    """The stopped run continues: a short resume (to its next logging point) succeeds and logs it;
    a logging point that the stop cut short is logged first, at the same step."""
    step = read_state(out / STATE)["step"]
    proc = subprocess.run([sys.executable, "-m", "classicnets", "train", "--resume", str(out), "--stop-after", "0.001s",
                           "--no-progress"], capture_output=True, text=True, check=False)  # fmt: skip
    logged = [int(r["step"]) for r in read_metrics(out)]
    return proc.returncode == 0 and bool(logged) and logged[-1] >= step and len(logged) == len(set(logged))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--models", nargs="+", default=list(CASES), choices=list(CASES))
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, help="also write the measurements here")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    print(f"machine: {cpu_description()}")
    found = {}
    with tempfile.TemporaryDirectory() as tmp:
        for model in args.models:
            rows = []
            for i in range(args.trials):
                out = Path(tmp) / f"{model}-{i}"
                row = trial(model, args.data_dir, out, rng)
                row["resumes"] = resumes(out)
                rows.append(row)
                print(f"{model} trial {i}: SIGTERM {row['latency_s']:.2f} s before exit (status {row['status']}), "
                      f"step {row['step']} saved, {row['where']}; resumes: {row['resumes']}", flush=True)  # fmt: skip
            lat = [float(r["latency_s"]) for r in rows]
            interval = statistics.median(float(r["interval_s"]) for r in rows)
            print(f"{model}: exit {statistics.median(lat):.2f} s median, {max(lat):.2f} s at most after SIGTERM; "
                  f"a logging interval of {EVERY[model]} steps took {interval:.1f} s, evaluations included "
                  f"(stopping at the next logging point would cost up to that, {interval / max(lat):.1f}x the worst "
                  "stop measured)")  # fmt: skip
            found[model] = rows
    if args.json:
        args.json.write_text(json.dumps(found, indent=1))


if __name__ == "__main__":
    main()
