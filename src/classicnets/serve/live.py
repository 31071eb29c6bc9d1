"""Training live from the explorer: one job at a time for the whole server, the others queued.

A job is ``classicnets train`` with the live plan (``experiments.live``) run as a child process in
a folder of its own, so that the server stays responsive (its own threads keep the other cores) and
a job cannot take the server down. The page follows a job by polling it: its curve is the run's
``metrics.jsonl`` as it grows. Cancelling a running job sends it SIGTERM: the run saves its step and
ends, as a person's Ctrl-C would. The time a job will take is estimated before it starts from what
was measured on this machine: the step time of the network, timed here (``experiments.live.time_step``)
until a job of that network has run, and from then on that job's own times.
"""

from __future__ import annotations

import itertools
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, UnknownNameError, UserError
from ..experiments.live import MAX_STEPS, MIN_STEPS, NETWORKS, RECIPE, check_live, live_dataset, live_options, time_step
from ..train.device import cpu_description
from ..train.metrics import read_metrics
from .curves import PUBLISHED

MAX_QUEUED = 4  # jobs waiting behind the running one; more are refused (429)
KEEP_JOBS = 20  # finished jobs whose curves stay available
LIVE_THREADS = max(1, (os.cpu_count() or 2) - 1)  # the job's share of the cores: one stays with the explorer
DEFAULT_STEPS = 200  # before a smallest visible budget is published; then twice that (``suggested_steps``)
STARTUP_GUESS_S = 10.0  # loading the data and the network, before a job of this server measured it
TEST_IMAGES_GUESS = 10_000


class QueueFull(UserError):
    """Too many jobs are waiting."""


def to_argv(options: dict[str, Any]) -> list[str]:
    """``classicnets train`` options as command-line arguments (``--no-flag`` for a false bool)."""
    argv = []
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            argv.append(flag if value else "--no-" + flag[2:])
        elif value is not None:
            argv += [flag, str(value)]
    return argv


@dataclass
class Job:
    id: str
    network: str
    steps: int
    seed: int
    folder: Path
    argv: list[str]
    estimate: dict[str, Any]
    status: str = "queued"  # queued, running, done, cancelled, failed
    message: str = ""
    submitted: float = field(default_factory=time.time)
    started: float | None = None
    ended: float | None = None
    process: subprocess.Popen[bytes] | None = None
    cancel_asked: bool = False


class LiveTrainer:
    """The queue of live jobs and the worker thread that runs them one at a time."""

    def __init__(self, data_dir: str | None = None, dataset: str | None = None, root: str | Path | None = None,
                 speed_file: str | Path | None = None, threads: int = LIVE_THREADS) -> None:  # fmt: skip
        self.data_dir = data_dir
        self.dataset = dataset or live_dataset(data_dir)
        self.threads = threads
        self._own_root = root is None
        self.root = Path(root) if root is not None else Path(tempfile.mkdtemp(prefix="classicnets-live-"))
        self.speed_file = Path(speed_file) if speed_file is not None else None
        self.speeds = self._read_speeds()  # network -> {"step_s", "startup_s", "end_s", "source"}
        self.jobs: dict[str, Job] = {}
        self.queue: deque[Job] = deque()
        self.running: Job | None = None
        self.lock = threading.Condition()
        self.ids = itertools.count(1)
        self.closed = False
        self.worker = threading.Thread(target=self._work, name="live-training", daemon=True)
        self.worker.start()

    # ---- what the page asks ----

    def info(self) -> dict[str, Any]:
        """The networks, the budgets, the dataset, the published smallest budget and the queue."""
        with self.lock:
            queue = [self._view(j, records=False) for j in ([self.running] if self.running else []) + list(self.queue)]
        finding = published_budget()
        return {"dataset": self.dataset, "networks": list(NETWORKS), "min_steps": MIN_STEPS, "max_steps": MAX_STEPS,
                "default_steps": suggested_steps(finding), "threads": self.threads, "cpu": cpu_description(),
                "budget_finding": finding, "queue": queue,
                "unavailable": None if self.dataset else "live training needs CIFAR-10 (or MNIST) on disk: "
                "classicnets download cifar10, then start the explorer with --data-dir"}  # fmt: skip

    def estimate(self, network: str, steps: int) -> dict[str, Any]:
        """How long a job of ``network`` for ``steps`` iterations takes on this machine, and from
        what that was measured. Times the network's step (a few seconds) the first time it is asked."""
        check_live(network, steps)
        speed = self.speeds.get(network)
        if speed is None:
            step_s = time_step(network, in_chans=3 if self.dataset == "cifar10" else 1, threads=self.threads)
            speed = {"step_s": step_s, "startup_s": STARTUP_GUESS_S, "end_s": step_s * TEST_IMAGES_GUESS / 128 / 3,
                     "source": f"its training step timed by this server ({step_s:.2f} s an iteration); "
                     "loading and the final test pass guessed until a job of it has run"}  # fmt: skip
            with self.lock:
                self.speeds.setdefault(network, speed)
        seconds = speed["startup_s"] + steps * speed["step_s"] + speed["end_s"]
        return {"network": network, "steps": steps, "seconds": seconds, "step_s": speed["step_s"],
                "source": speed["source"], "cpu": cpu_description(), "threads": self.threads}  # fmt: skip

    def submit(self, network: str, steps: int, seed: int = 0) -> dict[str, Any]:
        """Queue a job; its view (``job``). ``QueueFull`` when ``MAX_QUEUED`` wait already."""
        if not self.dataset:
            raise ConfigError(self.info()["unavailable"])
        if not 0 <= seed < 2**31:
            raise ConfigError(f"seed must be 0 to {2**31 - 1}, got {seed}")
        options = live_options(network, steps, seed, self.dataset)
        estimate = self.estimate(network, steps)
        with self.lock:
            if len(self.queue) >= MAX_QUEUED:
                raise QueueFull(f"{len(self.queue)} jobs are waiting already: wait for one to finish, or cancel one")
            job_id = str(next(self.ids))
            folder = self.root / f"job{job_id}"
            runtime = {"data_dir": self.data_dir, "threads": self.threads}
            argv = [network, "--dataset", self.dataset, "--recipe", RECIPE, *to_argv(options | runtime), "--out", str(folder)]
            job = Job(job_id, network, steps, seed, folder, argv, estimate)
            self.jobs[job_id] = job
            self.queue.append(job)
            self._forget_old()
            self.lock.notify_all()
            return self._view(job)

    def job(self, job_id: str) -> dict[str, Any]:
        with self.lock:
            return self._view(self._find(job_id))

    def cancel(self, job_id: str) -> dict[str, Any]:
        """Take a queued job out of the queue, or stop the running one (SIGTERM: it saves its step)."""
        with self.lock:
            job = self._find(job_id)
            if job.status == "queued":
                self.queue.remove(job)
                job.status, job.message, job.ended = "cancelled", "cancelled before it started", time.time()
            elif job.status == "running":
                job.cancel_asked = True
                if job.process is not None and job.process.poll() is None:
                    job.process.send_signal(signal.SIGTERM)
            return self._view(job)

    def close(self) -> None:
        """Stop the running job and the worker; delete the jobs' folders when this trainer made them."""
        with self.lock:
            self.closed = True
            self.queue.clear()
            running = self.running
            self.lock.notify_all()
        if running is not None and running.process is not None and running.process.poll() is None:
            running.process.kill()
        self.worker.join(timeout=10)
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    # ---- the worker ----

    def _work(self) -> None:
        while True:
            with self.lock:
                while not self.queue and not self.closed:
                    self.lock.wait()
                if self.closed:
                    return
                job = self.running = self.queue.popleft()
                job.status, job.started = "running", time.time()
                log_path = job.folder.parent / f"{job.folder.name}.log"
                try:
                    with open(log_path, "wb") as log:
                        job.process = subprocess.Popen([sys.executable, "-m", "classicnets", "train", *job.argv],
                                                       stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
                except OSError as e:  # no room for the log, no interpreter: the job fails, the queue goes on
                    job.status, job.message, job.ended = "failed", f"could not start: {e.strerror or e}", time.time()
                    self.running = None
                    continue
            code = job.process.wait()
            with self.lock:
                job.ended = time.time()
                if job.cancel_asked:
                    job.status, job.message = "cancelled", "cancelled while training"
                elif code == 0:
                    job.status = "done"
                    self._learn_speed(job)
                else:
                    job.status, job.message = "failed", _last_line(log_path, code)
                self.running = None
                self.lock.notify_all()

    def _learn_speed(self, job: Job) -> None:
        """After a finished job: its network's measured step time, start-up and final test pass."""
        records = _records(job.folder)
        timed = [r for r in records if r.get("wall_time") is not None]
        if len(timed) < 2 or job.started is None or job.ended is None:
            return
        before_end = timed[-2]
        step_s = before_end["wall_time"] / before_end["step"]
        end_s = max(0.0, timed[-1]["wall_time"] - step_s * timed[-1]["step"])
        startup_s = max(0.0, (job.ended - job.started) - timed[-1]["wall_time"])
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(job.ended))
        self.speeds[job.network] = {"step_s": step_s, "startup_s": startup_s, "end_s": end_s,
                                    "source": f"a job of {job.network} on this machine ({when}, {job.steps:,} iterations)"}  # fmt: skip
        self._write_speeds()

    # ---- helpers ----

    def _find(self, job_id: str) -> Job:
        if job_id not in self.jobs:
            raise UnknownNameError(f"no live job {job_id!r}: the server may have restarted; start it again")
        return self.jobs[job_id]

    def _view(self, job: Job, records: bool = True) -> dict[str, Any]:
        ahead = list(self.queue).index(job) + (self.running is not None) if job in self.queue else 0
        now = time.time()
        elapsed = None if job.started is None else (job.ended or now) - job.started
        view = {"id": job.id, "network": job.network, "steps": job.steps, "seed": job.seed, "status": job.status,
                "message": job.message, "ahead": ahead, "elapsed_s": elapsed, "estimate": job.estimate,
                "dataset": self.dataset, "command": "classicnets train " + shlex.join(job.argv[:-2] + ["--out", "RUN"])}  # fmt: skip
        if records:
            view["records"] = _records(job.folder) if job.status != "queued" else []
        return view

    def _forget_old(self) -> None:
        ended = [j for j in self.jobs.values() if j.status in ("done", "cancelled", "failed")]
        for job in sorted(ended, key=lambda j: j.submitted)[:-KEEP_JOBS] if len(ended) > KEEP_JOBS else []:
            del self.jobs[job.id]
            shutil.rmtree(job.folder, ignore_errors=True)

    def _read_speeds(self) -> dict[str, dict[str, Any]]:
        if self.speed_file is None or not self.speed_file.is_file():
            return {}
        try:
            saved = json.loads(self.speed_file.read_text())
        except (OSError, ValueError):
            return {}
        same = isinstance(saved, dict) and saved.get("cpu") == cpu_description() and saved.get("threads") == self.threads
        return dict(saved.get("networks", {})) if same else {}  # another machine's times do not apply here

    def _write_speeds(self) -> None:
        if self.speed_file is None:
            return
        measured = {n: s for n, s in self.speeds.items() if s["source"].startswith("a job")}
        try:
            self.speed_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.speed_file.with_suffix(".tmp")
            tmp.write_text(json.dumps({"cpu": cpu_description(), "threads": self.threads, "networks": measured}, indent=1))
            tmp.replace(self.speed_file)
        except OSError:
            pass  # a cache: the next start measures again


def _records(folder: Path) -> list[dict[str, Any]]:
    log = folder / "metrics.jsonl"
    if not log.is_file():
        return []
    keep = ("step", "train_error", "test_error", "wall_time")
    return [{k: r.get(k) for k in keep} for r in read_metrics(log, strict=False) if isinstance(r, dict)]


def _last_line(log: Path, code: int) -> str:
    try:
        lines = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        lines = []
    return f"the run ended with status {code}: {lines[-1] if lines else 'no output'}"


def suggested_steps(finding: dict[str, Any] | None) -> int:
    """The page's budget: twice the published smallest budget at which the gap shows (so that it is
    clear, not borderline), rounded up to 10 iterations; ``DEFAULT_STEPS`` before one is published."""
    first = (finding or {}).get("first_visible")
    if not isinstance(first, int):
        return DEFAULT_STEPS
    return min(MAX_STEPS, max(MIN_STEPS, -(-2 * first // 10) * 10))


def published_budget() -> dict[str, Any] | None:
    """``docs/data/live-budget.json`` (``classicnets experiment live-budget``), when published."""
    path = PUBLISHED / "live-budget.json"
    try:
        results = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    keep = ("shallow", "deep", "steps", "seeds", "dataset", "first_visible", "why_none", "points", "curves",
            "deep_seconds_to_first_visible", "command", "cpu", "threads", "sentence")  # fmt: skip
    return {k: results.get(k) for k in keep}
