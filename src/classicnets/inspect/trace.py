"""Run a model once and record every module call: input and output shape, parameters, MACs.

This is the one shape tracer behind ``summary``, ``draw`` and ``shapes``. Registered models are
built on PyTorch's ``meta`` device, where tensors have shapes but no data, so even ResNet-152 or
VGG-19 traces in well under a second; a model whose construction needs real data (LeNet-5's
sparse C3 initialisation) is built on the CPU instead, which is cheap for such a small network.

Operation counts come from ``torch.utils.flop_counter.FlopCounterMode``: it counts the FLOPs of
convolutions and matrix products (2 per multiply-accumulate, biases not counted) and nothing
else, so ``MACs = FLOPs / 2`` and pooling, normalisation, activations and additions count 0.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from ..errors import ConfigError
from ..models.lenet import EuclideanRBF, SparseConv2d, Subsampling
from ..models.resnet import ResidualBlock
from ..factory import create_model, model_info
from ..registry import ModelInfo

Shape = tuple[int, ...]

POOLS = (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d, Subsampling)
WEIGHT_KINDS = ("conv", "fc", "rbf")  # the layers the papers count as depth


def layer_kind(module: nn.Module) -> str | None:
    """What a lecture calls the layer: "conv", "fc", "rbf", "pool" or "block" (a residual or
    plain ResNet block); None for the rest (activations, norms, dropout, containers)."""
    if isinstance(module, ResidualBlock):
        return "block"
    if isinstance(module, (nn.Conv2d, SparseConv2d)):
        return "conv"
    if isinstance(module, nn.Linear):
        return "fc"
    if isinstance(module, EuclideanRBF):
        return "rbf"
    if isinstance(module, POOLS):
        return "pool"
    return None


@dataclass(frozen=True)
class Call:
    """One call of one module during the traced forward pass. Shapes exclude the batch
    dimension; ``params`` and ``macs`` include the module's children."""

    name: str  # qualified module name, e.g. "layer2.0.conv1"
    module: nn.Module = field(repr=False, compare=False)
    input_shape: Shape
    output_shape: Shape
    params: int  # counted at the module's first call only, so shared modules count once
    macs: int
    stage: str | None  # "1", "2", ... up to the end of each feature_info map, then "head"; "1-3" spans

    @property
    def depth(self) -> int:
        """Nesting depth: 1 for a child of the model, 2 for a grandchild, ..."""
        return self.name.count(".") + 1

    @property
    def is_leaf(self) -> bool:
        return next(self.module.children(), None) is None

    @property
    def kind(self) -> str | None:
        return layer_kind(self.module)


@dataclass(frozen=True)
class Trace:
    """A model's forward pass at one input size, one ``Call`` per module call in call order
    (a parent before its children)."""

    name: str
    model: nn.Module = field(repr=False, compare=False)
    info: ModelInfo | None  # the registry card, when traced by name
    input_size: tuple[int, int, int]
    output_shape: Shape
    macs: int
    calls: tuple[Call, ...]

    def default_depth(self) -> int:
        """One row per residual block for ResNets (their blocks' depth), every leaf otherwise."""
        blocks = [c.depth for c in self.calls if isinstance(c.module, ResidualBlock)]
        return min(blocks) if blocks else max((c.depth for c in self.calls), default=1)

    def rows(self, depth: int | None = None) -> list[Call]:
        """The calls a table shows at ``depth`` (as torchinfo's): modules at that depth, and leaves
        above it; deeper modules fold into their ancestor's row. ``nn.Identity`` (the CIFAR stem's
        absent max pool, identity shortcuts) does nothing and gets no row."""
        d = self.default_depth() if depth is None else depth
        shown = [c for c in self.calls if c.depth == d or (c.depth < d and c.is_leaf)]
        return [c for c in shown if not isinstance(c.module, nn.Identity)]

    def weight_layers(self) -> list[Call]:
        """Convolutions and fully connected layers on the main path, as the papers count depth
        (ResNet projection shortcuts are not counted)."""
        shortcuts = {c.name for c in self.calls if isinstance(c.module, ResidualBlock)}
        skip = tuple(f"{name}.downsample" for name in shortcuts)
        return [c for c in self.calls if c.kind in WEIGHT_KINDS and not c.name.startswith(skip)]


def build(name: str) -> nn.Module:
    """A registered model for inspection: on the meta device when its constructor allows."""
    try:
        with torch.device("meta"):
            return create_model(name)
    except NotImplementedError:  # data-dependent initialisation (LeNet-5's C3 table)
        return create_model(name)


def trace(model_or_name: nn.Module | str, input_size: Sequence[int] | None = None) -> Trace:
    """Run one image of ``input_size`` (C, H, W; default: the model card's) through the model,
    recording every module call. A model instance keeps its device and weights, runs under
    ``torch.no_grad()`` in eval mode, and gets its training flags back afterwards."""
    if isinstance(model_or_name, str):
        info: ModelInfo | None = model_info(model_or_name)
        name, model = model_or_name, build(model_or_name)
    else:
        info, name, model = None, type(model_or_name).__name__, model_or_name
    size = _input_size(name, input_size, info)
    first = next(model.parameters(), None)
    x = torch.zeros(1, *size, device=first.device if first is not None else "cpu",
                    dtype=first.dtype if first is not None else torch.float32)  # fmt: skip
    modes = {m: m.training for m in model.modules()}
    model.eval()
    try:
        with torch.no_grad():
            out, calls, macs = _record(model, x)
    except RuntimeError as e:
        shown = "x".join(map(str, size))
        raise ConfigError(f"{name} cannot take a {shown} input: {str(e).splitlines()[0]}") from e
    finally:
        for m, mode in modes.items():
            m.training = mode
    return Trace(name, model, info, size, tuple(out.shape[1:]), macs, calls)


def _input_size(name: str, given: Sequence[int] | None, info: ModelInfo | None) -> tuple[int, int, int]:
    if given is None:
        if info is None:
            raise ConfigError(f"input_size (C, H, W) is needed to trace a {name} instance")
        return info.input_size
    size = tuple(int(v) for v in given)
    if len(size) != 3 or min(size) < 1:
        raise ConfigError(f"input size must be three positive numbers C H W, not {' '.join(map(str, given))}")
    return size  # type: ignore[return-value]


def _record(model: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, tuple[Call, ...], int]:
    """The forward pass under FlopCounterMode, with hooks on every submodule."""
    counter = FlopCounterMode(display=False)
    slots: list[Call | None] = []
    open_calls: list[tuple[int, Shape, int, str | None]] = []  # slot, input shape, FLOPs so far, stage
    seen: set[int] = set()
    feature_ends = [f["module"] for f in getattr(model, "feature_info", [])]
    stage, last_done = 1, None  # the stage we are in; the stage of the last call that ended

    def stage_label() -> str | None:
        if not feature_ends:
            return None
        return "head" if stage > len(feature_ends) else str(stage)

    def pre(_: nn.Module, args: tuple[object, ...]) -> None:
        in_shape = _shape(args[0] if args else None)
        open_calls.append((len(slots), in_shape, counter.get_total_flops(), stage_label()))
        slots.append(None)

    def post_for(name: str) -> Callable[[nn.Module, object, object], None]:
        def post(module: nn.Module, _: object, output: object) -> None:
            nonlocal stage, last_done
            slot, in_shape, flops_before, first = open_calls.pop()
            params = 0 if id(module) in seen else sum(p.numel() for p in module.parameters())
            seen.add(id(module))
            last_done = last_done if len(slots) > slot + 1 else stage_label()  # its last child's stage
            label = first if first == last_done else f"{first}-{last_done}"  # a container spanning stages
            stage += name in feature_ends
            macs = (counter.get_total_flops() - flops_before) // 2
            slots[slot] = Call(name, module, in_shape, _shape(output), params, macs, label)

        return post

    handles = []
    for name, module in model.named_modules():
        if name:
            handles.append(module.register_forward_pre_hook(pre))
            handles.append(module.register_forward_hook(post_for(name)))
    try:
        with counter:
            out = model(x)
    finally:
        for h in handles:
            h.remove()
    return out, tuple(c for c in slots if c is not None), counter.get_total_flops() // 2


def _shape(value: object) -> Shape:
    """The shape of a tensor without its batch dimension; () for anything else."""
    return tuple(value.shape[1:]) if isinstance(value, torch.Tensor) else ()
