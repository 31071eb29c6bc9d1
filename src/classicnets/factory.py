"""Building models by name: ``create_model``, ``list_models``, ``model_info``.

The factory sits above the model families, as torchvision's ``_api`` and timm's ``_factory`` do:
it imports every family (which registers them with the leaf ``registry``), builds a model from
its registered entry point, gives it its ``pretrained_cfg``, loads weights with the one loader
(``weights.load_state``), and wraps it for ``features_only``.
"""

from __future__ import annotations

import warnings
from typing import Any

from . import models  # noqa: F401  (importing the families registers them)
from .errors import ConfigError
from .models.base import ClassicNet, PretrainedCfg
from .models.features import FeatureExtractor
from .registry import ModelInfo, builder, card, registered
from .weights import Source, load_state


class WeightsAdapted(UserWarning):
    """Pretrained weights loaded with a classifier kept fresh or a first convolution summed to gray."""


# How the papers' datasets feed a model before any weights say otherwise. ImageNet: torchvision's
# statistics and its 256 -> 224 center crop. CIFAR-10: the statistics of its 50,000 training
# images. MNIST: the usual 0.1307 / 0.3081 of the 28 x 28 digits, recomputed for the 32 x 32 field
# LeNet-5 sees (2 pixels of zero border: mean x 784/1024, and the std of the padded images).
DATASET_CFG: dict[str, dict[str, Any]] = {
    "imagenet": {"mean": (0.485, 0.456, 0.406), "std": (0.229, 0.224, 0.225), "image_size": (256, 256), "fit": "crop"},
    "cifar10": {"mean": (0.4914, 0.4822, 0.4465), "std": (0.2470, 0.2435, 0.2616), "image_size": (32, 32), "fit": "none"},
    "mnist": {"mean": (0.1001,), "std": (0.2752,), "image_size": (28, 28), "fit": "pad"},
}


def list_models(pattern: str = "*") -> list[str]:
    """Registered model names matching a shell-style pattern, in registration order."""
    return registered(pattern)


def model_info(name: str) -> ModelInfo:
    """The card of a registered model: paper, default input size, published numbers, deviations."""
    return card(name)


def default_cfg(info: ModelInfo, model: ClassicNet) -> PretrainedCfg:
    """``model``'s pretrained cfg before any weights: its card's dataset (``DATASET_CFG``; mean and
    std 0.5 for another dataset), the statistics adapted to the model's channels (averaged for
    gray, repeated for colour)."""
    neutral = {"mean": (0.5,), "std": (0.5,), "image_size": info.input_size[1:], "fit": "none"}
    data = DATASET_CFG.get(info.dataset, neutral)  # a model card of one's own, for another dataset
    mean, std = _channels(data["mean"], model.in_chans), _channels(data["std"], model.in_chans)
    return PretrainedCfg(
        architecture=info.name,
        input_size=(model.in_chans, *info.input_size[1:]),
        mean=mean,
        std=std,
        image_size=data["image_size"],
        fit=data["fit"],
        num_classes=model.num_classes,
        first_conv=model.first_conv_name,
        classifier=model.classifier_name,
        dataset=info.dataset,
    )


def _channels(values: tuple[float, ...], chans: int) -> tuple[float, ...]:
    if len(values) == chans:
        return values
    if chans == 1:
        return (sum(values) / len(values),)
    return values * chans if len(values) == 1 else tuple(values[i % len(values)] for i in range(chans))


def create_model(
    name: str,
    *,
    pretrained: bool = False,
    weights: Source | None = None,
    features_only: bool = False,
    out_indices: tuple[int, ...] | None = None,
    **kwargs: Any,
) -> ClassicNet | FeatureExtractor:
    """Build a registered model.

    Keyword arguments go to its entry point (``num_classes``, ``in_chans``, ``shortcut``, ...);
    ``num_classes=0`` gives a model whose classifier is an identity (it returns pooled features).
    ``pretrained=True`` loads the weights classicnets ships (offline, sha256-checked);
    ``weights="torchvision"`` loads torchvision's ImageNet weights for models with a torchvision
    twin, and ``weights=PATH`` a local ``.safetensors`` or ``.pth`` file (``weights_only=True``).
    With another ``num_classes`` the classifier keeps its fresh initialisation, and with
    ``in_chans=1`` an RGB first convolution is summed over its channels; any other mismatch is a
    ``CheckpointError`` (see ``classicnets.weights``).
    ``features_only=True`` returns a module that outputs the feature map after each stage, or
    after the stages in ``out_indices``.
    """
    info = card(name)
    _check_arguments(kwargs)
    if out_indices is not None and not features_only:
        raise ConfigError("out_indices needs features_only=True")
    try:
        model: ClassicNet = builder(name)(**kwargs)
    except (TypeError, ValueError) as e:  # an argument the entry point does not take, or a bad value
        raise ConfigError(f"cannot build {name} with {kwargs}: {e}") from None
    model.pretrained_cfg = default_cfg(info, model)
    if pretrained and weights is None:
        weights = "classicnets"
    if weights is not None:
        line = load_state(model, weights).line()
        if line:
            warnings.warn(line, WeightsAdapted, stacklevel=2)
    if features_only:
        return FeatureExtractor(model, out_indices)
    return model


def _check_arguments(kwargs: dict[str, Any]) -> None:
    """``num_classes`` must be a whole number >= 0 and ``in_chans`` one >= 1."""
    for arg, low in (("num_classes", 0), ("in_chans", 1)):
        if arg in kwargs:
            value = kwargs[arg]
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(f"{arg} must be a whole number >= {low}, got {value!r}")
