"""``draw``: an architecture diagram in the style of the deep-learning course's figures.

Each layer (or ResNet block) is a pseudo-3D cuboid: its height and receding side follow the
spatial size (square-root scale), its thickness the channel count (log scale); fully connected
layers are thin bars whose height follows the number of units (log scale). Boxes are labelled
H x W x C as the course writes them (``28x28x6``), with what the layer is below (``conv 5x5``,
``max pool``, ``FC``, ``softmax``).

What becomes a box: the input, convolutions (consecutive ones with the same output shape merge
into one box, VGG's ``conv 3x3 x2``), pooling that changes the shape, fully connected layers,
LeNet-5's RBF output, and each ResNet block. Activations, normalisation and dropout belong to
the box before them. Residual blocks get an arc over them for their shortcut: solid for the
identity, dashed where the shortcut changes the shape (a projection, or option A's zero-padding).
Plain blocks get none.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, Patch, Polygon
from torch import nn

from ..models.lenet import Subsampling
from ..models.resnet import ResidualBlock
from .figure import new_figure, save_figure
from .trace import Call, Trace, trace

COLORS = {
    "input": "#d9d9d9", "conv": "#9ecae1", "pool": "#fdae6b", "fc": "#a1d99b",
    "softmax": "#c7b8e0", "rbf": "#c7b8e0", "block": "#8fd1c1",
}  # fmt: skip
NAMES = {
    "input": "input", "conv": "convolution", "pool": "pooling", "fc": "fully connected",
    "softmax": "FC + softmax", "rbf": "RBF output", "block": "plain block (no shortcut)",
}  # fmt: skip
BLOCKS = {"BasicBlock": "basic block", "Bottleneck": "bottleneck"}
MAX_SIDE = 5.0  # height of the largest feature map, in drawing units
INCH = 0.3  # inches per drawing unit
GAP = 0.6  # between columns
CHAR = 0.21  # width of one label character (8 pt), in drawing units
FONT = 8


@dataclass(frozen=True)
class Box:
    """One cuboid of the diagram."""

    name: str  # the first module it stands for ("input" for the image)
    kind: str  # input, conv, pool, fc, softmax, rbf or block
    shape: tuple[int, ...]  # C x H x W, or (units,)
    caption: str  # what the layer is: "conv 5x5", "max pool", ...
    count: int = 1  # consecutive identical convolutions merged into this box
    shortcut: str | None = None  # blocks: "identity", "projection", "zero-pad" or "none"
    changes_shape: bool = False  # blocks: output shape differs from the input's

    @property
    def label(self) -> str:
        """The shape as the course writes it: H x W x C, or the number of units."""
        s = self.shape
        return f"{s[1]}x{s[2]}x{s[0]}" if len(s) == 3 else str(s[0])


@dataclass(frozen=True)
class SkipArc:
    """The shortcut of one residual block, as drawn."""

    block: str
    shortcut: str
    dashed: bool
    patch: FancyArrowPatch = field(repr=False, compare=False)


@dataclass(frozen=True)
class Diagram:
    """What ``draw`` returns: the boxes and arcs it drew, and the figure."""

    model: str
    boxes: tuple[Box, ...]
    arcs: tuple[SkipArc, ...]
    figure: Figure = field(repr=False, compare=False)

    def save(self, path: str | Path) -> Path:
        return save_figure(self.figure, path)


def draw(model_or_name: nn.Module | str, path: str | Path | None = None,
         input_size: Sequence[int] | None = None) -> Diagram:  # fmt: skip
    """Draw a registered model (by name) or a model instance; save it to ``path`` (.png or .svg)
    when given."""
    tr = trace(model_or_name, input_size)
    boxes = plan(tr)
    diagram = _render(tr, boxes)
    if path is not None:
        diagram.save(path)
    return diagram


def plan(tr: Trace) -> list[Box]:
    """The boxes of a traced model, left to right (see the module docstring)."""
    boxes = [Box("input", "input", tr.input_size, "input")]
    for call in tr.rows():
        box = _box(call)
        if box is None:
            continue
        last = boxes[-1]
        if box.kind == "conv" and last.kind == "conv" and last.shape == box.shape and last.caption == box.caption:
            boxes[-1] = replace(last, count=last.count + 1)
        else:
            boxes.append(box)
    if boxes[-1].kind == "fc":
        boxes[-1] = replace(boxes[-1], kind="softmax", caption="softmax")
    return boxes


def _box(call: Call) -> Box | None:
    m, kind = call.module, call.kind
    if kind == "pool" and call.output_shape == call.input_shape:
        return None  # an adaptive pool that is a no-op at this input size
    if kind == "conv":
        k = m.kernel_size if isinstance(m.kernel_size, int) else m.kernel_size[0]
        stride = getattr(m, "stride", (1,))[0]
        return Box(call.name, kind, call.output_shape, f"conv {k}x{k}" + (f", s={stride}" if stride > 1 else ""))
    if kind == "pool":
        what = "subsample" if isinstance(m, Subsampling) else "max pool" if "Max" in type(m).__name__ else "avg pool"
        return Box(call.name, kind, call.output_shape, what)
    if kind in ("fc", "rbf"):
        return Box(call.name, kind, call.output_shape, "FC" if kind == "fc" else "RBF")
    if isinstance(m, ResidualBlock):
        what = BLOCKS.get(type(m).__name__, type(m).__name__)
        return Box(call.name, "block", call.output_shape, what, shortcut=m.shortcut_path(),
                   changes_shape=call.input_shape != call.output_shape)  # fmt: skip
    return None


@dataclass(frozen=True)
class _Geometry:
    """A box's size in drawing units: front face ``thick`` x ``height``, receding ``recede``."""

    thick: float
    height: float
    recede: float

    @property
    def top(self) -> float:
        return self.height / 2 + self.recede


def _geometry(box: Box, max_h: int, max_units: int) -> _Geometry:
    if len(box.shape) == 3:
        c, h, w = box.shape
        height = max(0.35, MAX_SIDE * math.sqrt(h / max_h))
        return _Geometry(0.2 + 0.18 * math.log2(c), height, 0.35 * height * w / h)
    height = MAX_SIDE * math.log2(box.shape[0] + 1) / math.log2(max_units + 1)
    return _Geometry(0.3, max(0.4, height), 0.15)


def _captions(boxes: list[Box]) -> list[tuple[str, str]]:
    """(shape label, caption) under each box. Runs of blocks with one shape are labelled once,
    under their first block, with the run's length."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(boxes):
        b = boxes[i]
        if b.kind != "block":
            out.append((b.label, b.caption + (f" x{b.count}" if b.count > 1 else "")))
            i += 1
            continue
        j = i + 1
        while j < len(boxes) and boxes[j].kind == "block" and boxes[j].shape == b.shape:
            j += 1
        out.append((b.label, f"{b.caption} x{j - i}"))
        out += [("", "")] * (j - i - 1)
        i = j
    return out


def _render(tr: Trace, boxes: list[Box]) -> Diagram:
    max_h = max(b.shape[1] for b in boxes if len(b.shape) == 3)
    max_units = max([4096] + [b.shape[0] for b in boxes if len(b.shape) == 1])
    geos = [_geometry(b, max_h, max_units) for b in boxes]
    texts = _captions(boxes)
    # columns: wide enough for the box and its labels
    widths = [max(g.thick + g.recede, CHAR * max(len(a), len(c))) + GAP for g, (a, c) in zip(geos, texts)]
    lefts = [sum(widths[:i]) for i in range(len(widths))]
    total_w = sum(widths)
    top = max(g.top for g in geos)
    has_arcs = any(b.shortcut not in (None, "none") for b in boxes)
    y_hi = top + (1.6 if has_arcs else 0.4)
    y_lo = -MAX_SIDE / 2 - 1.7
    fig = new_figure(total_w * INCH + 0.4, (y_hi - y_lo) * INCH + 0.9)
    fw, fh = fig.get_size_inches()
    ax = fig.add_axes((0.2 / fw, 0.45 / fh, total_w * INCH / fw, (y_hi - y_lo) * INCH / fh))
    ax.set_xlim(0, total_w)
    ax.set_ylim(y_lo, y_hi)
    ax.set_aspect("equal")
    ax.axis("off")
    label_y = -MAX_SIDE / 2 - 0.35
    for box, geo, left, width, (label, caption) in zip(boxes, geos, lefts, widths, texts):
        x0 = left + (width - geo.thick - geo.recede) / 2
        _cuboid(ax, x0, geo, COLORS[box.kind])
        cx = left + width / 2
        ax.text(cx, label_y, label, ha="center", va="top", fontsize=FONT, fontweight="bold")
        ax.text(cx, label_y - 0.65, caption, ha="center", va="top", fontsize=FONT - 1, color="#444444")
    arcs = []
    for i, box in enumerate(boxes):
        if box.shortcut in (None, "none"):
            continue
        y = max(geos[i - 1].top, geos[i].top) + 0.2
        patch = FancyArrowPatch(
            (lefts[i], y), (lefts[i] + widths[i], y), connectionstyle="arc3,rad=-0.45", arrowstyle="-|>",
            mutation_scale=7, linewidth=1.0, color="#c0392b", linestyle="--" if box.changes_shape else "-",
        )  # fmt: skip
        ax.add_patch(patch)
        arcs.append(SkipArc(box.name, box.shortcut, box.changes_shape, patch))
    fig.suptitle(_title(tr), x=0.2 / fw, ha="left", y=1 - 0.08 / fh, va="top", fontsize=FONT + 2)
    fig.legend(handles=_legend(boxes, has_arcs), loc="lower left", bbox_to_anchor=(0.2 / fw, 0.02), ncol=8,
               frameon=False, fontsize=FONT - 1, handlelength=1.6)  # fmt: skip
    return Diagram(tr.name, tuple(boxes), tuple(arcs), fig)


def _cuboid(ax: Axes, x0: float, geo: _Geometry, color: str) -> None:
    """Front face, top and right side of a box whose front face is centred on y = 0."""
    t, h, r = geo.thick, geo.height, geo.recede * math.sqrt(0.5)
    y0, y1 = -h / 2, h / 2
    faces = [
        ([(x0, y0), (x0 + t, y0), (x0 + t, y1), (x0, y1)], _shade(color, 0.0)),
        ([(x0, y1), (x0 + t, y1), (x0 + t + r, y1 + r), (x0 + r, y1 + r)], _shade(color, 0.35)),
        ([(x0 + t, y0), (x0 + t + r, y0 + r), (x0 + t + r, y1 + r), (x0 + t, y1)], _shade(color, -0.25)),
    ]
    for points, face in faces:
        ax.add_patch(Polygon(points, closed=True, facecolor=face, edgecolor="#333333", linewidth=0.6))


def _shade(color: str, amount: float) -> tuple[float, float, float]:
    """``color`` blended towards white (amount > 0) or black (amount < 0)."""
    rgb = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    target = 1.0 if amount > 0 else 0.0
    r, g, b = (v + (target - v) * abs(amount) for v in rgb)
    return r, g, b


def _title(tr: Trace) -> str:
    if tr.info is None:
        return tr.name
    i = tr.info
    return f"{tr.name}: {i.paper.split('.')[0]} ({i.year}), {i.depth} weight layers"


def _legend(boxes: list[Box], has_arcs: bool) -> list[Patch | Line2D]:
    kinds = list(dict.fromkeys(b.kind for b in boxes))
    names = {**NAMES, "block": "residual block"} if has_arcs else NAMES
    handles: list[Patch | Line2D] = [Patch(facecolor=COLORS[k], edgecolor="#333333", label=names[k]) for k in kinds]
    if has_arcs:
        handles.append(Line2D([], [], color="#c0392b", label="identity shortcut"))
        changing = sorted({str(b.shortcut) for b in boxes if b.changes_shape})
        if changing:
            label = f"{' / '.join(changing)} shortcut (shape changes)"
            handles.append(Line2D([], [], color="#c0392b", linestyle="--", label=label))
    return handles
