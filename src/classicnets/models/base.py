"""The one contract every classicnets model follows: timm's, without its long constructors.

Every model has:

- ``num_classes`` and ``in_chans``, as built;
- ``forward_features(x)``: the last feature map (N x C x H x W), before any pooling or fully
  connected layer, and ``forward_head(x, pre_logits=False)``: pooling or flattening, the fully
  connected layers, and the classifier. ``forward(x) == forward_head(forward_features(x))``;
- ``num_features``: the channels of that feature map; ``head_hidden_size``: the width of what the
  classifier receives (the pre-logits: 4096 for VGG and AlexNet, 84 for LeNet-5);
- ``get_classifier()`` and ``reset_classifier(n)``: ``n = 0`` makes the classifier an identity, so
  the model returns its pre-logits features, as timm does;
- ``feature_info``: one record per stage (module, channels, reduction), for ``features_only=True``;
- ``first_conv_name`` and ``classifier_name``: the layers that pretrained weights may adapt (RGB
  summed to gray, a new head; timm's ``first_conv`` and ``classifier``); nothing else may change
  shape when weights load;
- ``pretrained_cfg``: how to feed it (input size, mean and std, how an image is fitted to the
  input), set by ``create_model`` and by loading weights.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import torch
from torch import nn

FITS = ("none", "pad", "crop", "resize")


@dataclass(frozen=True)
class PretrainedCfg(Mapping[str, Any]):
    """How to turn an image into this model's input, as timm's ``pretrained_cfg``.

    An image is scaled (antialiased, ``interpolation``) so that its shorter side is
    ``image_size``'s, center-cropped to ``image_size``, and then fitted to ``input_size``:

    - ``"none"``: it already is the input size (CIFAR-10, 32 x 32);
    - ``"pad"``: a zero border around it (MNIST's 28 x 28 digits in LeNet-5's 32 x 32 field, as
      LeCun did);
    - ``"crop"``: the central ``input_size`` of it (ImageNet: 224 of 256, ``crop_pct`` 0.875);
    - ``"resize"``: scaled to the input size.

    Then ``(x / 255 - mean) / std`` per channel. ``classes`` names the outputs when the weights
    come with names; ``weights`` says where the weights came from ("untrained" until loaded).

    It is also a read-only mapping with timm's keys (``input_size``, ``mean``, ``std``,
    ``interpolation``, ``crop_pct``, ``crop_mode``, ``num_classes``, ``first_conv``,
    ``classifier``, ...) plus ours, so that timm's ``resolve_data_config(model=...)`` and
    ``create_transform`` build the same preprocessing: ``crop_pct`` is the input's share of the
    scaled image, above 1 for ``"pad"`` (timm's center crop pads with zeros when it is larger than
    the image), and 1.0 for ``"none"``.
    """

    architecture: str  # the registered model name
    input_size: tuple[int, int, int]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    image_size: tuple[int, int]
    fit: str
    num_classes: int
    first_conv: str
    classifier: str
    dataset: str
    interpolation: str = "bilinear"
    classes: tuple[str, ...] = ()
    weights: str = "untrained"

    def __post_init__(self) -> None:
        if self.fit not in FITS:
            raise ValueError(f"fit must be one of {FITS}, not {self.fit!r}")

    @property
    def crop_pct(self) -> float:
        """timm's crop fraction: the input's share of the scaled image (``input / image`` side;
        1.0 when the image already is the input, or is resized to it)."""
        return self.input_size[1] / self.image_size[0] if self.fit in ("crop", "pad") else 1.0

    @property
    def crop_mode(self) -> str:
        """timm's crop mode: always "center" (scale the shorter side, then center-crop or pad)."""
        return "center"

    def with_(self, **changes: Any) -> PretrainedCfg:
        """A copy with ``changes`` (tuples for sequences)."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "crop_pct": self.crop_pct, "crop_mode": self.crop_mode}

    # the read-only mapping that timm's data tools read
    def __getitem__(self, key: str) -> Any:
        if key not in _CFG_KEYS:
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(_CFG_KEYS)

    def __len__(self) -> int:
        return len(_CFG_KEYS)


_CFG_KEYS = (*(f.name for f in fields(PretrainedCfg)), "crop_pct", "crop_mode")


class FeatureInfo(list):
    """The stages a model can return with ``features_only=True``: a list of
    ``{"module", "num_chs", "reduction"}`` records, shallowest first, with timm's accessors."""

    def channels(self, idx: int | None = None) -> int | list[int]:
        return self._get("num_chs", idx)

    def reduction(self, idx: int | None = None) -> int | list[int]:
        return self._get("reduction", idx)

    def module_name(self, idx: int | None = None) -> str | list[str]:
        return self._get("module", idx)

    def _get(self, key: str, idx: int | None) -> Any:
        return [f[key] for f in self] if idx is None else self[idx][key]

    def select(self, indices: tuple[int, ...]) -> FeatureInfo:
        """The records at ``indices`` (negative counts from the deepest), in that order."""
        return FeatureInfo(self[i] for i in indices)


def linear_or_identity(in_features: int, num_classes: int) -> nn.Module:
    """A classifier of ``num_classes`` outputs; with 0 classes an identity (timm's convention)."""
    return nn.Linear(in_features, num_classes) if num_classes > 0 else nn.Identity()


class ClassicNet(nn.Module):
    """The base of every classicnets model (see the module docstring for the contract).
    Subclasses set the attributes below and implement the four methods."""

    num_classes: int
    in_chans: int
    num_features: int
    head_hidden_size: int
    feature_info: FeatureInfo
    first_conv_name: str
    classifier_name: str
    pretrained_cfg: PretrainedCfg | None = None

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        raise NotImplementedError

    @property
    def default_cfg(self) -> PretrainedCfg | None:
        """timm's older name for ``pretrained_cfg``, still read by code written for timm."""
        return self.pretrained_cfg

    def get_classifier(self) -> nn.Module:
        return self.get_submodule(self.classifier_name)

    def reset_classifier(self, num_classes: int) -> None:
        """A fresh classifier for ``num_classes`` (0: an identity); everything else is kept."""
        self.num_classes = num_classes
        parent, _, name = self.classifier_name.rpartition(".")
        owner = self.get_submodule(parent) if parent else self
        setattr(owner, name, self._new_classifier(num_classes))
        if self.pretrained_cfg is not None:
            self.pretrained_cfg = self.pretrained_cfg.with_(num_classes=num_classes, classes=())

    def _new_classifier(self, num_classes: int) -> nn.Module:
        return linear_or_identity(self.head_hidden_size, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))
