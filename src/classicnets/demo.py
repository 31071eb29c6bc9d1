"""``classicnets demo``: the main job, in about two minutes on two CPU cores, offline.

1. The four case studies side by side: year, depth, parameters, MACs, published error, and how
   height and width shrink while channels grow, layer by layer.
2. LeNet-5, as the 1998 paper builds it, trained on the best data at hand: MNIST when it is
   found on disk, else the handwritten digits that ship with scikit-learn.
3. Its training curves, plotted to ``OUT/curves.png``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from .data import find_data, load_dataset
from .inspect import compare, trace
from .inspect.trace import layer_kind
from .train import make_config, read_metrics, train

CASE_STUDIES = ("lenet5", "alexnet", "vgg16", "resnet34", "resnet20")


def fmt_shape(shape: tuple[int, ...]) -> str:
    """The lecture's notation: height x width x channels, or the width of a vector."""
    return f"{shape[1]}x{shape[2]}x{shape[0]}" if len(shape) == 3 else "x".join(map(str, shape))


def shape_walk(name: str) -> str:
    """Each distinct activation shape through the network, e.g. 32x32x1 -> 28x28x6 -> ...
    (ResNet blocks count as one step; repeated shapes are shown once)."""
    tr = trace(name)
    steps = [fmt_shape(tr.input_size)]
    blocks: list[str] = []
    for call in tr.calls:
        kind = layer_kind(call.module)
        if kind is None or any(call.name.startswith(b + ".") for b in blocks):
            continue
        if kind == "block":
            blocks.append(call.name)
        s = fmt_shape(call.output_shape)
        if s != steps[-1]:
            steps.append(s)
    return " -> ".join(steps)


@dataclass(frozen=True)
class DemoResult:
    dataset: str
    test_accuracy: float
    curves: Path
    run: Path


def plot_curves(metrics: list[dict], path: Path, title: str) -> None:
    """Training error (running average) and validation error against iterations."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [r["step"] for r in metrics]
    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.plot(steps, [100 * r["train_error"] for r in metrics], "--", label="training error (running average)")
    val = [(r["step"], 100 * r["val_error"]) for r in metrics if r.get("val_error") is not None]
    if val:
        ax.plot(*zip(*val), "-", lw=2, label="validation error")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    ax.yaxis.set_minor_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    ax.set_xlabel("iterations")
    ax.set_ylabel("error (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run_demo(out: str | Path = "runs/demo", data_dir: str | None = None, epochs: int = 4,
             console: Console | None = None) -> DemoResult:  # fmt: skip
    console = console or Console()
    out = Path(out)
    console.rule("[bold]1. The case studies, side by side")
    console.print(compare(CASE_STUDIES))
    console.print("\nHeight and width shrink while channels grow (height x width x channels):\n")
    for name in CASE_STUDIES:
        console.print(f"[bold]{name}[/bold]: {shape_walk(name)}\n")

    dataset = "mnist" if find_data("mnist", data_dir) is not None else "digits"
    why = "found on disk" if dataset == "mnist" else "MNIST not found; scikit-learn's bundled digits instead"
    console.rule(f"[bold]2. LeNet-5 (1998) trained on {dataset} ({why})")
    run = out / f"lenet5-{dataset}"
    if run.exists():  # a fresh run each time: the demo should show training, not resume it
        shutil.rmtree(run)
    config = make_config("lenet5", dataset, str(run), recipe="lenet5", data_dir=data_dir, epochs=epochs)
    train_images = len(load_dataset(dataset, data_dir).train)  # from the tensor cache: about 0.1 s
    config.eval_every = max(1, train_images // config.batch_size // 2)  # two points per epoch on the curves
    result = train(config.validate())
    accuracy = 1 - (result.test_error or 0.0)
    console.print(
        f"\nLeNet-5 ({dataset}): test accuracy [bold]{accuracy:.2%}[/bold] after {result.epochs:.0f} epochs, "
        f"{result.wall_time:.0f} s (the paper: 99.05% after 20 passes). "
        f"Validation error chose the best checkpoint; the test set was only reported."
    )
    console.rule("[bold]3. Training curves")
    curves = out / "curves.png"
    plot_curves(read_metrics(run / "metrics.jsonl"), curves, f"LeNet-5 on {dataset}")
    console.print(f"wrote {curves}; the run (weights, metrics.jsonl) is in {run}")
    console.print(f"next: classicnets eval {run}   |   classicnets predict {run} IMAGE.png")
    return DemoResult(dataset, accuracy, curves, run)
