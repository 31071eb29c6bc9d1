"""The one contract every classicnets model follows (timm's, without its long constructors).

``forward(x) == forward_head(forward_features(x))``. ``forward_features`` returns the last feature
map (N x C x H x W) before any pooling or fully connected layer; ``forward_head`` does the rest:
global pooling or flattening, the fully connected layers, and the classifier. ``reset_classifier``
swaps the last layer for a new number of classes, keeping everything else.
"""

from __future__ import annotations

from abc import abstractmethod

import torch
from torch import nn


class ClassicNet(nn.Module):
    """Base class: ``num_classes``, ``in_chans``, ``forward_features``, ``forward_head``,
    ``reset_classifier``, plus ``feature_info``: one ``(name, channels, reduction)`` per stage,
    which ``create_model(..., features_only=True)`` uses."""

    num_classes: int
    in_chans: int
    feature_info: list[dict]

    @abstractmethod
    def forward_features(self, x: torch.Tensor) -> torch.Tensor: ...

    @abstractmethod
    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor: ...

    @abstractmethod
    def get_classifier(self) -> nn.Module: ...

    @abstractmethod
    def reset_classifier(self, num_classes: int) -> None: ...

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))
