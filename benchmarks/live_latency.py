"""The explorer while it trains live: the other pages' latency during a live job, against the same
requests with no job (the baseline, in the same run), and how close the page's estimate of the
job's time came to the time it took.

Against the real ``classicnets serve`` process (a fresh cache folder: a cold start):

1. The live endpoints cold and warm: ``/api/live/estimate`` the first time for a network (it times a
   training step) and then (cached); ``/api/live``.
2. With no job: p50 and p99 of each light request (a model's page, its diagram, a digit, the block,
   a "why" measurement, polling a job), ``--requests`` each, one client.
3. A live job started (``--network``, ``--steps``): the same requests while it trains, and the
   ratio of each p50 to the idle p50; then the job's time against the estimate the page showed.

    python benchmarks/live_latency.py [--network plain20] [--steps 200] [--requests 40]
"""

from __future__ import annotations

import argparse
import statistics
import time

import httpx
from serve_latency import (
    seven,  # the same drawn 7 (benchmarks/ is this script's folder)
)
from serve_process import served


def ms(client: httpx.Client, method: str, path: str, **kw: object) -> float:
    start = time.perf_counter()
    answer = client.request(method, path, **kw)  # type: ignore[arg-type]
    answer.raise_for_status()
    return 1000 * (time.perf_counter() - start)


def p50_p99(values: list[float]) -> tuple[float, float]:
    return statistics.median(values), statistics.quantiles(values, n=100, method="inclusive")[98]


def round_of(client: httpx.Client, job: str, requests: int) -> dict[str, list[float]]:
    body = seven()
    block = {"shortcut": "identity", "zero_last": False, "changes_shape": False}
    calls = {
        "GET /api/models/resnet56": lambda: ms(client, "GET", "/api/models/resnet56"),
        "GET /api/models/vgg16/diagram.svg": lambda: ms(client, "GET", "/api/models/vgg16/diagram.svg"),
        "POST /api/digit": lambda: ms(client, "POST", "/api/digit", content=body),
        "POST /api/block": lambda: ms(client, "POST", "/api/block", json=block),
        "GET /api/why/ratios": lambda: ms(client, "GET", "/api/why/ratios"),
        "GET /api/live/jobs/<id>": lambda: ms(client, "GET", f"/api/live/jobs/{job}"),
    }
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(requests):
        for name, call in calls.items():
            times[name].append(call())
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--network", default="plain20")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--requests", type=int, default=40, help="requests of each kind per round")
    ap.add_argument("--data-dir", default="../shared/data")
    args = ap.parse_args()
    with served(args.data_dir) as (url, _):
        with httpx.Client(base_url=url, timeout=600) as client:
            ms(client, "GET", "/api/why/ratios")  # waits for the warm-up the server starts at launch
            cold = ms(client, "GET", f"/api/live/estimate?network={args.network}&steps={args.steps}")
            warm = [ms(client, "GET", f"/api/live/estimate?network={args.network}&steps={args.steps}") for _ in range(20)]
            info = [ms(client, "GET", "/api/live") for _ in range(20)]
            print(f"GET /api/live/estimate: cold (times a training step of {args.network}) {cold:.0f} ms; "
                  f"warm p50 {statistics.median(warm):.1f} ms; GET /api/live p50 {statistics.median(info):.1f} ms")
            # a finished tiny job to poll in the idle round
            estimate = client.get(f"/api/live/estimate?network={args.network}&steps={args.steps}").json()
            first = client.post("/api/live/jobs", json={"network": args.network, "steps": 20}).json()["id"]
            while client.get(f"/api/live/jobs/{first}").json()["status"] in ("queued", "running"):
                time.sleep(0.5)
            round_of(client, first, 3)  # warm-up: every model loaded, every answer cached
            idle = round_of(client, first, args.requests)
            job = client.post("/api/live/jobs", json={"network": args.network, "steps": args.steps}).json()
            while not client.get(f"/api/live/jobs/{job['id']}").json()["records"]:
                time.sleep(0.5)  # training, past its first logging point
            busy = round_of(client, job["id"], args.requests)
            while (state := client.get(f"/api/live/jobs/{job['id']}").json())["status"] in ("queued", "running"):
                time.sleep(0.5)
        cpu = state["estimate"]["cpu"]
        print(f"machine: {cpu}; the job: {args.network}, {args.steps} iterations on {state['estimate']['threads']} thread(s)")
        print(f"{'request':36} {'idle p50/p99 ms':>18} {'during a job p50/p99 ms':>25} {'p50 ratio':>10}")
        for name in idle:
            i50, i99 = p50_p99(idle[name])
            b50, b99 = p50_p99(busy[name])
            print(f"{name:36} {i50:8.1f} / {i99:7.1f} {b50:14.1f} / {b99:8.1f} {b50 / i50:9.2f}x")
        took = state["elapsed_s"]
        for label, e in (("before any job, from the timed step", estimate), ("at its start, from the 20-iteration job", job["estimate"])):
            print(f"the job took {took:.0f} s; the page's estimate {label}: {e['seconds']:.0f} s (took/estimate "
                  f"{took / e['seconds']:.2f}x; {e['source']})")


if __name__ == "__main__":
    main()
