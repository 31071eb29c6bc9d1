"""Training live from the explorer: the plan (the paper's recipe, every budget a prefix of a longer
one), the smallest visible budget found from curves, the job queue trained for real (digits: a
job in seconds), its estimate, its cancel, its bad input, and the experiment's grid."""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import pytest

from classicnets.cli import build_parser
from classicnets.cli.options import given
from classicnets.experiments.live import (
    LiveBudgetConfig,
    cells,
    first_visible,
    live_options,
    live_plan,
    log_every,
    time_step,
)
from classicnets.serve import create_app
from classicnets.serve.live import MAX_QUEUED, suggested_steps, to_argv
from classicnets.train import TrainConfig, make_config

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


# ---- the plan ------------------------------------------------------------------------------------


def test_the_live_plan_is_the_papers_recipe_at_a_constant_rate() -> None:
    plan = live_plan("plain56", 300, 1, "cifar10", "out")
    assert (plan.batch_size, plan.lr, plan.momentum, plan.weight_decay, plan.nesterov) == (128, 0.1, 0.9, 1e-4, False)
    assert plan.schedule == "step" and min(plan.milestones) > plan.iterations  # no drop inside any live budget
    assert (plan.crop_padding, plan.hflip, plan.val_size, plan.test_eval, plan.compile) == (4, True, 0, "end", False)
    assert plan.eval_every == log_every(300) == 8 and plan.seed == 1
    assert live_plan("plain20", 300, 0, "mnist", "out").hflip is False  # digits are not mirrored


def test_the_job_command_line_trains_exactly_the_live_plan() -> None:
    """The server runs `classicnets train` with to_argv(...): parsed back by the real CLI, it is the
    plan the experiment measured."""
    options = live_options("resnet32", 120, 3, "cifar10") | {"threads": 1, "data_dir": "/data"}
    argv = ["train", "resnet32", "--dataset", "cifar10", "--recipe", "resnet-cifar", *to_argv(options), "--out", "o"]
    args = build_parser().parse_args(argv)
    typed = given(args, TrainConfig)
    parsed = make_config(typed.pop("model"), typed.pop("dataset"), typed.pop("out"), **typed)
    assert parsed == live_plan("resnet32", 120, 3, "cifar10", "o", threads=1, data_dir="/data")


@pytest.mark.parametrize("network,steps,message", [("vgg16", 100, "live training offers"), ("plain20", 5, "20 to 2,000"),
                                                    ("plain20", 5000, "20 to 2,000")])  # fmt: skip
def test_a_network_or_budget_not_offered_is_one_line(network: str, steps: int, message: str) -> None:
    with pytest.raises(Exception, match=message):
        live_options(network, steps, 0, "cifar10")


def test_a_training_step_is_timed_on_this_cpu() -> None:
    shallow, deep = time_step("plain20", repeats=2), time_step("plain56", repeats=2)
    assert 0 < shallow < deep  # the deeper network's step takes longer


# ---- the smallest visible budget -----------------------------------------------------------------


def curve(values: list[float], every: int = 10) -> list[tuple[int, float]]:
    return [(every * (i + 1), v) for i, v in enumerate(values)]


def test_the_gap_is_visible_from_the_first_step_it_stays_beyond_the_spread() -> None:
    shallow = {0: curve([0.9, 0.8, 0.7, 0.6, 0.5]), 1: curve([0.9, 0.82, 0.71, 0.62, 0.52])}
    deep = {0: curve([0.9, 0.81, 0.78, 0.75, 0.72]), 1: curve([0.91, 0.8, 0.8, 0.77, 0.74])}
    found = first_visible(shallow, deep)
    assert found["first_visible"] == 30 and found["seeds"] == [0, 1]
    assert [p["visible"] for p in found["points"]] == [False, False, True, True, True]
    # one seed of the deep net crossing below the shallow range at the end: not visible from 30 any more
    deep[1] = curve([0.91, 0.8, 0.8, 0.77, 0.55])
    assert first_visible(shallow, deep)["first_visible"] is None
    assert "not beyond the spread" in first_visible(shallow, deep)["why_none"]


def test_a_gap_within_the_seeds_spread_is_not_visible_and_one_seed_has_no_spread() -> None:
    shallow = {0: curve([0.6, 0.5]), 1: curve([0.7, 0.6])}
    deep = {0: curve([0.66, 0.58]), 1: curve([0.72, 0.63])}  # above on average, by less than the spread
    assert first_visible(shallow, deep)["first_visible"] is None
    lone = first_visible({0: curve([0.5])}, {0: curve([0.9])})
    assert lone["first_visible"] is None and "one seed" in lone["why_none"]


def test_the_finding_is_said_from_its_numbers() -> None:
    from classicnets.experiments.live import sentence

    shallow = {0: curve([0.9, 0.7, 0.6]), 1: curve([0.88, 0.72, 0.61])}
    deep = {0: curve([0.9, 0.85, 0.8]), 1: curve([0.92, 0.86, 0.82])}
    results = {"shallow": "plain20", "deep": "plain56", "seeds": [0, 1], "steps": 30, "threads": 2,
               "deep_seconds_to_first_visible": 7.6, **first_visible(shallow, deep)}  # fmt: skip
    said = sentence(results)
    assert said.startswith("From 20 iterations on, plain-56's training error is above plain-20's") and "14.5 points" in said
    deep[1] = curve([0.92, 0.86, 0.62])
    assert "not visible yet" in sentence({**results, **first_visible(shallow, deep)})


def test_the_page_suggests_twice_the_published_budget() -> None:
    assert suggested_steps({"first_visible": 64}) == 130
    assert suggested_steps({"first_visible": None}) == suggested_steps(None) == 200


def test_the_experiment_is_a_grid_of_both_networks_and_every_seed(tmp_path: Path) -> None:
    cfg = LiveBudgetConfig(out=str(tmp_path), steps=100, seeds=(0, 1), stop_after="10m")
    assert cfg.stop_after == 600.0
    grid = cells(cfg)
    assert [c.name for c in grid] == ["seed0/plain20", "seed0/plain56", "seed1/plain20", "seed1/plain56"]
    assert all(c.plan == live_plan(c.plan.model, 100, c.plan.seed, "cifar10", c.plan.out, progress=True) for c in grid)
    with pytest.raises(Exception, match="at least two seeds"):
        cells(LiveBudgetConfig(out=str(tmp_path), seeds=(0,)))


def test_the_experiments_flags_are_its_configs_fields() -> None:
    parser = build_parser()
    args = parser.parse_args(["experiment", "live-budget", "--steps", "50", "--seeds", "4", "5", "--deep", "plain32",
                              "--stop-after", "1h30m"])  # fmt: skip
    assert given(args, LiveBudgetConfig) == {"steps": 50, "seeds": (4, 5), "deep": "plain32", "stop_after": 5400.0}
    assert isinstance(args, argparse.Namespace)


# ---- the server's queue, trained for real ----------------------------------------------------------


@pytest.fixture
def live(tmp_path: Path):  # noqa: ANN201
    app = create_app(cache_dir=tmp_path / "cache", live_dataset="digits")
    try:
        yield TestClient(app)
    finally:
        app.state.live.close()


def wait_for(client: TestClient, job: str, statuses: tuple[str, ...], timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = client.get(f"/api/live/jobs/{job}").json()
        if state["status"] in statuses:
            return state
        time.sleep(0.3)
    raise AssertionError(f"job {job} still {state['status']} after {timeout} s")


def test_a_job_trains_streams_its_curve_and_teaches_the_estimate(live: TestClient, tmp_path: Path) -> None:
    info = live.get("/api/live").json()
    assert info["dataset"] == "digits" and "plain56" in info["networks"] and info["unavailable"] is None
    before = live.get("/api/live/estimate", params={"network": "plain20", "steps": 40}).json()
    assert before["seconds"] > 0 and "timed by this server" in before["source"]
    job = live.post("/api/live/jobs", json={"network": "plain20", "steps": 40, "seed": 0})
    assert job.status_code == 202 and job.json()["status"] in ("queued", "running")
    assert job.json()["command"].startswith("classicnets train plain20 --dataset digits --recipe resnet-cifar")
    done = wait_for(live, job.json()["id"], ("done", "failed", "cancelled"))
    assert done["status"] == "done", done["message"]
    steps = [r["step"] for r in done["records"]]
    assert steps == list(range(5, 41, 5))  # a point every 5 iterations: the curve streams
    assert all(0 <= r["train_error"] <= 1 for r in done["records"]) and done["records"][-1]["test_error"] is not None
    after = live.get("/api/live/estimate", params={"network": "plain20", "steps": 40}).json()
    assert "a job of plain20 on this machine" in after["source"]
    assert abs(after["seconds"] - done["elapsed_s"]) < 0.5 * done["elapsed_s"]  # learnt from the job that ran
    assert (tmp_path / "cache" / "live-speeds.json").is_file()  # kept for the next start on this machine


def test_one_job_at_a_time_queued_cancelled_and_refused_when_full(live: TestClient) -> None:
    ids = [live.post("/api/live/jobs", json={"network": "plain20", "steps": 2000}).json()["id"] for _ in range(MAX_QUEUED + 1)]
    states = [live.get(f"/api/live/jobs/{i}").json() for i in ids]
    assert sum(s["status"] == "running" for s in states) <= 1  # one trains; the others wait their turn
    assert [s["ahead"] for s in states[1:]] == list(range(1, MAX_QUEUED + 1))
    full = live.post("/api/live/jobs", json={"network": "plain20", "steps": 2000})
    assert full.status_code == 429 and "waiting already" in full.json()["error"]
    assert live.post(f"/api/live/jobs/{ids[2]}/cancel").json()["status"] == "cancelled"  # out of the queue
    assert live.get(f"/api/live/jobs/{ids[3]}").json()["ahead"] == 2
    wait_for(live, ids[0], ("running",))
    live.post(f"/api/live/jobs/{ids[0]}/cancel")  # a running job: SIGTERM, it saves its step and ends
    stopped = wait_for(live, ids[0], ("cancelled", "done", "failed"), timeout=60)
    assert stopped["status"] == "cancelled", stopped
    assert wait_for(live, ids[1], ("running", "done"))["status"] in ("running", "done")  # the next one starts
    for i in ids[1:]:
        live.post(f"/api/live/jobs/{i}/cancel")


@pytest.mark.parametrize("method,path,body,status,message", [
    ("post", "/api/live/jobs", {"network": "vgg16", "steps": 100}, 400, "live training offers"),
    ("post", "/api/live/jobs", {"network": "plain20", "steps": 1}, 400, "a live budget is 20 to 2,000"),
    ("post", "/api/live/jobs", {"network": "plain20", "steps": "many"}, 400, "give network"),
    ("post", "/api/live/jobs", {"network": "plain20", "steps": True}, 400, "give network"),
    ("post", "/api/live/jobs", {"network": "plain20", "steps": 40, "seed": -1}, 400, "seed must be"),
    ("post", "/api/live/jobs", [1, 2], 400, "must be a JSON object"),
    ("get", "/api/live/jobs/999", None, 404, "no live job '999'"),
    ("post", "/api/live/jobs/999/cancel", None, 404, "no live job"),
    ("get", "/api/live/estimate?network=plain20&steps=-3", None, 400, "give network"),
    ("get", "/api/live/estimate?network=plain20&steps=%C2%B9", None, 400, "give network"),
])  # fmt: skip
def test_bad_live_requests_are_one_line_4xx(live: TestClient, method, path, body, status, message) -> None:
    answer = getattr(live, method)(path, **({"json": body} if body is not None else {}))
    assert answer.status_code == status and message in answer.json()["error"]
    assert "\n" not in answer.json()["error"]


def test_the_published_smallest_budget_follows_from_its_own_curves() -> None:
    """docs/data/live-budget.json (``classicnets experiment live-budget``): its answer is what
    ``first_visible`` says of the curves it holds, and the page proposes twice it."""
    import json

    from classicnets.serve.live import published_budget

    path = Path(__file__).resolve().parents[1] / "docs" / "data" / "live-budget.json"
    if not path.is_file():
        pytest.skip("not a source checkout")
    r = json.loads(path.read_text())
    curves = {n: {int(s): [(int(a), float(b)) for a, b in c] for s, c in by.items()} for n, by in r["curves"].items()}
    assert first_visible(curves[r["shallow"]], curves[r["deep"]])["first_visible"] == r["first_visible"]
    assert len(r["seeds"]) >= 3 and r["plan"]["recipe"] == "resnet-cifar" and r["dataset"] == "cifar10"
    assert published_budget()["first_visible"] == r["first_visible"]
    assert suggested_steps(published_budget()) == -(-2 * r["first_visible"] // 10) * 10
