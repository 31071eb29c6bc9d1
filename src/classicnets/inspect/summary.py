"""``summary``: a keras-style layer table (shape, parameters, MACs per layer), checked against the
published parameter count and MACs.

Rows follow ``Trace.rows``: by default one row per residual block for ResNets (resnet152's table
stays at 56 rows) and every leaf layer for the other families; ``depth`` picks another level as
torchinfo's does (1: the model's children, e.g. one row per ResNet stage).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.text import Text
from torch import nn

from ..errors import ConfigError
from ..models.resnet import ResidualBlock
from ..registry import Published
from .table import MACS_NOTE, Column, fmt_int, fmt_shape, fmt_si, markdown_table, rich_table
from .trace import Call, Trace, trace

PARAMS_TOLERANCE = 0.0  # parameter counts must be exact
MACS_TOLERANCE = 0.01  # MACs within 1% of the published figure

COLUMNS = (
    Column("Layer"), Column("Type"), Column("Stage"), Column("Output shape"),
    Column("Params", "right"), Column("MACs", "right"),
)  # fmt: skip


@dataclass(frozen=True)
class Row:
    """One line of the table. ``output_shape`` is C x H x W (or units), without the batch."""

    name: str
    type: str
    stage: str | None
    output_shape: tuple[int, ...]
    params: int
    macs: int

    @classmethod
    def from_call(cls, call: Call) -> Row:
        kind = type(call.module).__name__
        if isinstance(call.module, ResidualBlock):
            kind += f" ({call.module.shortcut_path()} shortcut)"
        return cls(call.name, kind, call.stage, call.output_shape, call.params, call.macs)

    def cells(self) -> list[str]:
        return [self.name, self.type, self.stage or "", fmt_shape(self.output_shape),
                fmt_int(self.params), fmt_int(self.macs)]  # fmt: skip


@dataclass(frozen=True)
class Totals:
    params: int  # trainable + non-trainable
    trainable: int
    non_trainable: int  # parameters with requires_grad=False
    buffers: int  # saved non-parameter state: BatchNorm statistics, LeNet-5's fixed RBF codes
    macs: int  # per image

    @classmethod
    def of(cls, model: nn.Module, macs: int) -> Totals:
        params = dict(model.named_parameters())
        trainable = sum(p.numel() for p in params.values() if p.requires_grad)
        total = sum(p.numel() for p in params.values())
        state = model.state_dict(keep_vars=True)
        buffers = sum(t.numel() for k, t in state.items() if k not in params)
        return cls(total, trainable, total - trainable, buffers, macs)


@dataclass(frozen=True)
class Check:
    """A computed total set against its published figure."""

    quantity: str  # "parameters" or "MACs"
    computed: int
    published: Published | None
    tolerance: float  # relative; 0 means exact
    skipped: str | None = None  # why the two cannot be compared

    @property
    def ok(self) -> bool | None:
        """True or False when compared; None when there is nothing to compare with."""
        if self.published is None or self.skipped:
            return None
        return abs(self.computed - self.published.value) <= self.tolerance * self.published.value

    def describe(self) -> str:
        if self.skipped:
            return f"{self.quantity}: not compared ({self.skipped})"
        if self.published is None:
            return f"{self.quantity}: no published figure"
        pub = self.published
        fmt = fmt_int if self.tolerance == 0 else fmt_si
        diff = 100 * (self.computed - pub.value) / pub.value
        if self.ok:
            within = "" if self.tolerance == 0 else f" within {self.tolerance:.0%} ({diff:+.2f}%)"
            return f"{self.quantity}: matches published {fmt(pub.value)}{within} ({pub.source})"
        return (
            f"{self.quantity}: MISMATCH: computed {fmt(self.computed)}, published {fmt(pub.value)} "
            f"({diff:+.2f}%; {pub.source})"
        )

    def to_dict(self) -> dict[str, Any]:
        pub = self.published
        return {
            "quantity": self.quantity, "computed": self.computed,
            "published": pub.value if pub else None, "source": pub.source if pub else None,
            "tolerance": self.tolerance, "ok": self.ok, "message": self.describe(),
        }  # fmt: skip


@dataclass(frozen=True)
class Summary:
    """What ``summary`` returns: rows, totals and checks. Prints as a rich table; converts to a
    dict, JSON and Markdown."""

    model: str
    input_size: tuple[int, int, int]
    output_shape: tuple[int, ...]
    depth: int
    rows: tuple[Row, ...]
    totals: Totals
    checks: tuple[Check, ...]

    @property
    def title(self) -> str:
        return f"{self.model}: input {fmt_shape(self.input_size)}, output {fmt_shape(self.output_shape)}"

    def footer(self) -> list[str]:
        t = self.totals
        return [
            f"Total params: {fmt_int(t.params)} (trainable {fmt_int(t.trainable)}, "
            f"non-trainable {fmt_int(t.non_trainable)})",
            f"Buffers (saved state, not parameters): {fmt_int(t.buffers)}",
            f"MACs per image: {fmt_int(t.macs)} ({fmt_si(t.macs)}) = {fmt_si(2 * t.macs)} FLOPs",
            *(c.describe() for c in self.checks),
            MACS_NOTE,
        ]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        table = rich_table(COLUMNS, [r.cells() for r in self.rows], title=self.title)
        yield Group(table, *(self._footer_line(line) for line in self.footer()))

    def _footer_line(self, line: str) -> Text:
        return Text(line, style="bold red" if "MISMATCH" in line else "")

    def to_text(self, width: int = 120) -> str:
        """The table as plain text, ``width`` columns wide."""
        buf = io.StringIO()
        Console(file=buf, width=width, color_system=None, soft_wrap=False).print(self)
        return buf.getvalue()

    def __str__(self) -> str:
        return self.to_text()

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "input_size": list(self.input_size),
            "output_shape": list(self.output_shape),
            "depth": self.depth,
            "rows": [{**asdict(r), "output_shape": list(r.output_shape)} for r in self.rows],
            "totals": asdict(self.totals),
            "checks": [c.to_dict() for c in self.checks],
            "note": MACS_NOTE,
        }

    @classmethod
    def from_trace(cls, tr: Trace, depth: int | None = None) -> Summary:
        """The summary of an existing trace (``summary`` traces the model first)."""
        totals = Totals.of(tr.model, tr.macs)
        return cls(
            model=tr.name,
            input_size=tr.input_size,
            output_shape=tr.output_shape,
            depth=tr.default_depth() if depth is None else depth,
            rows=tuple(Row.from_call(c) for c in tr.rows(depth)),
            totals=totals,
            checks=tuple(_checks(tr, totals)),
        )

    def to_json(self, indent: int = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def to_markdown(self) -> str:
        table = markdown_table(COLUMNS, [r.cells() for r in self.rows])
        return f"**{self.title}**\n\n{table}\n\n" + "\n".join(f"- {line}" for line in self.footer()) + "\n"


def summary(
    model_or_name: nn.Module | str, input_size: Sequence[int] | None = None, depth: int | None = None
) -> Summary:
    """The layer table of a registered model (by name) or of a model instance.

    ``input_size`` is (C, H, W), by default the model card's (needed for an instance). ``depth``
    picks the rows (see ``Trace.rows``); by default one row per block for ResNets and every leaf
    layer otherwise. Registered models are checked against their published parameter count
    (exactly) and MACs (within 1%, at the card's input size only).
    """
    if depth is not None and depth < 1:
        raise ConfigError(f"depth must be 1 or more, not {depth}")
    return Summary.from_trace(trace(model_or_name, input_size), depth)


def _checks(tr: Trace, totals: Totals) -> Iterator[Check]:
    if tr.info is None:
        return
    yield Check("parameters", totals.params, tr.info.params, PARAMS_TOLERANCE)
    other_input = tr.input_size != tr.info.input_size
    skipped = f"published for a {fmt_shape(tr.info.input_size)} input" if other_input else None
    yield Check("MACs", totals.macs, tr.info.macs, MACS_TOLERANCE, skipped if tr.info.macs else None)
