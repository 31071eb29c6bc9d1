"""Figures for ``draw`` and ``shapes``: created on matplotlib's Agg canvas (no pyplot, no global
backend state) and saved as PNG or SVG with one-line errors."""

from __future__ import annotations

from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..errors import ConfigError, UserError

FORMATS = (".png", ".svg")
DPI = 110


def new_figure(width: float, height: float) -> Figure:
    """A figure of ``width`` x ``height`` inches, drawn by Agg."""
    fig = Figure(figsize=(width, height), facecolor="white")
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` to ``path`` (.png or .svg); a bad suffix or an unwritable path is a UserError."""
    out = Path(path)
    if out.suffix.lower() not in FORMATS:
        raise ConfigError(f"cannot write {out}: use a {' or '.join(FORMATS)} file name")
    try:
        fig.savefig(out, dpi=DPI, facecolor="white")
    except OSError as e:
        raise UserError(f"cannot write {out}: {e.strerror or e}") from e
    return out
