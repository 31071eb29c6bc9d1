"""Name -> builder, and each model's card: paper, input size, published numbers, deviations.

Entry points register themselves with ``@register_model(ModelInfo(...))`` in their family's file,
so a model's card sits next to the code that builds it.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from torch import nn

from .errors import UnknownNameError


@dataclass(frozen=True)
class Published:
    """A number from the literature and where it was published."""

    value: float
    source: str
    metric: str = ""  # what was measured, e.g. "top-1, ILSVRC-2012 val, 10-crop" (errors are in %)


@dataclass(frozen=True)
class ModelInfo:
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
    default_kwargs: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


Builder = Callable[..., nn.Module]
_BUILDERS: dict[str, Builder] = {}
_INFO: dict[str, ModelInfo] = {}


def register_model(info: ModelInfo) -> Callable[[Builder], Builder]:
    def deco(fn: Builder) -> Builder:
        if info.name in _BUILDERS:
            raise ValueError(f"model {info.name!r} registered twice")
        _BUILDERS[info.name] = fn
        _INFO[info.name] = info
        return fn

    return deco


def _ensure_loaded() -> None:
    from . import models  # noqa: F401  (importing the families registers them)


def list_models(pattern: str = "*") -> list[str]:
    """Registered model names matching a shell-style pattern, in registration order."""
    _ensure_loaded()
    return [n for n in _BUILDERS if fnmatch.fnmatchcase(n, pattern)]


def suggest(kind: str, name: str, known: list[str], listing: str) -> UnknownNameError:
    """The error for an unknown name, suggesting the nearest known names."""
    near = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(near)}?" if near else f"; run '{listing}' to see them"
    return UnknownNameError(f"unknown {kind} {name!r}{hint}")


def check_name(name: str) -> str:
    _ensure_loaded()
    if name not in _BUILDERS:
        raise suggest("model", name, list(_BUILDERS), "classicnets list")
    return name


def model_info(name: str) -> ModelInfo:
    """The card of a registered model: paper, default input size, published numbers, deviations."""
    return _INFO[check_name(name)]


def get_builder(name: str) -> Builder:
    return _BUILDERS[check_name(name)]


def create_model(
    name: str,
    *,
    pretrained: bool = False,
    weights: str | None = None,
    features_only: bool = False,
    **kwargs: Any,
) -> nn.Module:
    """Build a registered model.

    Keyword arguments go to its builder (``num_classes``, ``in_chans``, ``shortcut``, ...).
    ``pretrained=True`` loads the weights classicnets ships (offline, sha256-checked);
    ``weights="torchvision"`` loads torchvision's ImageNet weights for models with a torchvision
    twin, and ``weights=PATH`` a local ``.safetensors`` or ``.pth`` file (``weights_only=True``).
    With another ``num_classes`` the classifier keeps its fresh initialisation, and with
    ``in_chans=1`` an RGB first convolution is summed over its channels.
    ``features_only=True`` returns a module that outputs the feature map after each stage.
    """
    info = model_info(name)
    model = get_builder(name)(**{**info.default_kwargs, **kwargs})
    if pretrained and weights is None:
        weights = "classicnets"
    if weights is not None:
        from .weights import load_into

        load_into(model, name, weights)
    if features_only:
        from .models.features import FeatureExtractor

        return FeatureExtractor(model)  # type: ignore[arg-type]
    return model
