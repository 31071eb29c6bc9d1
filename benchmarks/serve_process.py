"""The real ``classicnets serve`` for the explorer's benchmarks (serve_latency, serve_load,
live_latency): a subprocess on a free port with an empty cache folder, so each run starts cold."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def served(data_dir: str, stop_timeout: float = 30) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Start ``classicnets serve``, wait until it says where it listens, and yield its URL and
    process; stop it on the way out and print its traceback, where it printed one."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    folder = Path(tempfile.mkdtemp())
    log = folder / "serve.log"
    with open(log, "w") as out:
        server = subprocess.Popen([sys.executable, "-m", "classicnets", "serve", "--port", str(port), "--data-dir",
                                   data_dir, "--cache-dir", str(folder / "cache")], stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        while "explorer at" not in log.read_text():
            if server.poll() is not None:
                raise SystemExit(f"classicnets serve did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", server
    finally:
        server.terminate()
        server.wait(stop_timeout)
        if "Traceback" in log.read_text():
            print("the server printed a traceback:\n" + log.read_text()[-2000:])
