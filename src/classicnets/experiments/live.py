"""Training live: the short run that a learner starts from the explorer's "Deeper is not better"
page, and the experiment that measured how short it may be.

The live plan is the paper's recipe (He et al. 2016, section 4.2: batch 128, SGD momentum 0.9,
weight decay 0.0001, rate 0.1, pad-4 crop and flip) cut to a budget of N iterations, all of them
before the paper's first rate drop at 32k: the rate is 0.1 throughout, so a budget of N trains
exactly the first N iterations of any longer one, and one long run's curve answers every shorter
budget. Deviations, so that it streams: no validation split (the running training error on the
batches as trained is logged every few iterations), the test error once at the end, no
``torch.compile`` (it costs more than these runs last), and no flips on digits.

``classicnets experiment live-budget`` trains a shallow and a deep plain network with several
seeds and finds the smallest budget at which the deep one's higher training error is already
visible beyond the seed-to-seed spread (``first_visible``).
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from ..data import find_data
from ..errors import ConfigError
from ..factory import create_model
from ..train import TrainConfig, make_config, read_metrics
from ..train.config import option, seconds
from ..train.device import autocast, choose_precision, cpu_description
from ..train.loop import make_sgd
from .grid import Cell, GridStopped, data_dir_option, device_option, progress_option, run_grid, stop_after_option

NETWORKS = tuple(f"{kind}{depth}" for depth in (20, 32, 44, 56) for kind in ("plain", "resnet"))
MIN_STEPS, MAX_STEPS = 20, 2_000
PHOTOS = ("cifar10",)  # flips are part of the recipe for photos, not for digits
RECIPE = "resnet-cifar"


def live_dataset(data_dir: str | None) -> str | None:
    """The dataset a live run trains on: CIFAR-10 where it is on disk, else MNIST, else None."""
    return next((name for name in ("cifar10", "mnist") if find_data(name, data_dir) is not None), None)


def log_every(steps: int) -> int:
    """Iterations between two points of a live curve: about 40 points, at least 5 iterations apart."""
    return max(5, round(steps / 40))


def check_live(network: str, steps: int) -> None:
    """``ConfigError`` (one line) for a network or a budget that live training does not offer."""
    if network not in NETWORKS:
        raise ConfigError(f"live training offers {', '.join(NETWORKS)}; got {network!r}")
    if not MIN_STEPS <= steps <= MAX_STEPS:
        raise ConfigError(f"a live budget is {MIN_STEPS} to {MAX_STEPS:,} iterations, got {steps:,}")


def live_options(network: str, steps: int, seed: int, dataset: str) -> dict[str, Any]:
    """The live plan's options on top of ``RECIPE`` (``classicnets train``'s option names)."""
    check_live(network, steps)
    return {"iterations": steps, "seed": seed, "val_size": 0, "eval_every": log_every(steps), "log_epochs": False,
            "test_eval": "end", "compile": False, "progress": False, "hflip": dataset in PHOTOS}  # fmt: skip


def live_plan(network: str, steps: int, seed: int, dataset: str, out: str, **runtime: Any) -> TrainConfig:
    """The live plan as a ``TrainConfig`` (``runtime``: data_dir, device, threads, ...)."""
    return make_config(network, dataset, out, recipe=RECIPE, **(live_options(network, steps, seed, dataset) | runtime))


def time_step(network: str, in_chans: int = 3, threads: int | None = None, batch: int = 128, repeats: int = 3) -> float:
    """Seconds per training iteration of ``network`` on this CPU with ``threads`` threads (default:
    those torch has now), as the live plan trains it (its precision, channels_last, eager): the
    median of ``repeats`` timed steps on random images after one warm-up step."""
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _time_step(network, in_chans, batch, repeats)
    finally:
        torch.set_num_threads(before)


def _time_step(network: str, in_chans: int, batch: int, repeats: int) -> float:
    device = torch.device("cpu")
    precision = choose_precision(device)
    with torch.random.fork_rng(devices=[]):
        model = create_model(network, num_classes=10, in_chans=in_chans).to(memory_format=torch.channels_last)
        x = torch.randn(batch, in_chans, 32, 32).to(memory_format=torch.channels_last)
        y = torch.randint(0, 10, (batch,))
    sgd = make_sgd(model, make_config(network, "cifar10", "unused", recipe=RECIPE))
    times = []
    for _ in range(repeats + 1):
        started = time.perf_counter()
        with autocast(device, precision):
            loss = F.cross_entropy(model(x), y)
        sgd.zero_grad(set_to_none=True)
        loss.backward()
        sgd.step()
        times.append(time.perf_counter() - started)
    return statistics.median(times[1:])


# ---- the smallest visible budget ----


def first_visible(shallow: dict[int, list[tuple[int, float]]], deep: dict[int, list[tuple[int, float]]]) -> dict[str, Any]:
    """The first logged iteration from which the deep network's training error is above the shallow
    one's beyond the seed-to-seed spread, at every later logged iteration too.

    ``shallow`` and ``deep`` map each seed to its curve, (iteration, training error) pairs. At an
    iteration the gap is the difference of the seeds' means and the spread the larger of the two
    networks' ranges over the seeds (highest minus lowest); the gap is visible when it exceeds the
    spread and every deep seed is above every shallow seed. With one seed there is no spread: the
    answer is None, and says so."""
    seeds = sorted(set(shallow) & set(deep))
    common = sorted(set.intersection(*[{s for s, _ in c[seed]} for c in (shallow, deep) for seed in seeds])) if seeds else []
    points = []
    for step in common:
        low = [dict(shallow[seed])[step] for seed in seeds]
        high = [dict(deep[seed])[step] for seed in seeds]
        gap = statistics.fmean(high) - statistics.fmean(low)
        spread = max(max(low) - min(low), max(high) - min(high))
        points.append({"step": step, "gap": gap, "spread": spread, "visible": len(seeds) > 1 and gap > spread and min(high) > max(low)})
    first = None
    for i, p in enumerate(points):
        if all(q["visible"] for q in points[i:]):
            first = p["step"]
            break
    return {"seeds": seeds, "points": points, "first_visible": first,
            "why_none": None if first is not None else "one seed: no spread to compare with" if len(seeds) < 2
            else "the gap is not beyond the spread at the last iteration" if points else "no common iterations"}  # fmt: skip


@dataclass
class LiveBudgetConfig:
    """The experiment's options; its flags are generated from these fields (``cli/options.py``)."""

    out: str = field(default="runs/live-budget", metadata=option("output folder", "run"))
    shallow: str = field(default="plain20", metadata=option("the shallow network", "plan", choices=list(NETWORKS)))
    deep: str = field(default="plain56", metadata=option("the deep network", "plan", choices=list(NETWORKS)))
    steps: int = field(default=300, metadata=option("iterations of each run (every shorter budget is a prefix)", "plan"))
    seeds: tuple[int, ...] = field(default=(0, 1, 2), metadata=option("seeds: each network trains once per seed", "plan"))
    dataset: str = field(default="cifar10", metadata=option("dataset (cifar10; mnist where only that is on disk)", "data"))
    data_dir: str | None = data_dir_option()
    device: str = device_option()
    progress: bool = progress_option()
    stop_after: float | None = stop_after_option()

    def __post_init__(self) -> None:
        self.stop_after = seconds(self.stop_after)  # from Python, "150m" as on the command line works too


def cells(cfg: LiveBudgetConfig) -> list[Cell]:
    """Both networks with every seed, each with the live plan for ``cfg.steps``."""
    if len(set(cfg.seeds)) < 2:
        raise ConfigError("give at least two seeds: the spread between seeds is what the gap is measured against")
    if cfg.shallow == cfg.deep:
        raise ConfigError("give two different networks")
    return [Cell(f"seed{seed}/{net}", live_plan(net, cfg.steps, seed, cfg.dataset, str(Path(cfg.out) / "runs" / f"seed{seed}" / net),
                                                data_dir=cfg.data_dir, device=cfg.device, progress=cfg.progress))
            for seed in cfg.seeds for net in (cfg.shallow, cfg.deep)]  # fmt: skip


def run_live_budget(cfg: LiveBudgetConfig, command: str = "") -> dict[str, Any] | GridStopped:
    """Train the grid (resumably: ``grid.run_grid``), then write ``results.json``: each run's curve
    and wall time, and ``first_visible``'s answer with the deep network's training time to it."""
    grid = cells(cfg)
    stopped = run_grid(grid, stop_after_s=cfg.stop_after, keep="metrics")
    if stopped is not None:
        return stopped
    curves: dict[str, dict[int, list[tuple[int, float]]]] = {cfg.shallow: {}, cfg.deep: {}}
    walls: dict[str, dict[int, list[tuple[int, float]]]] = {cfg.shallow: {}, cfg.deep: {}}
    for cell in grid:
        records = [r for r in read_metrics(cell.folder / "metrics.jsonl") if r.get("train_error") is not None]
        curves[cell.plan.model][cell.plan.seed] = [(int(r["step"]), float(r["train_error"])) for r in records]
        walls[cell.plan.model][cell.plan.seed] = [(int(r["step"]), float(r["wall_time"])) for r in records]
    found = first_visible(curves[cfg.shallow], curves[cfg.deep])
    at = found["first_visible"]
    time_to = None if at is None else statistics.fmean(dict(w)[at] for w in walls[cfg.deep].values())
    results = {
        "command": command, "dataset": cfg.dataset, "shallow": cfg.shallow, "deep": cfg.deep, "steps": cfg.steps,
        "seeds": list(cfg.seeds), "plan": live_options(cfg.deep, cfg.steps, 0, cfg.dataset) | {"recipe": RECIPE},
        "curves": {n: {str(s): c for s, c in by_seed.items()} for n, by_seed in curves.items()},
        "deep_seconds_to_first_visible": time_to, "deep_seconds_per_run": statistics.fmean(w[-1][1] for w in walls[cfg.deep].values()),
        "cpu": cpu_description(), "threads": torch.get_num_threads(), **found,
    }  # fmt: skip
    results["sentence"] = sentence(results)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    return results


def pretty(network: str) -> str:
    """``plain56`` as the lecture writes it: plain-56 (ResNet-56 for ``resnet56``)."""
    kind, depth = network.rstrip("0123456789"), network[len(network.rstrip("0123456789")):]
    return f"{'ResNet' if kind == 'resnet' else kind}-{depth}"


def sentence(results: dict[str, Any]) -> str:
    """The finding in one sentence, from the numbers."""
    s, d, at = pretty(results["shallow"]), pretty(results["deep"]), results["first_visible"]
    n = len(results["seeds"])
    if at is None:
        return f"{d} against {s} over {n} seeds and {results['steps']:,} iterations: the gap is not visible yet ({results['why_none']})."
    p = next(q for q in results["points"] if q["step"] == at)
    return (f"From {at:,} iterations on, {d}'s training error is above {s}'s beyond the spread of {n} seeds "
            f"({100 * p['gap']:.1f} points against a spread of {100 * p['spread']:.1f}); {d} trained that far in "
            f"{results['deep_seconds_to_first_visible']:.0f} s on {results.get('threads', '?')} threads.")
