"""A grid of training runs carried over sittings: the one loop behind every experiment that trains.

A grid is a list of cells, each one network trained with one plan: a ``TrainConfig`` whose ``out``
is the cell's run folder. ``run_grid`` goes through the cells in order:

- a finished cell (its metrics log reached the plan's length) is not trained again;
- a started one (its training state is there) is resumed where it stopped, after checking that it
  was trained with the cell's plan (a folder of another plan is refused in one line);
- the others start.

One segment limit (seconds) bounds the whole process: the cell in training stops at its first
logging point past it, with its checkpoint saved, and so does a stop signal (SIGTERM, SIGINT), at
the step it is on. Then ``GridStopped`` says where, and the same call continues. What is kept of a
finished cell is a setting: everything, or only what its curves need (``keep="metrics"``: the
metrics log, the segments and the configuration; the weights and the training state are deleted),
which is what a grid committed between sittings keeps.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..train import TrainConfig, read_metrics, resume, train
from ..train.checkpoint import BEST, CONFIG, LAST, PENDING, STATE, read_state
from ..train.config import DEFAULT_EPOCHS, RUNTIME_FIELDS, option, parse_duration
from ..train.loop import METRICS

KEEP = ("all", "metrics")


# ---- the options every grid experiment shares (its flags are generated from them: cli/options.py) ----


def data_dir_option() -> Any:
    return field(default=None, metadata=option("where the dataset lives (see 'classicnets train --help')", "data"))


def subset_option() -> Any:
    return field(default=None, metadata=option("train on this many images only (quick checks)", "data"))


def device_option() -> Any:
    return field(default="auto", metadata=option("auto, cpu, cuda or cuda:N", "run"))


def progress_option() -> Any:
    return field(default=True, metadata=option("a progress bar on the terminal", "run"))


def network_and_path(text: str) -> tuple[str, str]:
    """``--run NETWORK=PATH``: the network's name and a path, kept as text."""
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise ConfigError(f"--run wants NETWORK=PATH (e.g. resnet56=inflight/resnet56-cifar10), got {text!r}")
    return name, path


def stop_after_option() -> Any:
    """A segment limit for this process, in seconds (the command line parses the duration once)."""
    return field(default=None, metadata=option(
        "end this process cleanly after this much wall time (e.g. 150m, 2h): the network in training stops at its "
        "next logging point with its checkpoint saved; the same command continues. SIGTERM or Ctrl-C saves it at "
        "the step it is on", "run", metavar="DURATION", type=parse_duration))
HEAVY = (LAST, BEST, STATE, PENDING)  # what keep="metrics" deletes from a finished cell


@dataclass(frozen=True)
class Cell:
    """One network of a grid: its name in reports (e.g. ``seed0/plain20``) and its plan."""

    name: str
    plan: TrainConfig

    @property
    def folder(self) -> Path:
        return Path(self.plan.out)


@dataclass(frozen=True)
class GridStopped:
    """This process ended before the grid was trained: run the same command again."""

    cell: str  # the cell in training when the limit or the signal came
    network: str  # its model
    seed: int  # and its seed
    step: int
    total_steps: int
    finished: list[str]  # the names of every finished cell
    signal: int | None = None  # the signal that stopped it; None: the segment limit
    limit_s: float | None = None  # the segment limit, seconds


def finished(plan: TrainConfig) -> bool:
    """Whether the run folder ``plan.out`` holds a run that reached the plan's length (by its
    metrics log alone: a finished cell needs nothing else)."""
    log = Path(plan.out) / METRICS
    if not log.is_file():
        return False
    records = read_metrics(log, strict=False)
    if not records:
        return False
    if plan.iterations is not None:
        return max(int(r["step"]) for r in records) >= plan.iterations
    return max(float(r["epoch"]) for r in records) >= (plan.epochs or DEFAULT_EPOCHS) - 1e-9


def saved_config(run: Path) -> TrainConfig | None:
    """The configuration a run folder was trained with: from its training state, or from
    ``config.json`` where only the metrics were kept; None for a folder with neither."""
    if (run / STATE).is_file():
        return TrainConfig.from_dict(read_state(run / STATE)["config"])
    if (run / CONFIG).is_file():
        try:
            return TrainConfig.from_dict(json.loads((run / CONFIG).read_text())["config"])
        except (ValueError, KeyError, TypeError):
            raise ConfigError(f"{run / CONFIG}: not a classicnets run configuration") from None
    return None


def plan_differences(saved: TrainConfig, plan: TrainConfig) -> list[str]:
    """The options in which ``saved`` is not ``plan``, as "name saved (now planned)": every option
    but the runtime ones and ``out``, except that the length counts (a plan fixes it)."""
    ignored = (RUNTIME_FIELDS | {"out"}) - {"epochs", "iterations"}
    return [f"{f.name} {getattr(saved, f.name)} (now {getattr(plan, f.name)})" for f in fields(TrainConfig)
            if f.name not in ignored and getattr(saved, f.name) != getattr(plan, f.name)]  # fmt: skip


def check_same_plan(run: Path, plan: TrainConfig) -> None:
    """Refuse to resume or reuse ``run`` if it was trained with another plan (recipe, seed, ...)."""
    saved = saved_config(run)
    differ = plan_differences(saved, plan) if saved is not None else []
    if differ:
        raise ConfigError(f"{run} was trained with another plan: {', '.join(differ)}; give a new --out, or delete that folder")


def run_grid(cells: list[Cell], *, stop_after_s: float | None = None, keep: str = "all") -> GridStopped | None:
    """Train what is missing of ``cells`` (see the module docstring); None when every cell is finished."""
    if keep not in KEEP:
        raise ConfigError(f"keep must be one of {', '.join(KEEP)}, got {keep!r}")
    names = [c.name for c in cells]
    if len(set(names)) != len(names) or len({c.folder.resolve() for c in cells}) != len(cells):
        raise ConfigError("a grid's cells need distinct names and run folders")
    started = time.perf_counter()
    for cell in cells:
        run, plan = cell.folder, cell.plan
        if run.is_dir():
            check_same_plan(run, plan)
        if not finished(plan):
            limit = None if stop_after_s is None else max(1e-3, stop_after_s - (time.perf_counter() - started))
            if (run / STATE).is_file():
                runtime: dict[str, Any] = {k: getattr(plan, k) for k in RUNTIME_FIELDS - {"epochs", "iterations", "stop_after"}}
                result = resume(run, **runtime, stop_after=limit)
            else:
                run.parent.mkdir(parents=True, exist_ok=True)
                result = train(replace(plan, stop_after=limit))
            if result.stopped:
                done = [c.name for c in cells if finished(c.plan)]
                return GridStopped(cell.name, plan.model, plan.seed, result.steps, result.total_steps, done, result.signal,
                                   stop_after_s)
        if keep == "metrics":
            for name in HEAVY:
                (run / name).unlink(missing_ok=True)
    return None
