"""Shared fixtures: a real ``classicnets serve`` process for the explorer's tests."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from classicnets.train import make_config, train

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tiny_run(out: Path, iterations: int, eval_every: int) -> Path:
    """A real, short lenet5_modern run on the bundled digits, trained with one thread."""
    before = torch.get_num_threads()
    try:
        train(make_config("lenet5_modern", "digits", str(out), iterations=iterations, eval_every=eval_every,
                          threads=1, progress=False))  # fmt: skip
    finally:
        torch.set_num_threads(before)
    return out


@dataclass
class Served:
    """A running explorer: its URL, its process, and the file its output goes to."""

    url: str
    process: subprocess.Popen[str]
    log: Path

    def output(self) -> str:
        return self.log.read_text()


@pytest.fixture(scope="session")
def explorer_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache of the explorer's "why it works" measurements for the whole session: the first
    server computes them, the others read them (and the user's own cache is left alone)."""
    return tmp_path_factory.mktemp("explorer-cache")


@pytest.fixture
def serve(tmp_path: Path, explorer_cache: Path) -> Iterator[Callable[..., Served]]:
    """Start ``classicnets serve`` with the given arguments on a free port; stopped at the end."""
    started: list[Served] = []

    def start(*args: str) -> Served:
        args = (*args, "--cache-dir", str(explorer_cache))
        port = free_port()
        log = tmp_path / f"serve-{port}.log"
        env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "OMP_NUM_THREADS": "1"}
        with open(log, "w") as out:
            proc = subprocess.Popen([sys.executable, "-m", "classicnets", "serve", "--port", str(port), *args],
                                    stdout=out, stderr=subprocess.STDOUT, text=True, env=env, cwd=REPO)  # fmt: skip
        served = Served(f"http://127.0.0.1:{port}", proc, log)
        started.append(served)
        deadline = time.monotonic() + 60
        while not re.search(r"explorer at http://", log.read_text()):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"classicnets serve did not start: {log.read_text()}")
            time.sleep(0.1)
        return served

    yield start
    for s in started:
        s.process.terminate()
        try:
            s.process.wait(10)
        except subprocess.TimeoutExpired:
            s.process.kill()
