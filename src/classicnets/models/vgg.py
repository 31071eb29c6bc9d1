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

from typing import Any, Literal, NamedTuple

import torch
from torch import nn

from ..registry import ModelInfo, Published, register_model
from .base import ClassicNet, FeatureInfo, linear_or_identity

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

    first_conv_name = "features.0"
    classifier_name = "classifier.6"

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
        self.num_features, self.head_hidden_size = 512, width
        self.features = make_features(cfg, in_chans, batch_norm)
        self.avgpool = nn.AdaptiveAvgPool2d((pool, pool))
        self.classifier = nn.Sequential(
            nn.Linear(512 * pool * pool, width),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(width, width),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            linear_or_identity(width, num_classes),
        )
        self.feature_info = FeatureInfo()
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


class VGGRow(NamedTuple):
    """One VGG network: its column of Table 1 and its published figures."""

    config: str  # Table 1 column, a key of CFGS
    params: int  # published parameter count
    paper_error: float | None  # Table 3 top-1 error at S=256, in %
    torchvision_acc: float | None  # torchvision's acc@1 (IMAGENET1K_V1); None: no torchvision twin
    gmacs: float | None  # torchvision's documented GFLOPS (which count MACs)


TABLE: dict[str, VGGRow] = {
    "vgg11": VGGRow("A", params=132_863_336, paper_error=29.6, torchvision_acc=69.020, gmacs=7.609),
    "vgg13": VGGRow("B", params=133_047_848, paper_error=28.7, torchvision_acc=69.928, gmacs=11.308),
    "vgg16c": VGGRow("C", params=133_638_952, paper_error=28.1, torchvision_acc=None, gmacs=None),
    "vgg16": VGGRow("D", params=138_357_544, paper_error=27.0, torchvision_acc=71.592, gmacs=15.47),
    "vgg19": VGGRow("E", params=143_667_240, paper_error=27.3, torchvision_acc=72.376, gmacs=19.632),
    "vgg11_bn": VGGRow("A", params=132_868_840, paper_error=None, torchvision_acc=70.370, gmacs=7.609),
    "vgg13_bn": VGGRow("B", params=133_053_736, paper_error=None, torchvision_acc=71.586, gmacs=11.308),
    "vgg16c_bn": VGGRow("C", params=133_647_400, paper_error=None, torchvision_acc=None, gmacs=None),
    "vgg16_bn": VGGRow("D", params=138_365_992, paper_error=None, torchvision_acc=73.360, gmacs=15.47),
    "vgg19_bn": VGGRow("E", params=143_678_248, paper_error=None, torchvision_acc=74.218, gmacs=19.632),
}


def _card(name: str) -> ModelInfo:
    row = TABLE[name]
    cfg = row.config
    tv = name if row.torchvision_acc is not None else None
    if row.paper_error is not None:
        error = Published(row.paper_error, f"Simonyan & Zisserman 2014, Table 3 (config {cfg}, S=256)", "top-1, ILSVRC-2012 val, 1 scale")
    elif row.torchvision_acc is not None:
        error = Published(round(100 - row.torchvision_acc, 3), f"torchvision {name} IMAGENET1K_V1 (acc@1 {row.torchvision_acc})", "top-1, ILSVRC-2012 val, 1 crop")
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
        params=Published(row.params, source),
        error=error,
        macs=Published(row.gmacs * 1e9, f"torchvision {name} documentation (GFLOPS, counted as MACs)") if row.gmacs else None,
        deviations=_DEVIATIONS + (_BN_DEVIATION if name.endswith("_bn") else ()),
        torchvision=tv,
    )


def _vgg(name: str, **kwargs: Any) -> VGG:
    """Build ``name`` of ``TABLE`` (``num_classes``, ``in_chans``, ``head``, ``dropout``)."""
    return VGG(CFGS[TABLE[name].config], batch_norm=name.endswith("_bn"), **kwargs)


@register_model(_card("vgg11"))
def vgg11(**kwargs: Any) -> VGG:
    """VGG config A (11 weight layers). Keywords: ``num_classes``, ``in_chans``, ``head``
    ("imagenet" or "cifar"), ``dropout``. Deviations: ``model_info("vgg11").deviations``."""
    return _vgg("vgg11", **kwargs)


@register_model(_card("vgg13"))
def vgg13(**kwargs: Any) -> VGG:
    """VGG config B (13 weight layers). Keywords as ``vgg11``. Deviations: ``model_info("vgg13").deviations``."""
    return _vgg("vgg13", **kwargs)


@register_model(_card("vgg16c"))
def vgg16c(**kwargs: Any) -> VGG:
    """VGG config C (16 weight layers, three of them 1x1). Not in torchvision. Keywords as ``vgg11``. Deviations:
    ``model_info("vgg16c").deviations``."""
    return _vgg("vgg16c", **kwargs)


@register_model(_card("vgg16"))
def vgg16(**kwargs: Any) -> VGG:
    """VGG config D, 'VGG-16' (16 weight layers, 138M parameters). Keywords as ``vgg11``. Deviations:
    ``model_info("vgg16").deviations``."""
    return _vgg("vgg16", **kwargs)


@register_model(_card("vgg19"))
def vgg19(**kwargs: Any) -> VGG:
    """VGG config E, 'VGG-19' (19 weight layers). Keywords as ``vgg11``. Deviations:
    ``model_info("vgg19").deviations``."""
    return _vgg("vgg19", **kwargs)


@register_model(_card("vgg11_bn"))
def vgg11_bn(**kwargs: Any) -> VGG:
    """VGG config A with batch normalisation (torchvision's vgg11_bn). Keywords as ``vgg11``. Deviations:
    ``model_info("vgg11_bn").deviations``."""
    return _vgg("vgg11_bn", **kwargs)


@register_model(_card("vgg13_bn"))
def vgg13_bn(**kwargs: Any) -> VGG:
    """VGG config B with batch normalisation (torchvision's vgg13_bn). Keywords as ``vgg11``. Deviations:
    ``model_info("vgg13_bn").deviations``."""
    return _vgg("vgg13_bn", **kwargs)


@register_model(_card("vgg16c_bn"))
def vgg16c_bn(**kwargs: Any) -> VGG:
    """VGG config C with batch normalisation. Keywords as ``vgg11``. Deviations:
    ``model_info("vgg16c_bn").deviations``."""
    return _vgg("vgg16c_bn", **kwargs)


@register_model(_card("vgg16_bn"))
def vgg16_bn(**kwargs: Any) -> VGG:
    """VGG config D with batch normalisation (torchvision's vgg16_bn). Keywords as ``vgg11``. Deviations:
    ``model_info("vgg16_bn").deviations``."""
    return _vgg("vgg16_bn", **kwargs)


@register_model(_card("vgg19_bn"))
def vgg19_bn(**kwargs: Any) -> VGG:
    """VGG config E with batch normalisation (torchvision's vgg19_bn). Keywords as ``vgg11``. Deviations:
    ``model_info("vgg19_bn").deviations``."""
    return _vgg("vgg19_bn", **kwargs)
