"""Formatting shared by the inspection tables: counts, shapes, and one table as rich or Markdown."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rich import box
from rich.table import Table
from rich.text import Text

MACS_NOTE = (
    "One multiply-accumulate (MAC) = 2 FLOPs; we report MACs, which is what torchvision's 'GFLOPS' "
    "column and the ResNet paper's 'FLOPs' count. Only convolutions and matrix products count."
)


def fmt_int(n: float) -> str:
    """``60000`` -> ``60,000``."""
    return f"{int(n):,}"


def fmt_si(n: float) -> str:
    """``15470264320`` -> ``15.47 G``; small numbers stay whole."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= scale:
            return f"{n / scale:.2f} {suffix}"
    return f"{int(n)}"


def fmt_shape(shape: Sequence[int]) -> str:
    """A shape as the tables write it, C x H x W: ``(6, 28, 28)`` -> ``6x28x28``."""
    return "x".join(map(str, shape)) if shape else "-"


@dataclass(frozen=True)
class Column:
    header: str
    justify: Literal["left", "right"] = "left"


def rich_table(columns: Sequence[Column], rows: Sequence[Sequence[str]], title: str | None = None) -> Table:
    """A rich table; cells are plain text (never parsed as rich markup)."""
    table = Table(title=Text(title) if title else None, box=box.SIMPLE_HEAD, title_justify="left")
    for col in columns:
        table.add_column(col.header, justify=col.justify)
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    return table


def markdown_table(columns: Sequence[Column], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured Markdown table (pipes in cells escaped)."""
    rule = {"left": ":---", "right": "---:"}
    lines = [
        "| " + " | ".join(c.header for c in columns) + " |",
        "| " + " | ".join(rule[c.justify] for c in columns) + " |",
    ]
    lines += ["| " + " | ".join(cell.replace("|", r"\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)
