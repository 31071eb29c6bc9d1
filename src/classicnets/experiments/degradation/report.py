"""The degradation report in words (report.md), from results.json's content."""

from __future__ import annotations

from typing import Any


def report_markdown(results: dict[str, Any]) -> str:
    v = results["verdict"]
    seeds = results["seeds"]
    lines = [
        "# Degradation experiment",
        "",
        f"Command: `{results['command']}`",
        "",
        f"Dataset: {results['dataset']}.",
        f"Budget: {results['budget']} - cuts {results['cuts']}.",
        f"Seeds {', '.join(map(str, seeds))}; training time {results['wall_time_s'] / 60:.1f} min.",
        "",
        "## Training error against depth",
        "",
        *[f"- {s}" for s in results["trend"]["sentences"]],
        "",
        "## Shallowest against deepest",
        "",
        *[f"- {s}" for s in v["sentences"]],
        "",
        f"**Plain nets degrade with depth: {'yes' if v['plain_degrades'] else 'no'}. "
        f"The deeper ResNet trains at least as well as the shallower: {'yes' if v['resnet_improves'] else 'no'}. "
        f"The paper's claim is {'reproduced' if v['reproduced'] else 'NOT fully reproduced'} at this budget** "
        f"(compared at equal iterations: up to {v['at_iteration']:,}).",
        "",
        "## Final errors (mean over the last quarter of training)",
        "",
        "| model | training error" + "".join(f" | seed {s}" for s in seeds) + " | test error |",
        "| --- | ---" + " | ---" * len(seeds) + " | --- |",
    ]
    for name, row in results["final"].items():
        te = f"{row['test_error']:.2%}" if row["test_error"] is not None else "-"
        by_seed = "".join(f" | {e:.2%}" for e in row["train_error_by_seed"])
        spread = f" +- {row['train_error_std']:.2%}" if row.get("train_error_std") is not None else ""
        lines.append(f"| {name} | {row['train_error']:.2%}{spread}{by_seed} | {te} |")
    lines += ["", "![degradation](degradation.png)", ""]
    return "\n".join(lines)
