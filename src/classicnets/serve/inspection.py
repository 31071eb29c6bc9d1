"""The models page's data: each registered model's card, layer table, diagram and shape walk, all
from ``classicnets.inspect`` (the same code as ``classicnets summary``, ``draw`` and ``shapes``).

A model's answers never change while the server runs, so each is computed once and kept.
"""

from __future__ import annotations

import io
import threading
from functools import lru_cache
from typing import Any

from ..factory import list_models, model_info
from ..inspect import compare, summary
from ..inspect.draw import draw
from ..inspect.shapes import layer_points
from ..inspect.table import fmt_shape

_DRAWING = threading.Lock()  # matplotlib figures are not safe to draw from two threads at once


def catalogue() -> list[dict[str, Any]]:
    """Every registered model with the facts a picker shows."""
    out = []
    for name in list_models():
        info = model_info(name)
        out.append({"name": name, "family": info.family, "year": info.year, "depth": info.depth,
                    "params": int(info.params.value), "input": fmt_shape(info.input_size),
                    "paper_error": info.error.value if info.error else None})  # fmt: skip
    return out


@lru_cache(maxsize=None)
def model_page(name: str) -> dict[str, Any]:
    """A model's card, its layer table with the checks against published figures, and its
    convolutional layers' height x width and channels (for the shape chart)."""
    info = model_info(name)
    table = summary(name).to_dict()
    points = [{"layer": p.index, "hw": p.height * p.width, "height": p.height, "width": p.width,
               "channels": p.channels} for p in layer_points(name)]  # fmt: skip
    return {
        "name": name,
        "card": info.to_dict(),
        "summary": table,
        "shapes": points,
        "compare": compare([name]).to_dict()["models"][0],
    }


@lru_cache(maxsize=None)
def diagram_svg(name: str) -> bytes:
    """The course-style diagram of ``inspect.draw``, as SVG."""
    model_info(name)  # an unknown name fails here, before any drawing
    with _DRAWING:
        figure = draw(name).figure
        buf = io.BytesIO()
        figure.savefig(buf, format="svg", facecolor="white")
    return buf.getvalue()
