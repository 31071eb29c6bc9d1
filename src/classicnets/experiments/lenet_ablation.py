"""LeNet-5's pooling and activation, swapped one at a time: average against max pooling (LeCun's
subsampling averages; AlexNet pools with max), tanh against ReLU (AlexNet's choice, section 3.1).

Every variant is ``lenet5_modern`` (full C3, linear output) with the same recipe, trained with
several seeds; the report gives test error as mean +- standard deviation over the seeds. Nothing is
chosen on the test set: every variant trains for the same fixed number of epochs.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..train import make_config, read_metrics
from ..train.config import option, seconds
from .grid import (
    Cell,
    GridStopped,
    data_dir_option,
    device_option,
    progress_option,
    run_grid,
    stop_after_option,
    subset_option,
)

VARIANTS: dict[str, dict[str, str]] = {
    "avg pool + tanh": {"pooling": "avg", "activation": "tanh"},  # closest to 1998
    "max pool + tanh": {"pooling": "max", "activation": "tanh"},
    "avg pool + ReLU": {"pooling": "avg", "activation": "relu"},
    "max pool + ReLU": {"pooling": "max", "activation": "relu"},  # the textbook LeNet-5
}


@dataclass
class AblationConfig:
    """The ablation's options; ``classicnets experiment lenet-ablation``'s flags are generated from
    these fields (``cli/options.py``)."""

    out: str = field(default="runs/lenet-ablation", metadata=option("output folder", "run"))
    dataset: str = field(default="mnist", metadata=option("dataset name", "data"))
    seeds: tuple[int, ...] = field(default=(0, 1, 2), metadata=option("seeds: each variant trains once per seed", "plan"))
    epochs: int = field(default=3, metadata=option("epochs of each run", "plan"))
    data_dir: str | None = data_dir_option()
    subset: int | None = subset_option()
    device: str = device_option()
    progress: bool = progress_option()
    stop_after: float | None = stop_after_option()

    def __post_init__(self) -> None:
        self.stop_after = seconds(self.stop_after)  # from Python, "150m" as on the command line works too


def mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def cells(cfg: AblationConfig) -> list[Cell]:
    """Every variant with every seed, as a grid: the same recipe, the same fixed number of epochs."""
    return [Cell(f"{args['pooling']}-{args['activation']}-seed{seed}", make_config(
        "lenet5_modern", cfg.dataset, str(Path(cfg.out) / "runs" / f"{args['pooling']}-{args['activation']}-seed{seed}"),
        model_args=args, epochs=cfg.epochs, seed=seed, data_dir=cfg.data_dir, subset=cfg.subset, device=cfg.device,
        progress=cfg.progress,
    )) for args in VARIANTS.values() for seed in cfg.seeds]  # fmt: skip


def run_lenet_ablation(cfg: AblationConfig, command: str = "") -> dict[str, Any] | GridStopped:
    """Train each variant with each seed (``grid.run_grid``: a finished run is read back, a cut one
    resumed) and write ``results.json`` and ``report.md`` to ``cfg.out``. ``cfg.stop_after`` (seconds)
    bounds this process; ``GridStopped`` then says where it stopped, and the same call continues."""
    if len(cfg.seeds) < 1:
        raise ConfigError("give at least one seed")
    grid = cells(cfg)
    stopped = run_grid(grid, stop_after_s=cfg.stop_after)
    if stopped is not None:
        return stopped
    out = Path(cfg.out)
    rows: dict[str, dict[str, Any]] = {}
    for variant, args in VARIANTS.items():
        test_errors, val_errors, times = [], [], []
        for cell in grid:
            if cell.plan.model_args != args:
                continue
            last = read_metrics(cell.folder / "metrics.jsonl")[-1]  # the end of the fixed schedule
            test_errors.append(float(last["test_error"]))
            val_errors.append(float(last["val_error"]))
            times.append(float(last["wall_time"]))
        m, s = mean_std(test_errors)
        rows[variant] = {
            **args, "test_error_mean": m, "test_error_std": s, "test_errors": test_errors,
            "val_error_mean": mean_std(val_errors)[0], "train_time_s_mean": statistics.fmean(times),
        }  # fmt: skip
    results = {"command": command, "dataset": cfg.dataset, "seeds": list(cfg.seeds), "epochs": cfg.epochs,
               "variants": rows}  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    (out / "report.md").write_text(report_markdown(results))
    return results


def report_markdown(results: dict[str, Any]) -> str:
    n = len(results["seeds"])
    lines = [
        "# LeNet-5 ablation: pooling and activation",
        "",
        f"Command: `{results['command']}`",
        "",
        f"{results['dataset']}, lenet5_modern variants, {results['epochs']} epochs each, {n} seeds "
        f"({', '.join(map(str, results['seeds']))}); test error as mean +- std over the seeds.",
        "",
        "| variant | test error | val error (mean) | train time per run |",
        "| --- | --- | --- | --- |",
    ]
    for name, r in results["variants"].items():
        lines.append(f"| {name} | {r['test_error_mean']:.2%} +- {r['test_error_std']:.2%} | "
                     f"{r['val_error_mean']:.2%} | {r['train_time_s_mean']:.1f} s |")  # fmt: skip
    return "\n".join(lines) + "\n"
