"""The explorer under a classroom's load: a teacher puts the address on the screen and thirty
students open it at once.

Starts the real ``classicnets serve`` (a subprocess with an empty cache folder: a cold start, the
"why it works" measurements computing in the background), then

1. holds ``--idle`` connections open that send nothing (laptops that opened the page and wait),
   and times a new client's request while they are open;
2. runs ``--clients`` clients for ``--seconds`` seconds, each sending the pages' real requests one
   after another, drawn at random (seeded) from the mix below: a digit drawn, a sample digit, the
   block with random toggles, a model's page and diagram, the three "why it works" figures and the
   published curves;
3. prints, per endpoint, the requests, the failures (any status but 200, or no answer within 120 s),
   p50, p99 and the slowest (a "why" figure asked while it is first computed waits for it), against the same endpoint's p50 with one client on the idle server (the baseline
   in the same run: the ratio says what the load costs), and the server's memory (VmRSS) at the
   start, after the load and at the end.

    python benchmarks/serve_load.py --data-dir ../shared/data [--clients 30] [--seconds 60] [--idle 100]

``tests/test_serve.py`` runs a short version (a few clients for a few seconds) and asserts that no
request fails.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import httpx
from serve_latency import (
    seven,  # a sibling script: benchmarks/ is on the path when run as one
)
from serve_process import served

MODELS = ("lenet5", "alexnet", "vgg16", "resnet20", "resnet56")
TIMEOUT = 120.0


Request = tuple[str, str, str, dict]  # endpoint (for the report), method, path, httpx keyword arguments


@lru_cache(maxsize=1)
def drawing() -> bytes:
    return seven()


def mix(rng: random.Random, why: bool = True) -> Request:
    """One request of a classroom, drawn with the weights of the pages' use."""
    choices: list[tuple[int, Callable[[], Request]]] = [
        (4, lambda: ("POST /api/digit", "POST", "/api/digit", {"content": drawing()})),
        (1, lambda: ("GET /api/digit/sample", "GET", "/api/digit/sample", {})),
        (3, lambda: ("POST /api/block", "POST", "/api/block", {"json": {
            "shortcut": rng.choice(["identity", "A", "B", "C", "none"]), "zero_last": rng.random() < 0.5,
            "changes_shape": rng.random() < 0.5}})),
        (1, lambda: ("GET /api/models/{name}", "GET", f"/api/models/{rng.choice(MODELS)}", {})),
        (1, lambda: ("GET /api/models/{name}/diagram.svg", "GET", f"/api/models/{rng.choice(MODELS)}/diagram.svg", {})),
        (1, lambda: ("GET /api/published", "GET", "/api/published", {})),
    ]  # fmt: skip
    if why:
        choices += [(1, lambda k=k: (f"GET /api/why/{k}", "GET", f"/api/why/{k}", {}))
                    for k in ("gradients", "ratios", "removals")]  # fmt: skip
    weights, makers = zip(*choices, strict=True)
    return rng.choices(makers, weights)[0]()


def classroom(url: str, clients: int, seconds: float, seed: int = 0, why: bool = True) -> dict[str, list[float | None]]:
    """``clients`` threads sending ``mix`` requests for ``seconds``; per endpoint, each request's
    milliseconds (None: it failed)."""
    found: dict[str, list[float | None]] = defaultdict(list)
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def client(i: int) -> None:
        rng = random.Random(seed * 1000 + i)
        with httpx.Client(base_url=url, timeout=TIMEOUT) as c:
            while time.perf_counter() < stop_at:
                endpoint, method, path, kwargs = mix(rng, why)
                start = time.perf_counter()
                try:
                    ok = c.request(method, path, **kwargs).status_code == 200
                except httpx.HTTPError:
                    ok = False
                ms = 1000 * (time.perf_counter() - start)
                with lock:
                    found[endpoint].append(ms if ok else None)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return dict(found)


def with_idle_connections(url: str, count: int) -> float:
    """Milliseconds a new client waits for ``GET /api/models`` while ``count`` connections sit open
    without sending anything; raises if it gets no answer."""
    host, port = url.removeprefix("http://").split(":")
    idle = [socket.create_connection((host, int(port))) for _ in range(count)]
    try:
        start = time.perf_counter()
        answer = httpx.get(f"{url}/api/models", timeout=TIMEOUT)
        answer.raise_for_status()
        return 1000 * (time.perf_counter() - start)
    finally:
        for s in idle:
            s.close()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default="../shared/data")
    ap.add_argument("--clients", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--idle", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    with served(args.data_dir, stop_timeout=10) as (url, server):
        print(f"machine: {os.cpu_count()} CPUs; server: classicnets serve, cold start (empty cache folder)")
        rss = {"start": rss_mb(server.pid)}
        waited = with_idle_connections(url, args.idle)
        print(f"{args.idle} idle connections open: a new client's GET /api/models answered in {waited:.0f} ms")
        start = time.perf_counter()
        loaded = classroom(url, args.clients, args.seconds, args.seed)
        wall = time.perf_counter() - start
        rss["after the load"] = rss_mb(server.pid)
        baseline = classroom(url, 1, min(20.0, args.seconds / 3), args.seed + 1)  # one client, everything warm
        rss["end"] = rss_mb(server.pid)
        total = sum(len(v) for v in loaded.values())
        failed = sum(v is None for vs in loaded.values() for v in vs)
        print(f"{args.clients} clients for {args.seconds:.0f} s ({wall:.0f} s with the last answers): {total:,} "
              f"requests, {failed} failed, {total / wall:.1f} requests/s")  # fmt: skip
        print(f"{'endpoint':<38} {'requests':>8} {'failed':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'1 client p50':>12} {'ratio':>6}")
        for endpoint in sorted(loaded):
            ok = [v for v in loaded[endpoint] if v is not None]
            one = [v for v in baseline.get(endpoint, []) if v is not None]
            base = statistics.median(one) if one else float("nan")
            p50, p99, top = (statistics.median(ok), p(ok, 99), max(ok)) if ok else (float("nan"),) * 3
            print(f"{endpoint:<38} {len(loaded[endpoint]):>8} {len(loaded[endpoint]) - len(ok):>6} {p50:>8.0f} "
                  f"{p99:>8.0f} {top:>8.0f} {base:>12.1f} {p50 / base:>6.1f}")  # fmt: skip
        print("server memory (VmRSS): " + ", ".join(f"{k} {v:.0f} MB" for k, v in rss.items()))


if __name__ == "__main__":
    main()
