"""``create_model(name, features_only=True, out_indices=...)``: the feature map after chosen
stages, as timm offers.

The stages are each model's ``feature_info`` (module, channels, reduction):

==========  ==========================================================================
family      stages
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

from ..errors import ConfigError
from .base import ClassicNet, FeatureInfo


class FeatureExtractor(nn.Module):
    """Returns a list of feature maps, one per chosen stage, in ``out_indices`` order (default:
    every stage, shallowest first). ``feature_info`` describes exactly those."""

    def __init__(self, model: ClassicNet, out_indices: tuple[int, ...] | None = None) -> None:
        super().__init__()
        stages = len(model.feature_info)
        indices = tuple(range(stages)) if out_indices is None else tuple(out_indices)
        bad = [i for i in indices if not -stages <= i < stages]
        if bad or not indices:
            raise ConfigError(f"out_indices must pick among the model's {stages} stages (0 to {stages - 1}), got {list(indices)}")
        self.feature_info: FeatureInfo = model.feature_info.select(indices)
        self.pretrained_cfg = model.pretrained_cfg
        nodes = {f["module"]: f["module"] for f in self.feature_info}
        self.body = create_feature_extractor(model, return_nodes=nodes)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        out = self.body(x)
        return [out[f["module"]] for f in self.feature_info]
