"""``plot_shapes``: height/width and channel count against depth for several models on one figure,
the lecture's claim that H and W shrink while the channels grow.

The x axis counts weight layers as the papers count depth (ResNet projections excluded); each
convolutional layer is one point at its output's height and channel count (log2 axes). The fully
connected layers that end each network have no height and are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter

from .figure import new_figure, save_figure
from .trace import trace


@dataclass(frozen=True)
class LayerPoint:
    """A convolutional layer's output: ``index`` is its position among the weight layers (1-based)."""

    index: int
    height: int
    width: int
    channels: int


@dataclass(frozen=True)
class ShapesPlot:
    """What ``plot_shapes`` returns: each model's points, and the figure."""

    series: dict[str, tuple[LayerPoint, ...]]
    figure: Figure = field(repr=False, compare=False)

    def save(self, path: str | Path) -> Path:
        return save_figure(self.figure, path)


def layer_points(name: str) -> tuple[LayerPoint, ...]:
    """The convolutional layers of a registered model at its default input."""
    layers = trace(name).weight_layers()
    return tuple(
        LayerPoint(i, c.output_shape[1], c.output_shape[2], c.output_shape[0])
        for i, c in enumerate(layers, start=1)
        if len(c.output_shape) == 3
    )


def plot_shapes(names: Sequence[str], path: str | Path | None = None) -> ShapesPlot:
    """Plot H and C against the weight-layer index for each registered model in ``names``; save
    the figure to ``path`` (.png or .svg) when given."""
    series = {name: layer_points(name) for name in names}
    fig = new_figure(8.0, 6.5)
    top, bottom = fig.subplots(2, 1, sharex=True)
    for name, points in series.items():
        x = [p.index for p in points]
        (line,) = top.plot(x, [p.height for p in points], marker="o", markersize=3, linewidth=1.4, label=name)
        bottom.plot(x, [p.channels for p in points], marker="o", markersize=3, linewidth=1.4, color=line.get_color())
    for ax, what in ((top, "height = width of the output"), (bottom, "channels of the output")):
        ax.set_yscale("log", base=2)
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:g}"))
        ax.set_ylabel(what)
        ax.grid(True, which="major", alpha=0.3)
    bottom.set_xlabel("weight layer (convolutions; depth as the papers count it)")
    top.set_title("Height and width shrink while the channels grow")
    top.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    plot = ShapesPlot(series, fig)
    if path is not None:
        plot.save(path)
    return plot
