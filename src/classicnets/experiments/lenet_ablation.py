"""LeNet-5's pooling and activation, swapped one at a time: average against max pooling (LeCun's
subsampling averages; AlexNet pools with max), tanh against ReLU (AlexNet's choice, section 3.1).

Every variant is ``lenet5_modern`` (full C3, linear output) with the same recipe, trained with
several seeds; the report gives test error as mean +- standard deviation over the seeds. Nothing is
chosen on the test set: every variant trains for the same fixed number of epochs.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..train import make_config, read_metrics, train

VARIANTS: dict[str, dict[str, str]] = {
    "avg pool + tanh": {"pooling": "avg", "activation": "tanh"},  # closest to 1998
    "max pool + tanh": {"pooling": "max", "activation": "tanh"},
    "avg pool + ReLU": {"pooling": "avg", "activation": "relu"},
    "max pool + ReLU": {"pooling": "max", "activation": "relu"},  # the textbook LeNet-5
}


@dataclass
class AblationConfig:
    out: str
    dataset: str = "mnist"
    seeds: tuple[int, ...] = (0, 1, 2)
    epochs: int = 3
    data_dir: str | None = None
    subset: int | None = None
    device: str = "auto"
    progress: bool = True


def mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def run_lenet_ablation(cfg: AblationConfig, command: str = "") -> dict[str, Any]:
    """Train each variant with each seed (a finished run is read back, not retrained) and write
    ``results.json`` and ``report.md`` to ``cfg.out``."""
    if len(cfg.seeds) < 1:
        raise ConfigError("give at least one seed")
    out = Path(cfg.out)
    rows: dict[str, dict[str, Any]] = {}
    for variant, args in VARIANTS.items():
        test_errors, val_errors, times = [], [], []
        for seed in cfg.seeds:
            run = out / "runs" / f"{args['pooling']}-{args['activation']}-seed{seed}"
            log = run / "metrics.jsonl"
            if not (run / "result.json").exists():
                r = train(make_config(
                    "lenet5_modern", cfg.dataset, str(run), model_args=args, epochs=cfg.epochs, seed=seed,
                    data_dir=cfg.data_dir, subset=cfg.subset, device=cfg.device, progress=cfg.progress,
                ))  # fmt: skip
                (run / "result.json").write_text(json.dumps({"test_error": r.test_error, "val_error": r.val_error}))
            done = json.loads((run / "result.json").read_text())
            test_errors.append(float(done["test_error"]))
            val_errors.append(float(done["val_error"]))
            times.append(float(read_metrics(log)[-1]["wall_time"]))
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
