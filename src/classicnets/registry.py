"""The model registry: each model's card, and its builder, by name. A leaf: it imports nothing
from classicnets but ``errors``, so the model families can register themselves here.

A family's entry points register with ``@register_model(ModelInfo(...))`` in the family's own
file, so a model's card sits next to the code that builds it. The registry only knows what has
been registered; ``classicnets.factory`` imports every family and is where models are built
(``create_model``, ``list_models``, ``model_info``).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from .errors import UnknownNameError


@dataclass(frozen=True)
class Published:
    """A number from the literature and where it was published."""

    value: float
    source: str
    metric: str = ""  # what was measured, e.g. "top-1, ILSVRC-2012 val, 10-crop" (errors are in %)


@dataclass(frozen=True)
class ModelInfo:
    """A model's card: what the paper built and reported, and where we deviate from it."""

    name: str
    family: str  # "lenet", "alexnet", "vgg", "resnet"
    paper: str  # citation
    year: int
    input_size: tuple[int, int, int]  # C, H, W of the paper's input
    num_classes: int  # the paper's
    dataset: str  # the paper's dataset for this model: "mnist", "imagenet", "cifar10"
    depth: int  # weight layers (conv + fc), as the papers count depth
    params: Published  # published parameter count
    error: Published | None = None  # published test error, in %
    macs: Published | None = None  # published multiply-accumulates per image
    deviations: tuple[str, ...] = ()
    torchvision: str | None = None  # name of the torchvision model with the same state dict
    plain_twin_of: str | None = None  # for plainN: the residual model it mirrors

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


Builder = Callable[..., Any]
_BUILDERS: dict[str, Builder] = {}
_INFO: dict[str, ModelInfo] = {}


def register_model(info: ModelInfo) -> Callable[[Builder], Builder]:
    """Register the decorated entry point under ``info.name``; it is returned unchanged."""

    def deco(fn: Builder) -> Builder:
        if info.name in _BUILDERS:
            raise ValueError(f"model {info.name!r} registered twice")
        _BUILDERS[info.name] = fn
        _INFO[info.name] = info
        return fn

    return deco


def registered(pattern: str = "*") -> list[str]:
    """Registered names matching a shell-style pattern, in registration order."""
    return [n for n in _BUILDERS if fnmatch.fnmatchcase(n, pattern)]


def card(name: str) -> ModelInfo:
    """The card of a registered model; ``UnknownNameError`` (with suggestions) otherwise."""
    if name not in _INFO:
        raise UnknownNameError.nearest("model", name, _INFO, "classicnets list")
    return _INFO[name]


def builder(name: str) -> Builder:
    """The entry point that builds ``name``."""
    card(name)
    return _BUILDERS[name]
