"""AlexNet (Krizhevsky, Sutskever & Hinton 2012): the two-tower original, one tower, and
torchvision's "one weird trick" variant.

A. Krizhevsky, I. Sutskever, G. E. Hinton. "ImageNet Classification with Deep Convolutional
Neural Networks." NIPS 2012, section 3 and Figure 2.

=====  ============================================  ==============  ==========
layer  what (paper, section 3.5)                     output          parameters
=====  ============================================  ==============  ==========
input  227x227 RGB (the paper says 224; 227 fits)    3 x 227 x 227            0
conv1  96 filters 11x11, stride 4, ReLU, LRN         96 x 55 x 55        34,944
pool1  max 3x3, stride 2 (overlapping)               96 x 27 x 27             0
conv2  256 filters 5x5, pad 2, 2 groups, ReLU, LRN   256 x 27 x 27      307,456
pool2  max 3x3, stride 2                             256 x 13 x 13            0
conv3  384 filters 3x3, pad 1, ReLU (across towers)  384 x 13 x 13      885,120
conv4  384 filters 3x3, pad 1, 2 groups, ReLU        384 x 13 x 13      663,936
conv5  256 filters 3x3, pad 1, 2 groups, ReLU        256 x 13 x 13      442,624
pool5  max 3x3, stride 2                             256 x 6 x 6              0
fc6    4096, ReLU, dropout 0.5                       4096            37,752,832
fc7    4096, ReLU, dropout 0.5                       4096            16,781,312
fc8    1000                                          1000             4,097,000
=====  ============================================  ==============  ==========
total                                                                60,965,224
"""

from __future__ import annotations

import torch
from torch import nn

from ..registry import ModelInfo, Published, register_model
from .base import ClassicNet, FeatureInfo, linear_or_identity

PAPER = (
    "Krizhevsky, Sutskever, Hinton. ImageNet Classification with Deep Convolutional Neural Networks. "
    "NIPS 2012"
)
OWT_PAPER = "Krizhevsky. One weird trick for parallelizing convolutional neural networks. arXiv:1404.5997, 2014"


def paper_lrn() -> nn.LocalResponseNorm:
    """Section 3.3: b = a / (k + alpha * sum of a^2 over n adjacent maps)^beta, k=2, n=5,
    alpha=1e-4, beta=0.75. PyTorch divides alpha by n, so it gets alpha * n."""
    return nn.LocalResponseNorm(size=5, alpha=1e-4 * 5, beta=0.75, k=2.0)


class AlexNet(ClassicNet):
    """The 2012 network. ``groups=2`` keeps the two-GPU split of conv2, conv4 and conv5
    (each tower sees only its own half of the maps); ``groups=1`` is the one-tower network."""

    first_conv_name = "features.conv1"
    classifier_name = "classifier.fc8"
    num_features = 256
    head_hidden_size = 4096

    def __init__(self, num_classes: int = 1000, in_chans: int = 3, groups: int = 2, dropout: float = 0.5) -> None:
        super().__init__()
        self.num_classes, self.in_chans = num_classes, in_chans
        self.features = nn.Sequential()
        f = self.features
        f.add_module("conv1", nn.Conv2d(in_chans, 96, 11, stride=4))
        f.add_module("relu1", nn.ReLU(inplace=True))
        f.add_module("norm1", paper_lrn())
        f.add_module("pool1", nn.MaxPool2d(3, 2))
        f.add_module("conv2", nn.Conv2d(96, 256, 5, padding=2, groups=groups))
        f.add_module("relu2", nn.ReLU(inplace=True))
        f.add_module("norm2", paper_lrn())
        f.add_module("pool2", nn.MaxPool2d(3, 2))
        f.add_module("conv3", nn.Conv2d(256, 384, 3, padding=1))
        f.add_module("relu3", nn.ReLU(inplace=True))
        f.add_module("conv4", nn.Conv2d(384, 384, 3, padding=1, groups=groups))
        f.add_module("relu4", nn.ReLU(inplace=True))
        f.add_module("conv5", nn.Conv2d(384, 256, 3, padding=1, groups=groups))
        f.add_module("relu5", nn.ReLU(inplace=True))
        f.add_module("pool5", nn.MaxPool2d(3, 2))
        self.classifier = nn.Sequential()
        c = self.classifier
        c.add_module("fc6", nn.Linear(256 * 6 * 6, 4096))
        c.add_module("relu6", nn.ReLU(inplace=True))
        c.add_module("drop6", nn.Dropout(dropout))
        c.add_module("fc7", nn.Linear(4096, 4096))
        c.add_module("relu7", nn.ReLU(inplace=True))
        c.add_module("drop7", nn.Dropout(dropout))
        c.add_module("fc8", linear_or_identity(4096, num_classes))
        self.feature_info = FeatureInfo([
            {"module": "features.pool1", "num_chs": 96, "reduction": 8},
            {"module": "features.pool2", "num_chs": 256, "reduction": 16},
            {"module": "features.pool5", "num_chs": 256, "reduction": 32},
        ])
        self._init_weights()

    def _init_weights(self) -> None:
        # Section 5: weights from N(0, 0.01); biases 1 in conv2, conv4, conv5 and the hidden
        # fully connected layers (to give ReLUs positive inputs early), 0 elsewhere.
        ones = {"conv2", "conv4", "conv5", "fc6", "fc7"}
        for name, m in [*self.features.named_children(), *self.classifier.named_children()]:
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.normal_(m.weight, 0.0, 0.01)
                nn.init.constant_(m.bias, 1.0 if name in ones else 0.0)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = torch.flatten(x, 1)
        return self.classifier[:-1](x) if pre_logits else self.classifier(x)



class AlexNetOWT(ClassicNet):
    """torchvision's AlexNet: the single-tower "one weird trick" network (Krizhevsky 2014),
    with 64/192/384/256/256 filters, no LRN, and a 6x6 adaptive average pool before the
    classifier. Module names and indices are torchvision's, so state dicts load both ways."""

    first_conv_name = "features.0"
    classifier_name = "classifier.6"
    num_features = 256
    head_hidden_size = 4096

    def __init__(self, num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5) -> None:
        super().__init__()
        self.num_classes, self.in_chans = num_classes, in_chans
        self.features = nn.Sequential(
            nn.Conv2d(in_chans, 64, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            linear_or_identity(4096, num_classes),
        )
        self.feature_info = FeatureInfo([
            {"module": "features.2", "num_chs": 64, "reduction": 8},
            {"module": "features.5", "num_chs": 192, "reduction": 16},
            {"module": "features.12", "num_chs": 256, "reduction": 32},
        ])

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = torch.flatten(self.avgpool(x), 1)
        return self.classifier[:-1](x) if pre_logits else self.classifier(x)



_ALEXNET_DEVIATIONS = (
    "Input 227x227: the paper says 224x224, but 11x11 filters at stride 4 only give its 55x55 maps from 227.",
    "No test-time ten-crop averaging and no PCA colour augmentation in the model (those are data-side).",
)


def _alexnet_info(name: str, params: int, source: str, deviations: tuple[str, ...]) -> ModelInfo:
    return ModelInfo(
        name=name,
        family="alexnet",
        paper=PAPER,
        year=2012,
        input_size=(3, 227, 227),
        num_classes=1000,
        dataset="imagenet",
        depth=8,
        params=Published(params, source),
        error=Published(40.7, "Krizhevsky et al. 2012, Table 2 (1 CNN)", "top-1, ILSVRC-2012 val"),
        deviations=deviations,
    )


@register_model(
    _alexnet_info(
        "alexnet", 60_965_224, "Krizhevsky et al. 2012, section 3 ('60 million parameters'); exact count of Fig. 2",
        _ALEXNET_DEVIATIONS,
    )
)
def alexnet(num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5) -> AlexNet:
    """AlexNet as in Krizhevsky et al. 2012 (Fig. 2): two towers (groups=2 on conv2, conv4,
    conv5), LRN after conv1 and conv2, overlapping max pooling, dropout in fc6 and fc7, and the
    paper's initialisation. Deviations: ``model_info("alexnet").deviations``."""
    return AlexNet(num_classes, in_chans, groups=2, dropout=dropout)


@register_model(
    _alexnet_info(
        "alexnet_onetower", 62_378_344, "counted: Fig. 2 with conv2, conv4 and conv5 seeing all maps",
        (*_ALEXNET_DEVIATIONS, "One tower: conv2, conv4 and conv5 see all maps of the layer below (no groups)."),
    )
)
def alexnet_onetower(num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5) -> AlexNet:
    """AlexNet without the two-GPU grouping: the same layers, every map connected.
    Deviations: ``model_info("alexnet_onetower").deviations``."""
    return AlexNet(num_classes, in_chans, groups=1, dropout=dropout)


@register_model(
    ModelInfo(
        name="alexnet_owt",
        family="alexnet",
        paper=OWT_PAPER,
        year=2014,
        input_size=(3, 224, 224),
        num_classes=1000,
        dataset="imagenet",
        depth=8,
        params=Published(61_100_840, "torchvision AlexNet_Weights.IMAGENET1K_V1 documentation"),
        error=Published(43.478, "torchvision AlexNet_Weights.IMAGENET1K_V1 (acc@1 56.522)", "top-1, ILSVRC-2012 val, 1 crop"),
        macs=Published(0.714e9, "torchvision AlexNet_Weights.IMAGENET1K_V1 (0.71 GFLOPS, counted as MACs)"),
        deviations=(
            "This is torchvision's network, not the 2012 paper's: 64/192/384/256/256 filters, no LRN, "
            "no grouping, dropout before fc6 and fc7 rather than after, 224x224 input with padding 2 on conv1.",
            "An adaptive 6x6 average pool before the classifier lets other input sizes through.",
        ),
        torchvision="alexnet",
    )
)
def alexnet_owt(num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5) -> AlexNetOWT:
    """torchvision's AlexNet ("one weird trick", Krizhevsky 2014); its state dict loads in
    ``torchvision.models.alexnet`` and back. PyTorch's default initialisation, as torchvision.
    Deviations from the 2012 paper: ``model_info("alexnet_owt").deviations``."""
    return AlexNetOWT(num_classes, in_chans, dropout=dropout)
