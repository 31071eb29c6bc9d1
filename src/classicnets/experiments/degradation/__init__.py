"""The degradation experiment of He et al. 2015 (Fig. 1 and Fig. 6): plain networks train worse as
they get deeper; residual networks of the same depths train better.

``run_degradation`` trains ``plainN`` and ``resnetN`` for each depth of a budget, with the paper's
CIFAR-10 recipe (``resnet-cifar``: batch 128, lr 0.1 divided by 10 at 50% and 75% of the
iterations, weight decay 1e-4, momentum 0.9, option A, the 45k/5k split), for one seed or
several. It records training error (a running average over each logging window, the paper's thin
lines) and test error, and writes

    OUT/results.json      the curves, the final errors, the verdict and the depth trend
    OUT/report.md         the verdict in words, with the final errors
    OUT/degradation.png   plain nets, ResNets (Fig. 6), and final training error against depth
    OUT/runs/seed<N>/<model>/   each model's training run (resumable; a finished one is not retrained)

The lecture's picture is the third panel: training error against the number of layers. The
report says, for each family, whether the error rises or falls at every step of depth, and how
big each step is against the seed-to-seed spread; a step within the spread is a tie, never a win.
Test error is only reported; nothing is chosen on it.

The pieces, one job each: ``plan`` (budgets, options, the grid of networks), ``verdicts`` (curves,
the verdict, the trends), ``figure``, ``report``; this module runs them.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ...data import find_data
from ...train import read_metrics
from ...train.loop import SEGMENTS
from ..grid import GridStopped, run_grid
from .figure import plot
from .plan import (
    BUDGET_HELP,
    BUDGETS,
    PAPER_ITERATIONS,
    SWEEP_ITERATIONS,
    Budget,
    DegradationConfig,
    cells,
    run_folder,
)
from .report import report_markdown
from .verdicts import (
    MIN_SPREAD,
    ONE_SEED_SPREAD,
    Curve,
    Step,
    Trend,
    Verdict,
    common_iteration,
    curve_from_metrics,
    late_mean,
    trend,
    verdict,
    verdict_from_finals,
)

__all__ = [
    "BUDGETS",
    "BUDGET_HELP",
    "MIN_SPREAD",
    "ONE_SEED_SPREAD",
    "PAPER_ITERATIONS",
    "SWEEP_ITERATIONS",
    "Budget",
    "Curve",
    "DegradationConfig",
    "Step",
    "Stopped",
    "Trend",
    "Verdict",
    "cells",
    "common_iteration",
    "curve_from_metrics",
    "late_mean",
    "plot",
    "report_markdown",
    "run_degradation",
    "run_folder",
    "summarise",
    "trend",
    "verdict",
    "verdict_from_finals",
]

Stopped = GridStopped  # the name this module's callers know


def run_degradation(cfg: DegradationConfig, command: str = "") -> dict[str, Any] | Stopped:
    """Train every network of the plan for every seed (``grid.run_grid``: resuming unfinished runs,
    skipping finished ones), then write results.json, report.md and degradation.png to ``cfg.out``.

    With ``cfg.stop_after`` the whole process is a segment: the network in training stops at its
    first logging point past the limit (its checkpoint saved), and ``Stopped`` says where; the same
    command continues from there. A finished network needs only its ``metrics.jsonl``.
    """
    budget, _, iterations = cfg.plan()
    started = time.perf_counter()
    grid = cells(cfg)
    stopped = run_grid(grid, stop_after_s=cfg.stop_after)
    if stopped is not None:
        return stopped
    curves: list[dict[str, Curve]] = [{} for _ in cfg.seeds]
    segments: dict[str, list[dict[str, Any]]] = {}
    train_time = 0.0
    for cell in grid:
        seed, name = cell.plan.seed, cell.plan.model
        records = read_metrics(cell.folder / "metrics.jsonl")
        curves[cfg.seeds.index(seed)][name] = curve_from_metrics(name, records)
        train_time += float(records[-1]["wall_time"])  # the run's whole training, resumed sessions included
        if (cell.folder / SEGMENTS).is_file():
            segments[cell.name] = json.loads((cell.folder / SEGMENTS).read_text())
    milestones = tuple(int(m) for m in grid[0].plan.milestones)
    results, trends = summarise(cfg, curves, budget, iterations, milestones)
    found = find_data(cfg.dataset, cfg.data_dir)
    results.update(command=command, wall_time_s=train_time, this_invocation_s=time.perf_counter() - started,
                   segments=segments, data=f"{cfg.dataset} from {_shown_path(found)}")  # fmt: skip
    out = Path(cfg.out)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    (out / "report.md").write_text(report_markdown(results))
    plot(curves[0], trends, out / "degradation.png", finals_by_seed=_finals_by_seed(curves, results["at_iteration"]),
         note=_figure_note(cfg.dataset, iterations, cfg.seeds))
    return results


def _figure_note(dataset: str, iterations: int, seeds: tuple[int, ...]) -> str:
    """The figure's title line: with several seeds, the curves are the first seed's and the depth
    panel is the mean over all of them, its bars one standard deviation."""
    if len(seeds) == 1:
        return f"{dataset}, {iterations:,} iterations per network, seed {seeds[0]}"
    return (f"{dataset}, {iterations:,} iterations per network; curves: seed {seeds[0]}; "
            f"against depth: mean and standard deviation over seeds {', '.join(map(str, seeds))}")


def _shown_path(path: Path | None) -> str:
    """A data path as results.json records it: relative to the working folder where it is near
    (``../shared/data/cifar10``), so that published results do not carry one machine's layout."""
    if path is None:
        return "an unknown place"
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return str(path)
    return rel if rel.count("..") <= 2 else str(path)


def _finals_by_seed(curves: list[dict[str, Curve]], at: int) -> list[dict[str, float]]:
    return [{n: late_mean(c, at) for n, c in seed.items()} for seed in curves]  # type: ignore[misc]


def summarise(cfg: DegradationConfig, curves: list[dict[str, Curve]], budget: Budget, iterations: int,
              milestones: tuple[int, ...]) -> tuple[dict[str, Any], list[Trend]]:  # fmt: skip
    """results.json's content (the first seed's curves, those of the other seeds by seed, every
    network's final errors, mean and per seed, the shallowest-against-deepest verdict, each
    family's depth trend) and the trends."""
    _, depths, _ = cfg.plan()
    at = min(common_iteration(seed) for seed in curves)
    finals_by_seed = _finals_by_seed(curves, at)
    final: dict[str, dict[str, Any]] = {}
    for name in curves[0]:
        train_errors = [f[name] for f in finals_by_seed]
        tests = [late_mean(seed[name], at, "test_error") for seed in curves]
        known = [t for t in tests if t is not None]
        final[name] = {
            "train_error": statistics.fmean(train_errors),
            "train_error_std": statistics.stdev(train_errors) if len(train_errors) > 1 else None,
            "train_error_by_seed": train_errors,
            "test_error": statistics.fmean(known) if known else None,
        }
    plain_depths = tuple(d for d in depths if d not in budget.resnet_only)
    v = verdict_from_finals(final, min(plain_depths), max(plain_depths), at)
    trends = [trend("plain", finals_by_seed, plain_depths), trend("resnet", finals_by_seed, depths)]
    results = {
        "dataset": cfg.dataset,
        "budget": cfg.budget,
        "cuts": budget.cuts if iterations == budget.iterations else f"iterations: {iterations:,} (override)",
        "iterations": iterations,
        "milestones": list(milestones),
        "depths": list(depths),
        "seeds": list(cfg.seeds),
        "seed": cfg.seeds[0],
        "at_iteration": at,
        "curves": {n: asdict(c) for n, c in curves[0].items()},
        "curves_of_other_seeds": {str(seed): {n: asdict(c) for n, c in by_name.items()}
                                  for seed, by_name in zip(cfg.seeds[1:], curves[1:], strict=True)},
        "final": final,
        "verdict": {**asdict(v), "sentences": v.sentences()},
        "trend": {"families": [asdict(t) for t in trends], "sentences": [t.sentence() for t in trends]},
    }
    return results, trends
