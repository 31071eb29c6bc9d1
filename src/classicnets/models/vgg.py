"""VGG (Simonyan & Zisserman 2014): configurations A-E of the paper's Table 1, as data.

K. Simonyan, A. Zisserman. "Very Deep Convolutional Networks for Large-Scale Image
Recognition." ICLR 2015 (arXiv:1409.1556, 2014), Tables 1 and 2.

Each config reads like a column of Table 1: a number N is a "conv3-N" layer (3x3, stride 1,
padding 1, ReLU), ``"conv1-N"`` is config C's 1x1 layer, and ``M`` is 2x2 max pooling with
stride 2. Every network ends in FC-4096, FC-4096 (ReLU, dropout 0.5) and FC-``num_classes``.

======  ==========  =====  ===========  =====================================
name    Table 1     depth  parameters   published top-1 error (Table 3, S=256)
======  ==========  =====  ===========  =====================================
vgg11   A           11     132,863,336  29.6%
vgg13   B           13     133,047,848  28.7%
vgg16c  C           16     133,638,952  28.1%
vgg16   D           16     138,357,544  27.0%
vgg19   E           19     143,667,240  27.3%
======  ==========  =====  ===========  =====================================

Height and width halve at each ``M`` (224, 112, 56, 28, 14, 7) while channels double
(64, 128, 256, 512, 512): the pattern the lecture points at.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
from torch import nn

from ..registry import ModelInfo, Published, register_model
from .base import ClassicNet

PAPER = (
    "Simonyan, Zisserman. Very Deep Convolutional Networks for Large-Scale Image Recognition. "
    "ICLR 2015 (arXiv:1409.1556)"
)
M = "M"
Layer = int | str

CFGS: dict[str, list[Layer]] = {
    "A": [64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M],
    "B": [64, 64, M, 128, 128, M, 256, 256, M, 512, 512, M, 512, 512, M],
    "C": [64, 64, M, 128, 128, M, 256, 256, "conv1-256", M, 512, 512, "conv1-512", M, 512, 512, "conv1-512", M],
    "D": [64, 64, M, 128, 128, M, 256, 256, 256, M, 512, 512, 512, M, 512, 512, 512, M],
    "E": [64, 64, M, 128, 128, M, 256, 256, 256, 256, M, 512, 512, 512, 512, M, 512, 512, 512, 512, M],
}

Head = Literal["imagenet", "cifar"]
# head -> (adaptive pool size before the classifier, width of the two hidden FC layers)
HEADS: dict[str, tuple[int, int]] = {"imagenet": (7, 4096), "cifar": (1, 512)}


def make_features(cfg: list[Layer], in_chans: int, batch_norm: bool) -> nn.Sequential:
    """The convolutional part. Layer indices match torchvision's, so state dicts load both ways."""
    layers: list[nn.Module] = []
    channels = in_chans
    for v in cfg:
        if v == M:
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        kernel = 1 if isinstance(v, str) else 3  # "conv1-N" or N (conv3-N)
        out = int(v.split("-")[1]) if isinstance(v, str) else v
        layers.append(nn.Conv2d(channels, out, kernel_size=kernel, padding=kernel // 2))
        if batch_norm:
            layers.append(nn.BatchNorm2d(out))
        layers.append(nn.ReLU(inplace=True))
        channels = out
    return nn.Sequential(*layers)


class VGG(ClassicNet):
    """A VGG network from a Table 1 config. ``head="cifar"`` swaps the ImageNet head for one
    that suits 32x32 inputs: the 1x1x512 feature map feeds FC-512, FC-512, FC-classes."""

    def __init__(
        self,
        cfg: list[Layer],
        num_classes: int = 1000,
        in_chans: int = 3,
        batch_norm: bool = False,
        head: Head = "imagenet",
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        if head not in HEADS:
            raise ValueError(f"head must be one of {sorted(HEADS)}, not {head!r}")
        self.num_classes, self.in_chans = num_classes, in_chans
        pool, width = HEADS[head]
        self.features = make_features(cfg, in_chans, batch_norm)
        self.avgpool = nn.AdaptiveAvgPool2d((pool, pool))
        self.classifier = nn.Sequential(
            nn.Linear(512 * pool * pool, width),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(width, width),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(width, num_classes),
        )
        self.feature_info = []
        for i, m in enumerate(self.features):
            if isinstance(m, nn.Conv2d):
                channels = m.out_channels
            elif isinstance(m, nn.MaxPool2d):
                reduction = 2 ** (len(self.feature_info) + 1)
                self.feature_info.append({"module": f"features.{i}", "num_chs": channels, "reduction": reduction})
        self._init_weights()

    def _init_weights(self) -> None:
        # Section 3.1: "initialise the weights without pre-training by using the random
        # initialisation procedure of Glorot & Bengio (2010)"; biases zero.
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = torch.flatten(self.avgpool(x), 1)
        return self.classifier[:-1](x) if pre_logits else self.classifier(x)

    def get_classifier(self) -> nn.Module:
        return self.classifier[-1]

    def reset_classifier(self, num_classes: int) -> None:
        self.num_classes = num_classes
        last = self.classifier[-1]
        assert isinstance(last, nn.Linear)
        self.classifier[-1] = nn.Linear(last.in_features, num_classes)


_DEVIATIONS = (
    "An adaptive average pool (7x7, a no-op at 224x224) sits before the classifier so other input "
    "sizes pass; the paper instead turns the FC layers into convolutions for dense evaluation.",
    "The paper trained the deeper configs starting from config A's weights; we initialise every "
    "config with Glorot & Bengio, which the paper reports works as well (section 3.1).",
)
_BN_DEVIATION = (
    "Batch normalisation after every convolution: not in the paper (BN came in 2015); this is "
    "torchvision's _bn variant.",
)

# name -> (config, published params, Table 3 top-1 error at S=256 or None, torchvision acc@1, GMACs)
_TABLE: dict[str, tuple[str, int, float | None, float | None, float | None]] = {
    "vgg11": ("A", 132_863_336, 29.6, 69.020, 7.609),
    "vgg13": ("B", 133_047_848, 28.7, 69.928, 11.308),
    "vgg16c": ("C", 133_638_952, 28.1, None, None),
    "vgg16": ("D", 138_357_544, 27.0, 71.592, 15.47),
    "vgg19": ("E", 143_667_240, 27.3, 72.376, 19.632),
    "vgg11_bn": ("A", 132_868_840, None, 70.370, 7.609),
    "vgg13_bn": ("B", 133_053_736, None, 71.586, 11.308),
    "vgg16c_bn": ("C", 133_647_400, None, None, None),
    "vgg16_bn": ("D", 138_365_992, None, 73.360, 15.47),
    "vgg19_bn": ("E", 143_678_248, None, 74.218, 19.632),
}


def _info(name: str) -> ModelInfo:
    cfg, params, paper_err, tv_acc, gmacs = _TABLE[name]
    tv = name if tv_acc is not None else None
    if paper_err is not None:
        error = Published(paper_err, f"Simonyan & Zisserman 2014, Table 3 (config {cfg}, S=256)", "top-1, ILSVRC-2012 val, 1 scale")
    elif tv_acc is not None:
        error = Published(round(100 - tv_acc, 3), f"torchvision {name} IMAGENET1K_V1 (acc@1 {tv_acc})", "top-1, ILSVRC-2012 val, 1 crop")
    else:
        error = None
    source = f"torchvision {name} documentation" if tv else f"counted from Table 1, config {cfg} (paper, Table 2: 134M)"
    return ModelInfo(
        name=name,
        family="vgg",
        paper=PAPER,
        year=2014,
        input_size=(3, 224, 224),
        num_classes=1000,
        dataset="imagenet",
        depth=sum(1 for v in CFGS[cfg] if v != M) + 3,
        params=Published(params, source),
        error=error,
        macs=Published(gmacs * 1e9, f"torchvision {name} documentation (GFLOPS, counted as MACs)") if gmacs else None,
        deviations=_DEVIATIONS + (_BN_DEVIATION if name.endswith("_bn") else ()),
        torchvision=tv,
    )


def _entry(name: str, doc: str) -> Callable[..., VGG]:
    """A thin named entry point: ``vgg16(num_classes=..., in_chans=..., head=..., dropout=...)``."""
    cfg = _TABLE[name][0]
    batch_norm = name.endswith("_bn")

    def build(num_classes: int = 1000, in_chans: int = 3, head: Head = "imagenet", dropout: float = 0.5) -> VGG:
        return VGG(CFGS[cfg], num_classes, in_chans, batch_norm=batch_norm, head=head, dropout=dropout)

    build.__name__ = build.__qualname__ = name
    build.__doc__ = f"{doc} Deviations: ``model_info({name!r}).deviations``."
    return register_model(_info(name))(build)


vgg11 = _entry("vgg11", "VGG config A (11 weight layers).")
vgg13 = _entry("vgg13", "VGG config B (13 weight layers).")
vgg16c = _entry("vgg16c", "VGG config C (16 weight layers, three of them 1x1). Not in torchvision.")
vgg16 = _entry("vgg16", "VGG config D, 'VGG-16' (16 weight layers, 138M parameters).")
vgg19 = _entry("vgg19", "VGG config E, 'VGG-19' (19 weight layers).")
vgg11_bn = _entry("vgg11_bn", "VGG config A with batch normalisation (torchvision's vgg11_bn).")
vgg13_bn = _entry("vgg13_bn", "VGG config B with batch normalisation (torchvision's vgg13_bn).")
vgg16c_bn = _entry("vgg16c_bn", "VGG config C with batch normalisation.")
vgg16_bn = _entry("vgg16_bn", "VGG config D with batch normalisation (torchvision's vgg16_bn).")
vgg19_bn = _entry("vgg19_bn", "VGG config E with batch normalisation (torchvision's vgg19_bn).")
