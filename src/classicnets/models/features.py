"""``create_model(name, features_only=True)``: the feature map after each stage, as timm offers.

The stages are each model's ``feature_info`` (module, channels, reduction):

==========  ==========================================================================
family      stages returned
==========  ==========================================================================
LeNet-5     after S2 (6 maps, /2), after S4 (16, /4), after C5 (120, 1x1 at 32x32 input)
AlexNet     after pool1, pool2 and pool5 (/8, /16, /32)
VGG         after each of the five max pools (/2 ... /32)
ResNet      after each stage: layer1 ... layer4 (ImageNet: /4 ... /32) or layer1 ... layer3 (CIFAR: /1, /2, /4)
==========  ==========================================================================

Built on ``torchvision.models.feature_extraction.create_feature_extractor`` (torch.fx).
"""

from __future__ import annotations

import torch
from torch import nn
from torchvision.models.feature_extraction import create_feature_extractor

from .base import ClassicNet


class FeatureExtractor(nn.Module):
    """Returns a list of feature maps, one per stage, shallowest first."""

    def __init__(self, model: ClassicNet) -> None:
        super().__init__()
        self.feature_info = list(model.feature_info)
        nodes = {f["module"]: str(i) for i, f in enumerate(self.feature_info)}
        self.body = create_feature_extractor(model, return_nodes=nodes)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        out = self.body(x)
        return [out[str(i)] for i in range(len(self.feature_info))]
