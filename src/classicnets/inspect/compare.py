"""``compare``: the case-study table a lecture puts on a slide, one row per model: year, depth,
parameters and MACs (computed, at the model's default input), input size, published error."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.text import Text

from ..factory import model_info
from .summary import summary
from .table import MACS_NOTE, Column, fmt_int, fmt_shape, fmt_si, markdown_table, rich_table

COLUMNS = (
    Column("Model"), Column("Year", "right"), Column("Depth", "right"), Column("Params", "right"),
    Column("MACs", "right"), Column("Input"), Column("Error %", "right"), Column("Measured as"), Column("Source"),
)  # fmt: skip


@dataclass(frozen=True)
class ModelRow:
    """One model. ``params`` and ``macs`` are computed (``summary`` checks them against the
    literature); ``error`` is the published test error in %, with its metric and source."""

    model: str
    year: int
    depth: int  # weight layers, as the paper counts them
    params: int
    macs: int  # per image, at input_size
    input_size: tuple[int, int, int]
    error: float | None
    metric: str | None
    source: str | None

    def cells(self) -> list[str]:
        return [
            self.model, str(self.year), str(self.depth), fmt_int(self.params), fmt_si(self.macs),
            fmt_shape(self.input_size), "-" if self.error is None else f"{self.error:g}",
            self.metric or "-", self.source or "-",
        ]  # fmt: skip


@dataclass(frozen=True)
class Comparison:
    """What ``compare`` returns: prints as a rich table; converts to a dict and Markdown."""

    rows: tuple[ModelRow, ...]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Group(rich_table(COLUMNS, [r.cells() for r in self.rows]), Text(MACS_NOTE))

    def to_dict(self) -> dict[str, Any]:
        return {"models": [asdict(r) for r in self.rows], "note": MACS_NOTE}

    def to_markdown(self) -> str:
        return markdown_table(COLUMNS, [r.cells() for r in self.rows]) + f"\n\n{MACS_NOTE}\n"


def compare(names: Sequence[str]) -> Comparison:
    """The case-study table for registered models, in the order given."""
    rows = []
    for name in names:
        info, totals = model_info(name), summary(name).totals
        err = info.error
        rows.append(ModelRow(
            name, info.year, info.depth, totals.params, totals.macs, info.input_size,
            err.value if err else None, err.metric if err else None, err.source if err else None,
        ))  # fmt: skip
    return Comparison(tuple(rows))
