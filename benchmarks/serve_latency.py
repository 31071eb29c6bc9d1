"""Latency of the explorer's draw-a-digit request (image in; both LeNet-5s' predictions and feature
maps out), against the real ``classicnets serve`` process, and how long its pages take to load.

* 1 client: ``--requests`` requests one after another; p50 and p99 of the wall time of each.
* 8 clients: 8 threads sending ``--requests`` each at the same time; p50, p99 and the error count.
* The "why it works" measurements (``/api/why/*``): the first request, which waits for the
  computation the server starts at launch (an empty cache folder: a cold start), and then the
  cached answer (p50 of 50).
* Page load: Debian's Chromium (through Playwright) opening each view until it is drawn, median
  of 5 loads each.

The baseline in the same run is the server's cheapest request (``GET /api/models``, a cached
list): the draw request's cost is the ratio to it.

    python benchmarks/serve_latency.py [--requests 300] [--chromium /usr/bin/chromium]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import threading
import time

import httpx
import numpy as np
from PIL import Image

# a sibling script (benchmarks/ is on the path when run as one)
from serve_process import served


def seven() -> bytes:
    """A 7 drawn on a 280 x 280 canvas, as the page sends it."""
    canvas = np.zeros((280, 280), dtype=np.uint8)
    canvas[40:60, 60:220] = 255
    for i in range(180):
        canvas[60 + i : 68 + i, 200 - i // 2 : 218 - i // 2] = 255
    buf = io.BytesIO()
    Image.fromarray(canvas).save(buf, "PNG")
    return buf.getvalue()


def percentiles(ms: list[float]) -> str:
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return f"p50 {statistics.median(ms):.1f} ms, p99 {q[98]:.1f} ms (n={len(ms)})"


def timed(client: httpx.Client, method: str, path: str, body: bytes | None) -> tuple[float, int]:
    start = time.perf_counter()
    answer = client.request(method, path, content=body)
    return 1000 * (time.perf_counter() - start), answer.status_code


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=300, help="requests per client (at least 200)")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--data-dir", default="../shared/data")
    args = ap.parse_args()
    with served(args.data_dir, stop_timeout=10) as (url, _):
        body = seven()
        with httpx.Client(base_url=url, timeout=300) as client:
            for path in ("/api/why/gradients", "/api/why/ratios", "/api/why/removals"):
                first, status = timed(client, "GET", path, None)
                cached = [timed(client, "GET", path, None)[0] for _ in range(50)]
                print(f"{path}: first request (computes) {first:.0f} ms, status {status}; cached {percentiles(cached)}")
        with httpx.Client(base_url=url, timeout=60) as client:
            for _ in range(10):  # warm-up: the models load on the first request
                client.post("/api/digit", content=body)
                client.get("/api/models")
            base = [timed(client, "GET", "/api/models", None)[0] for _ in range(args.requests)]
            one = [timed(client, "POST", "/api/digit", body) for _ in range(args.requests)]
        errors_one = sum(status != 200 for _, status in one)
        draw_ms = [ms for ms, _ in one]
        print(f"machine: {os.cpu_count()} CPUs; server: classicnets serve (1 torch thread)")
        print(f"baseline GET /api/models, 1 client: {percentiles(base)}")
        print(f"draw request, 1 client: {percentiles(draw_ms)}; errors {errors_one}; "
              f"p50 ratio to the baseline {statistics.median(draw_ms) / statistics.median(base):.1f}x")  # fmt: skip

        results: list[tuple[float, int]] = []
        lock = threading.Lock()

        def worker() -> None:
            with httpx.Client(base_url=url, timeout=60) as c:
                mine = [timed(c, "POST", "/api/digit", body) for _ in range(args.requests)]
            with lock:
                results.extend(mine)

        threads = [threading.Thread(target=worker) for _ in range(8)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start
        errors = sum(status != 200 for _, status in results)
        print(f"draw request, 8 clients at once: {percentiles([ms for ms, _ in results])}; errors {errors}; "
              f"{len(results) / wall:.0f} requests/s")  # fmt: skip
        page_loads(url, args.chromium)


def page_loads(url: str, chromium: str) -> None:
    from playwright.sync_api import sync_playwright

    flags = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync"]  # fmt: skip
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=flags)
        for view in ("models", "draw", "block", "degradation", "why"):
            times = []
            for _ in range(6):
                page = browser.new_page()
                start = time.perf_counter()
                page.goto(f"{url}/#{view}")
                page.wait_for_selector(f"body[data-ready={view}]")
                page.wait_for_load_state("networkidle")
                times.append(1000 * (time.perf_counter() - start))
                page.close()
            print(f"page load #{view}: median {statistics.median(times[1:]):.0f} ms over 5 loads (after 1 warm-up), "
                  f"until drawn and the network is idle")  # fmt: skip
        browser.close()


if __name__ == "__main__":
    main()
