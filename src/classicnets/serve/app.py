"""The explorer's web app: a Starlette (ASGI) app that serves one page of plain HTML, JavaScript
and SVG from ``static/``, and a JSON API over the real models of this library.

=====================================  ==============================================================
GET  /                                 the page (its four views: models, draw, block, degradation)
GET  /api/models                       every registered model
GET  /api/models/{name}                card, layer table with the published checks, shape walk
GET  /api/models/{name}/diagram.svg    the course-style diagram (``classicnets draw``)
POST /api/digit                        an image (PNG, ...) in; both LeNet-5s' predictions and maps out
GET  /api/digit/sample                 a random test digit (MNIST on disk, else scikit-learn's)
POST /api/block                        {"shortcut", "zero_last", "changes_shape"}: the block's terms
GET  /api/why/gradients                plain and ResNet, 20 and 56 layers, at init: ||dL/dW|| per layer
GET  /api/why/ratios                   the deepest shipped ResNet: ||F(x)|| / ||shortcut(x)|| per block
GET  /api/why/removals                 the deepest shipped ResNet's and plain net's accuracy, each block removed
GET  /api/live                         live training: the networks, budgets, dataset, the queue
GET  /api/live/estimate?network=&steps=   how long a job takes on this machine, and how that was measured
POST /api/live/jobs                    {"network", "steps", "seed"}: queue a job (one trains at a time)
GET  /api/live/jobs/{id}               its state and its curve so far (poll it to stream)
POST /api/live/jobs/{id}/cancel        take it out of the queue, or stop it
GET  /api/published                    the published degradation results (docs/data)
GET  /api/runs                         the run and experiment folders under --runs
GET  /api/runs/curves?id=...           one of them: its curves (poll it to follow a running run)
=====================================  ==============================================================

Every error is a 4xx status with ``{"error": "one line"}``; nothing a request can send makes it
answer 5xx or print a traceback (``tests/test_serve.py`` fuzzes it with hypothesis).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..errors import DataError, UnknownNameError, UserError
from ..experiments.why import WhyLab
from ..safeload import one_line
from .block import block_view
from .curves import OutsideRuns, RunFolders, published
from .digits import DigitLab
from .inspection import catalogue, diagram_svg, model_page
from .live import DEFAULT_STEPS, LiveTrainer, QueueFull

STATIC = Path(__file__).resolve().parent / "static"
MAX_IMAGE_BYTES = 2_000_000  # a drawing is a few kB; anything above this is refused
MAX_JSON_BYTES = 10_000
LIGHT_WORKERS = max(1, (os.cpu_count() or 2) - 1)  # the light requests' share of the cores; the heavy get one

log = logging.getLogger("classicnets.serve")


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _json_object(request: Request, shape: str) -> dict[str, Any]:
    """The request's JSON object (at most ``MAX_JSON_BYTES``); a 4xx line for anything else.
    ``shape`` shows what to send, in the error."""
    raw = await _body(request, MAX_JSON_BYTES)
    try:
        params = json.loads(raw or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise HTTPException(400, f"the body is not JSON: send {shape}") from None
    except RecursionError:
        raise HTTPException(400, "the body is nested too deeply: send one flat JSON object") from None
    if not isinstance(params, dict):
        raise HTTPException(400, f"the body must be a JSON object: {shape}")
    return params


async def _body(request: Request, limit: int) -> bytes:
    """The request body, refusing it (413) as soon as it grows past ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"the body is larger than {limit:,} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"the body is larger than {limit:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(runs: list[str | Path] | None = None, data_dir: str | None = None,
               cache_dir: str | Path | None = None, live_dataset: str | None = None) -> Starlette:  # fmt: skip
    """The explorer for the run folders ``runs`` (read-only), finding MNIST and CIFAR-10 in
    ``data_dir``; the "why it works" measurements and the live jobs' measured times are kept in
    ``cache_dir`` between starts. Live jobs train on CIFAR-10 where it is on disk, else MNIST
    (``live_dataset`` names another, e.g. "digits" in tests); ``app.state.live.close()`` stops them.

    The models run in worker threads through two queues (``anyio`` capacity limiters), so that a
    classroom cannot oversubscribe the cores: the light requests (a digit, the block, a model's
    page the first time) run on all cores but one, the heavy measurements ("why it works", seconds
    each) one at a time; an answer already computed (a model's page, a measurement) never waits in
    either."""
    folders = RunFolders.of(list(runs or []))
    lab = DigitLab(data_dir)
    why = WhyLab(data_dir, cache_dir)
    live = LiveTrainer(data_dir, live_dataset, speed_file=Path(cache_dir) / "live-speeds.json" if cache_dir else None)
    limiters: dict[tuple[str, int], anyio.CapacityLimiter] = {}  # made on first use, in the event loop that uses it

    async def compute(kind: str, fn: Any, *args: Any) -> Any:
        key = (kind, id(asyncio.get_running_loop()))  # uvicorn runs one loop; a test client may run several
        if key not in limiters:
            limiters[key] = anyio.CapacityLimiter(LIGHT_WORKERS if kind == "light" else 1)
        return await anyio.to_thread.run_sync(fn, *args, limiter=limiters[key])

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html")

    async def models(request: Request) -> Response:
        return JSONResponse(catalogue())

    done: dict[tuple[str, str], Any] = {}  # the models' pages and diagrams already made: answered without queueing

    async def once(kind: str, fn: Any, name: str) -> Any:
        if (kind, name) not in done:
            done[(kind, name)] = await compute("light", fn, name)
        return done[(kind, name)]

    async def model(request: Request) -> Response:
        return JSONResponse(await once("page", model_page, request.path_params["name"]))

    async def diagram(request: Request) -> Response:
        return Response(await once("diagram", diagram_svg, request.path_params["name"]), media_type="image/svg+xml")

    async def digit(request: Request) -> Response:
        data = await _body(request, MAX_IMAGE_BYTES)
        if not data:
            return error(400, "the request has no image: send the drawing as the body (PNG)")
        return JSONResponse(await compute("light", lab.classify, data))

    async def sample(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(lab.sample))  # a stored digit as a PNG: no model runs

    async def block(request: Request) -> Response:
        params = await _json_object(request, '{"shortcut": ..., "zero_last": ..., "changes_shape": ...}')
        shortcut = params.get("shortcut", "identity")
        flags = {k: params.get(k, False) for k in ("zero_last", "changes_shape")}
        if not isinstance(shortcut, str) or not all(isinstance(v, bool) for v in flags.values()):
            return error(400, "shortcut must be a string, zero_last and changes_shape true or false")
        return JSONResponse(await compute("light", block_view, shortcut, flags["zero_last"], flags["changes_shape"]))

    async def why_measurement(request: Request) -> Response:
        key = request.path_params["measurement"]
        if key not in WhyLab.MEASUREMENTS:
            return error(404, f"no measurement {key!r}; the measurements are {', '.join(WhyLab.MEASUREMENTS)}")
        answer = why.ready(key)
        return JSONResponse(answer if answer is not None else await compute("heavy", getattr(why, key)))

    async def live_info(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(live.info))

    def network_and_steps(params: Any) -> tuple[str, int]:
        network, steps = params.get("network"), params.get("steps", DEFAULT_STEPS)
        if isinstance(steps, str) and steps.isascii() and steps.isdigit():
            steps = int(steps)
        if not isinstance(network, str) or not isinstance(steps, int) or isinstance(steps, bool):
            raise HTTPException(400, "give network (a name, e.g. plain56) and steps (a whole number of iterations)")
        return network, steps

    async def measured(fn: Any, network: str, *args: Any) -> Any:
        """Run ``fn``: at once when ``network``'s speed is known, else in the heavy queue (it times a step)."""
        if network in live.speeds:
            return await run_in_threadpool(fn, network, *args)
        return await compute("heavy", fn, network, *args)

    async def live_estimate(request: Request) -> Response:
        network, steps = network_and_steps(request.query_params)
        return JSONResponse(await measured(live.estimate, network, steps))

    async def live_submit(request: Request) -> Response:
        params = await _json_object(request, '{"network": "plain56", "steps": 200, "seed": 0}')
        network, steps = network_and_steps(params)
        seed = params.get("seed", 0)
        if not isinstance(seed, int) or isinstance(seed, bool):
            return error(400, "seed must be a whole number")
        return JSONResponse(await measured(live.submit, network, steps, seed), status_code=202)

    async def live_job(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(live.job, request.path_params["job"]))

    async def live_cancel(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(live.cancel, request.path_params["job"]))

    async def published_results(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(published))

    async def run_list(request: Request) -> Response:
        return JSONResponse({"roots": [r.name for r in folders.roots], "runs": await run_in_threadpool(folders.listing)})

    async def run_curves(request: Request) -> Response:
        run_id = request.query_params.get("id")
        if not run_id:
            return error(400, "give the run as ?id=<folder number>/<path>, from /api/runs")
        return JSONResponse(await run_in_threadpool(folders.curves, run_id))

    async def user_error(request: Request, exc: Exception) -> Response:
        status = 404 if isinstance(exc, UnknownNameError) else 403 if isinstance(exc, OutsideRuns) else \
            422 if isinstance(exc, DataError) else 429 if isinstance(exc, QueueFull) else 400  # fmt: skip
        return error(status, str(exc))

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return error(exc.status_code, exc.detail if isinstance(exc.detail, str) else "bad request")

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.error("%s %s failed: %s", request.method, request.url.path, one_line(exc))
        return error(500, f"internal error: {one_line(exc)}")

    routes = [
        Route("/", index),
        Route("/api/models", models),
        Route("/api/models/{name}", model),
        Route("/api/models/{name}/diagram.svg", diagram),
        Route("/api/digit", digit, methods=["POST"]),
        Route("/api/digit/sample", sample),
        Route("/api/block", block, methods=["POST"]),
        Route("/api/why/{measurement}", why_measurement),
        Route("/api/live", live_info),
        Route("/api/live/estimate", live_estimate),
        Route("/api/live/jobs", live_submit, methods=["POST"]),
        Route("/api/live/jobs/{job}", live_job),
        Route("/api/live/jobs/{job}/cancel", live_cancel, methods=["POST"]),
        Route("/api/published", published_results),
        Route("/api/runs", run_list),
        Route("/api/runs/curves", run_curves),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    handlers: dict[Any, Any] = {UserError: user_error, HTTPException: http_error, Exception: unexpected}
    app = Starlette(routes=routes, exception_handlers=handlers)
    app.state.why = why  # run_server warms it up in the background
    app.state.live = live  # run_server closes it (stopping a running job) when it stops
    return app
