"""The degradation figure: plain nets and ResNets as in Fig. 6, and the lecture's picture, the final
training error against depth."""

from __future__ import annotations

import statistics
from pathlib import Path

from ..plots import depth_axis, save, three_panels
from .verdicts import Curve, Trend


def plot(curves: dict[str, Curve], trends: list[Trend], path: Path, note: str = "",
         finals_by_seed: list[dict[str, float]] | None = None) -> dict[str, list[tuple[int, float]]]:  # fmt: skip
    """Three panels: plain nets and ResNets as in Fig. 6 (training error dashed, test error bold,
    one colour per depth), and the lecture's picture: final training error against depth. Returns
    the points of that last panel, (depth, error in %) per family, as drawn."""
    plt, fig, axes = three_panels()
    depths = sorted({d for t in trends for d in t.depths})
    colours = plt.get_cmap("viridis")
    for ax, kind, title in ((axes[0], "plain", "plain networks"), (axes[1], "resnet", "ResNets")):
        for i, d in enumerate(depths):
            c = curves.get(f"{kind}{d}")
            if c is None:
                continue
            col = colours(0.85 * i / max(1, len(depths) - 1))
            label = f"{'plain' if kind == 'plain' else 'ResNet'}-{d}"
            ax.plot(c.steps, [100 * e for e in c.train_error], "--", color=col, lw=1.0)
            ts = [(s, 100 * e) for s, e in zip(c.steps, c.test_error) if e is not None]
            if ts:
                ax.plot(*zip(*ts), "-", color=col, lw=2.4, label=label)
        ax.set_title(title)
        ax.set_xlabel("iterations")
        ax.grid(alpha=0.3)
        ax.legend(title="bold: test, dashed: train", fontsize=8, title_fontsize=8)
    axes[1].sharey(axes[0])
    axes[0].set_ylabel("error (%)")
    ax = axes[2]
    drawn: dict[str, list[tuple[int, float]]] = {}
    for t, colour, marker in zip(trends, ("#c0392b", "#1f4e9c"), ("s", "o")):
        errs = [100 * e for e in t.errors]
        spread = None
        if finals_by_seed and len(finals_by_seed) > 1:
            spread = [100 * statistics.stdev([f[f"{t.family}{d}"] for f in finals_by_seed]) for d in t.depths]
        line = ax.errorbar(t.depths, errs, yerr=spread, marker=marker, color=colour, lw=2, capsize=4,
                           label="plain" if t.family == "plain" else "ResNet")  # fmt: skip
        drawn[t.family] = list(zip(*(a.tolist() for a in line.lines[0].get_data()), strict=True))
    depth_axis(ax, depths, "training error against depth")
    save(plt, fig, path, note)
    return drawn
