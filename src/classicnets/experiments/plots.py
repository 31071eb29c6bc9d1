"""What the experiments' figures share: three panels (two of curves, then error against depth),
the depth panel's axes, and saving. matplotlib loads only when a figure is drawn."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def three_panels(share_curves_y: bool = False) -> tuple[Any, Any, Any]:
    """matplotlib's pyplot (headless), and a figure with the experiments' three panels; with
    ``share_curves_y`` the two curve panels share one y axis (shared before anything is drawn, so
    that its range covers both panels' curves)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.6), gridspec_kw={"width_ratios": [1, 1, 0.8]})
    if share_curves_y:
        axes[1].sharey(axes[0])
    return plt, fig, axes


def log_percent_axis(ax: Any) -> None:
    """A log-scale y axis of percentages labelled as a person writes them (1, 2, 5, 10, 20, 50),
    not as powers of ten."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, NullLocator

    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_minor_formatter(NullFormatter())


def depth_axis(ax: Any, depths: list[int] | tuple[int, ...], title: str, legend_size: int = 9) -> None:
    """The lecture's picture: final training error (%) against the number of layers."""
    ax.set_xticks(list(depths))
    ax.set_xlabel("number of layers")
    ax.set_ylabel("final training error (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=legend_size)


def save(plt: Any, fig: Any, path: Path, note: str = "") -> None:
    """The figure to ``path`` (PNG at 110 dpi), with ``note`` as its title line."""
    if note:
        fig.suptitle(note, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
