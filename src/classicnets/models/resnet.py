"""ResNet (He, Zhang, Ren & Sun 2015) and its plain twins: one block class per kind, and the
shortcut is one argument.

K. He, X. Zhang, S. Ren, J. Sun. "Deep Residual Learning for Image Recognition." CVPR 2016
(arXiv:1512.03385, 2015). ImageNet networks: Table 1; CIFAR-10 networks: section 4.2.

A block computes F(a[l]) with two (basic) or three (bottleneck) convolutions, then

    a[l+2] = g(F(a[l]) + shortcut(a[l]))     residual (shortcut "A", "B" or "C")
    a[l+2] = g(F(a[l]))                      plain (shortcut None)

Shortcut options (section 3.3 and 4.1):

=====  ==============================================================================
"A"    identity; where the shape changes, subsample by the stride and pad the new
       channels with zeros (no parameters)
"B"    identity; a projection W_s (1x1 conv + BN) only where the shape changes
"C"    a projection W_s on every block
None   no shortcut: the plain network
=====  ==============================================================================

CIFAR-10 networks (6n+2 layers, option A, Table 6):

=========  ===  ====================  ==========  =====================
name       n    stages (32, 16, 8px)  parameters  paper test error
=========  ===  ====================  ==========  =====================
resnet20   3    [3, 3, 3]                269,722  8.75%
resnet32   5    [5, 5, 5]                464,154  7.51%
resnet44   7    [7, 7, 7]                658,586  7.17%
resnet56   9    [9, 9, 9]                853,018  6.97%
resnet110  18   [18, 18, 18]           1,727,962  6.43%
resnet1202 200  [200, 200, 200]       19,421,274  7.93%
=========  ===  ====================  ==========  =====================

Filters 16, 32, 64; plainN has the same layers and the same parameter count as resnetN.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from ..registry import ModelInfo, Published, register_model
from .base import ClassicNet, FeatureInfo, linear_or_identity

PAPER = "He, Zhang, Ren, Sun. Deep Residual Learning for Image Recognition. CVPR 2016 (arXiv:1512.03385)"

Shortcut = Literal["A", "B", "C"] | None
SHORTCUTS: tuple[Shortcut, ...] = ("A", "B", "C", None)


class PadShortcut(nn.Module):
    """Option A where the shape changes: take every ``stride``-th pixel and append zero channels.
    The first ``in_ch`` channels carry the input unchanged; no parameters."""

    def __init__(self, in_ch: int, out_ch: int, stride: int) -> None:
        super().__init__()
        self.extra, self.stride = out_ch - in_ch, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, :, :: self.stride, :: self.stride]
        return F.pad(x, (0, 0, 0, 0, 0, self.extra)) if self.extra else x

    def extra_repr(self) -> str:
        return f"stride={self.stride}, zero_channels={self.extra}"


def make_downsample(kind: Shortcut, in_ch: int, out_ch: int, stride: int, batch_norm: bool) -> nn.Module | None:
    """What the shortcut does to a[l] before the addition: a projection W_s (1x1 conv + BN), option
    A's subsample-and-pad, or None when a[l] is added as it is (and for a plain block)."""
    if kind not in SHORTCUTS:
        raise ValueError(f"shortcut must be one of 'A', 'B', 'C' or None, not {kind!r}")
    changes = stride != 1 or in_ch != out_ch
    if kind == "C" or (kind == "B" and changes):
        proj: list[nn.Module] = [nn.Conv2d(in_ch, out_ch, 1, stride=stride, bias=not batch_norm)]
        if batch_norm:
            proj.append(nn.BatchNorm2d(out_ch))
        return nn.Sequential(*proj)
    if kind == "A" and changes:
        return PadShortcut(in_ch, out_ch, stride)
    return None


def _norm(channels: int, batch_norm: bool) -> nn.Module:
    return nn.BatchNorm2d(channels) if batch_norm else nn.Identity()


def path_of(shortcut: nn.Module | None) -> str:
    """What carries a[l] around F, in words: "identity" (None), "zero-pad" (option A's
    ``PadShortcut``) or "projection" (a 1x1 convolution W_s)."""
    if shortcut is None:
        return "identity"
    return "zero-pad" if isinstance(shortcut, PadShortcut) else "projection"


class ResidualBlock(nn.Module):
    """``a[l+2] = relu(F(a[l]) + shortcut(a[l]))``, or ``relu(F(a[l]))`` when the block is plain
    (``shortcut_kind`` None). Subclasses build F (``residual_branch``) and name its last layers
    (``last_layers``).

    ``downsample`` is what the shortcut does to a[l] when it cannot pass unchanged (W_s, or option
    A's subsample and zero channels), and None otherwise: torchvision's name, so that its weights'
    keys (``layer2.0.downsample.0.weight``) load as they are.
    """

    expansion = 1

    def __init__(self, in_ch: int, out_ch: int, stride: int, shortcut: Shortcut, batch_norm: bool) -> None:
        super().__init__()
        self.shortcut_kind: Shortcut = shortcut
        self.relu = nn.ReLU(inplace=True)
        self.downsample = make_downsample(shortcut, in_ch, out_ch, stride, batch_norm) if shortcut else None

    @property
    def residual(self) -> bool:
        """Whether a[l] is added back: False for a plain block."""
        return self.shortcut_kind is not None

    def residual_branch(self, x: torch.Tensor) -> torch.Tensor:
        """F(a[l]): the block's convolutions, up to (not including) the last ReLU."""
        raise NotImplementedError

    def last_layers(self) -> tuple[nn.Conv2d, nn.Module]:
        """F's last convolution and the norm after it (W[l+2], and b[l+2] with BN)."""
        raise NotImplementedError

    def shortcut(self, x: torch.Tensor) -> torch.Tensor:
        """What the block adds to F(a[l]): a[l] itself, or ``downsample(a[l])``."""
        return x if self.downsample is None else self.downsample(x)

    def shortcut_path(self) -> str:
        """The shortcut in words: "none" (plain), "identity", "zero-pad" (option A where the shape
        changes) or "projection" (a 1x1 convolution W_s)."""
        return path_of(self.downsample) if self.residual else "none"

    def zero_init_last(self, bias: float = 0.0) -> None:
        """Make F's last layer output ``bias`` everywhere: W[l+2] = 0 (the last BN's gamma, or the
        last convolution's weight without BN) and b[l+2] = ``bias``. With ``bias`` 0 a residual
        block then returns relu(a[l]) = a[l], and a plain one relu(0) = 0."""
        conv, norm = self.last_layers()
        target = norm if isinstance(norm, nn.BatchNorm2d) else conv
        with torch.no_grad():
            target.weight.zero_()
            if target.bias is not None:
                target.bias.fill_(bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.residual_branch(x)
        if self.residual:
            out = out + self.shortcut(x)
        return self.relu(out)


class BasicBlock(ResidualBlock):
    """Two 3x3 convolutions (Fig. 2 / Fig. 5 left). torchvision's module names."""

    expansion = 1

    def __init__(
        self, in_ch: int, planes: int, stride: int = 1, shortcut: Shortcut = "B", batch_norm: bool = True
    ) -> None:
        super().__init__(in_ch, planes, stride, shortcut, batch_norm)
        self.conv1 = nn.Conv2d(in_ch, planes, 3, stride=stride, padding=1, bias=not batch_norm)
        self.bn1 = _norm(planes, batch_norm)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=not batch_norm)
        self.bn2 = _norm(planes, batch_norm)

    def residual_branch(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))

    def last_layers(self) -> tuple[nn.Conv2d, nn.Module]:
        return self.conv2, self.bn2


class Bottleneck(ResidualBlock):
    """1x1 reduce, 3x3, 1x1 expand by 4 (Fig. 5 right). ``stride_in_1x1=False`` strides in the
    3x3 convolution, as torchvision ("ResNet v1.5") does; the paper strides in the first 1x1."""

    expansion = 4

    def __init__(
        self,
        in_ch: int,
        planes: int,
        stride: int = 1,
        shortcut: Shortcut = "B",
        batch_norm: bool = True,
        stride_in_1x1: bool = False,
    ) -> None:
        out_ch = planes * self.expansion
        super().__init__(in_ch, out_ch, stride, shortcut, batch_norm)
        s1, s3 = (stride, 1) if stride_in_1x1 else (1, stride)
        self.conv1 = nn.Conv2d(in_ch, planes, 1, stride=s1, bias=not batch_norm)
        self.bn1 = _norm(planes, batch_norm)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=s3, padding=1, bias=not batch_norm)
        self.bn2 = _norm(planes, batch_norm)
        self.conv3 = nn.Conv2d(planes, out_ch, 1, bias=not batch_norm)
        self.bn3 = _norm(out_ch, batch_norm)

    def residual_branch(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.bn3(self.conv3(out))

    def last_layers(self) -> tuple[nn.Conv2d, nn.Module]:
        return self.conv3, self.bn3


Block = type[BasicBlock] | type[Bottleneck]
Stem = Literal["imagenet", "cifar"]


class ResNet(ClassicNet):
    """A stack of stages ``layers`` (blocks per stage) of ``block``, after a stem.

    ``stem="imagenet"``: 7x7/2 conv, 64 filters, 3x3/2 max pool (Table 1).
    ``stem="cifar"``: 3x3 conv, 16 filters, no pooling (section 4.2).
    Each later stage halves height and width and doubles the filters. Global average pooling
    and one fully connected layer end the network.
    """

    first_conv_name = "conv1"
    classifier_name = "fc"

    def __init__(
        self,
        *,
        block: Block,
        layers: list[int],
        widths: list[int],
        num_classes: int = 1000,
        in_chans: int = 3,
        stem: Stem = "imagenet",
        shortcut: Shortcut = "B",
        zero_init_residual: bool = False,
        stride_in_1x1: bool = False,
    ) -> None:
        super().__init__()
        self.num_classes, self.in_chans = num_classes, in_chans
        if stem == "imagenet":
            self.conv1 = nn.Conv2d(in_chans, widths[0], 7, stride=2, padding=3, bias=False)
            self.maxpool: nn.Module = nn.MaxPool2d(3, stride=2, padding=1)
            reduction = 4
        else:
            self.conv1 = nn.Conv2d(in_chans, widths[0], 3, padding=1, bias=False)
            self.maxpool = nn.Identity()
            reduction = 1
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        block_kwargs = {"stride_in_1x1": True} if stride_in_1x1 else {}
        channels = widths[0]
        self.feature_info = FeatureInfo()
        for i, (n, width) in enumerate(zip(layers, widths, strict=True)):
            stride = 1 if i == 0 else 2
            reduction *= stride
            blocks = []
            for j in range(n):
                blocks.append(block(channels, width, stride if j == 0 else 1, shortcut, **block_kwargs))
                channels = width * block.expansion
            self.add_module(f"layer{i + 1}", nn.Sequential(*blocks))
            self.feature_info.append({"module": f"layer{i + 1}", "num_chs": channels, "reduction": reduction})
        self.num_stages = len(layers)
        self.num_features = self.head_hidden_size = channels
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = linear_or_identity(channels, num_classes)
        self._init_weights(zero_init_residual)

    def stages(self) -> list[nn.Sequential]:
        return [getattr(self, f"layer{i + 1}") for i in range(self.num_stages)]

    def blocks(self) -> list[ResidualBlock]:
        return [m for m in self.modules() if isinstance(m, ResidualBlock)]

    def _init_weights(self, zero_init_residual: bool) -> None:
        # He et al. 2015 (PReLU paper, [13] in the ResNet paper): N(0, 2/n), n = k*k*out_channels.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        if zero_init_residual:  # Goyal et al. 2017: each residual block starts as the identity
            for b in self.blocks():
                b.zero_init_last()

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for stage in self.stages():
            x = stage(x)
        return x

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = torch.flatten(self.avgpool(x), 1)
        return x if pre_logits else self.fc(x)


# ---- ImageNet networks (Table 1) -----------------------------------------------------------


class ImageNetRow(NamedTuple):
    """One ImageNet network: its column of Table 1 and its published figures."""

    block: Block
    layers: list[int]
    params: int  # published parameter count
    paper_error: float  # top-1 error, 10-crop, in %
    table: str  # where in the paper
    gmacs: float | None  # torchvision's documented GFLOPS (which count MACs)


IMAGENET: dict[str, ImageNetRow] = {
    "resnet18": ImageNetRow(BasicBlock, [2, 2, 2, 2], params=11_689_512, paper_error=27.88, table="Table 2", gmacs=1.814),
    "resnet34": ImageNetRow(BasicBlock, [3, 4, 6, 3], params=21_797_672, paper_error=24.52, table="Table 3 (ResNet-34 B)", gmacs=3.664),
    "resnet50": ImageNetRow(Bottleneck, [3, 4, 6, 3], params=25_557_032, paper_error=22.85, table="Table 3", gmacs=4.089),
    "resnet101": ImageNetRow(Bottleneck, [3, 4, 23, 3], params=44_549_160, paper_error=21.75, table="Table 3", gmacs=7.801),
    "resnet152": ImageNetRow(Bottleneck, [3, 8, 36, 3], params=60_192_808, paper_error=21.43, table="Table 3", gmacs=11.514),
    "plain18": ImageNetRow(BasicBlock, [2, 2, 2, 2], params=11_515_688, paper_error=27.94, table="Table 2", gmacs=None),
    "plain34": ImageNetRow(BasicBlock, [3, 4, 6, 3], params=21_623_848, paper_error=28.54, table="Table 2", gmacs=None),
}  # fmt: skip

_IMAGENET_DEVIATIONS = (
    "Shortcut option B (projections only where the shape changes), as torchvision; the paper's "
    "Table 2 plain-vs-residual comparison used option A for ResNet-18/34.",
)
_V15 = (
    "Bottleneck blocks stride in the 3x3 convolution (torchvision's 'v1.5'), not in the first 1x1 as "
    "the paper does: kept so that torchvision's weights and outputs match. stride_in_1x1=True restores the paper.",
)


def _imagenet_card(name: str) -> ModelInfo:
    row = IMAGENET[name]
    plain = name.startswith("plain")
    return ModelInfo(
        name=name,
        family="resnet",
        paper=PAPER,
        year=2015,
        input_size=(3, 224, 224),
        num_classes=1000,
        dataset="imagenet",
        depth=sum(row.layers) * (2 if row.block is BasicBlock else 3) + 2,
        params=Published(
            row.params, "counted: the residual twin less its projections" if plain else f"torchvision {name} documentation"
        ),
        error=Published(row.paper_error, f"He et al. 2015, {row.table}", "top-1, ILSVRC-2012 val, 10-crop"),
        macs=Published(row.gmacs * 1e9, f"torchvision {name} documentation (GFLOPS, counted as MACs)") if row.gmacs else None,
        deviations=(
            ("A plain network: no shortcuts at all (section 4.1).",) if plain else _IMAGENET_DEVIATIONS
        ) + (_V15 if row.block is Bottleneck else ()),
        torchvision=None if plain else name,
        plain_twin_of=name.replace("plain", "resnet") if plain else None,
    )


def _imagenet_resnet(name: str, **kwargs: Any) -> ResNet:
    """Build ``name`` of ``IMAGENET``: widths 64-512, the ImageNet stem, option B (None for the
    plain twins) unless ``shortcut=`` says otherwise."""
    row = IMAGENET[name]
    kwargs.setdefault("shortcut", None if name.startswith("plain") else "B")
    return ResNet(block=row.block, layers=row.layers, widths=[64, 128, 256, 512], stem="imagenet", **kwargs)


@register_model(_imagenet_card("resnet18"))
def resnet18(**kwargs: Any) -> ResNet:
    """ResNet-18: [2, 2, 2, 2] basic blocks, torchvision-compatible. Keywords: ``num_classes``,
    ``in_chans``, ``shortcut``, ``zero_init_residual``. Deviations: ``model_info("resnet18").deviations``."""
    return _imagenet_resnet("resnet18", **kwargs)


@register_model(_imagenet_card("resnet34"))
def resnet34(**kwargs: Any) -> ResNet:
    """ResNet-34: [3, 4, 6, 3] basic blocks, torchvision-compatible. Keywords as ``resnet18``. Deviations:
    ``model_info("resnet34").deviations``."""
    return _imagenet_resnet("resnet34", **kwargs)


@register_model(_imagenet_card("resnet50"))
def resnet50(**kwargs: Any) -> ResNet:
    """ResNet-50: [3, 4, 6, 3] bottleneck blocks, torchvision-compatible. Keywords as ``resnet18``,
    and ``stride_in_1x1=True`` for the paper's placement of the stride. Deviations: ``model_info("resnet50").deviations``."""
    return _imagenet_resnet("resnet50", **kwargs)


@register_model(_imagenet_card("resnet101"))
def resnet101(**kwargs: Any) -> ResNet:
    """ResNet-101: [3, 4, 23, 3] bottleneck blocks, torchvision-compatible. Keywords as ``resnet50``. Deviations:
    ``model_info("resnet101").deviations``."""
    return _imagenet_resnet("resnet101", **kwargs)


@register_model(_imagenet_card("resnet152"))
def resnet152(**kwargs: Any) -> ResNet:
    """ResNet-152: [3, 8, 36, 3] bottleneck blocks, torchvision-compatible. Keywords as ``resnet50``. Deviations:
    ``model_info("resnet152").deviations``."""
    return _imagenet_resnet("resnet152", **kwargs)


@register_model(_imagenet_card("plain18"))
def plain18(**kwargs: Any) -> ResNet:
    """Plain-18: ResNet-18's layers with no shortcuts (Table 2). Keywords as ``resnet18``. Deviations:
    ``model_info("plain18").deviations``."""
    return _imagenet_resnet("plain18", **kwargs)


@register_model(_imagenet_card("plain34"))
def plain34(**kwargs: Any) -> ResNet:
    """Plain-34: ResNet-34's layers with no shortcuts (Table 2, Fig. 4). Keywords as ``resnet18``. Deviations:
    ``model_info("plain34").deviations``."""
    return _imagenet_resnet("plain34", **kwargs)


# ---- CIFAR-10 networks (section 4.2) -------------------------------------------------------


class CifarRow(NamedTuple):
    """One CIFAR-10 depth 6n+2 of Table 6."""

    params: int  # exact count with option A (the paper rounds: 0.27M, ...)
    paper_error: float  # test error, in %


CIFAR: dict[int, CifarRow] = {
    20: CifarRow(params=269_722, paper_error=8.75),
    32: CifarRow(params=464_154, paper_error=7.51),
    44: CifarRow(params=658_586, paper_error=7.17),
    56: CifarRow(params=853_018, paper_error=6.97),
    110: CifarRow(params=1_727_962, paper_error=6.43),
    1202: CifarRow(params=19_421_274, paper_error=7.93),
}
_CIFAR_DEVIATIONS = (
    "Option A pads the new channels after the old ones; implementations differ in where the zeros go.",
)


def _cifar_card(depth: int, plain: bool) -> ModelInfo:
    row = CIFAR[depth]
    twin = f"resnet{depth}"
    return ModelInfo(
        name=f"plain{depth}" if plain else twin,
        family="resnet",
        paper=PAPER,
        year=2015,
        input_size=(3, 32, 32),
        num_classes=10,
        dataset="cifar10",
        depth=depth,
        params=Published(row.params, f"He et al. 2015, Table 6 ({row.params / 1e6:.2f}M); exact count, option A"),
        error=None if plain else Published(row.paper_error, "He et al. 2015, Table 6", "test, CIFAR-10"),
        deviations=("A plain network: no shortcuts (section 4.2, Fig. 6 left).",) if plain else _CIFAR_DEVIATIONS,
        plain_twin_of=twin if plain else None,
    )


def cifar_blocks(depth: int) -> int:
    """n, the blocks per stage of the 6n+2-layer CIFAR-10 network of ``depth`` layers (the one place
    the rule lives); ``ValueError`` for a depth that is not 6n+2 with n >= 1."""
    if (depth - 2) % 6 or depth < 8:
        raise ValueError(f"a CIFAR ResNet has 6n+2 layers (20, 32, 44, 56, 110, ...), not {depth}")
    return (depth - 2) // 6


def cifar_resnet(depth: int, *, shortcut: Shortcut = "A", **kwargs: Any) -> ResNet:
    """The 6n+2-layer CIFAR-10 network (n = (depth - 2) / 6 blocks per stage; 16, 32, 64 filters).
    ``shortcut=None`` is its plain twin."""
    n = cifar_blocks(depth)
    kwargs.setdefault("num_classes", 10)
    return ResNet(block=BasicBlock, layers=[n, n, n], widths=[16, 32, 64], stem="cifar", shortcut=shortcut, **kwargs)


@register_model(_cifar_card(20, plain=False))
def resnet20(**kwargs: Any) -> ResNet:
    """ResNet-20 for CIFAR-10 (n=3), option A. Keywords: ``num_classes``, ``in_chans``,
    ``shortcut``, ``zero_init_residual``. Deviations: ``model_info("resnet20").deviations``."""
    return cifar_resnet(20, **kwargs)


@register_model(_cifar_card(32, plain=False))
def resnet32(**kwargs: Any) -> ResNet:
    """ResNet-32 for CIFAR-10 (n=5), option A. Keywords as ``resnet20``. Deviations:
    ``model_info("resnet32").deviations``."""
    return cifar_resnet(32, **kwargs)


@register_model(_cifar_card(44, plain=False))
def resnet44(**kwargs: Any) -> ResNet:
    """ResNet-44 for CIFAR-10 (n=7), option A. Keywords as ``resnet20``. Deviations:
    ``model_info("resnet44").deviations``."""
    return cifar_resnet(44, **kwargs)


@register_model(_cifar_card(56, plain=False))
def resnet56(**kwargs: Any) -> ResNet:
    """ResNet-56 for CIFAR-10 (n=9), option A. Keywords as ``resnet20``. Deviations:
    ``model_info("resnet56").deviations``."""
    return cifar_resnet(56, **kwargs)


@register_model(_cifar_card(110, plain=False))
def resnet110(**kwargs: Any) -> ResNet:
    """ResNet-110 for CIFAR-10 (n=18), option A; the paper warms it up at lr 0.01. Keywords as ``resnet20``.
    Deviations: ``model_info("resnet110").deviations``."""
    return cifar_resnet(110, **kwargs)


@register_model(_cifar_card(1202, plain=False))
def resnet1202(**kwargs: Any) -> ResNet:
    """ResNet-1202 for CIFAR-10 (n=200), option A: the paper's overfitting example. Keywords as ``resnet20``.
    Deviations: ``model_info("resnet1202").deviations``."""
    return cifar_resnet(1202, **kwargs)


@register_model(_cifar_card(20, plain=True))
def plain20(**kwargs: Any) -> ResNet:
    """Plain-20: ResNet-20's layers with no shortcuts (Fig. 6 left). Keywords as ``resnet20``. Deviations:
    ``model_info("plain20").deviations``."""
    return cifar_resnet(20, **{"shortcut": None, **kwargs})


@register_model(_cifar_card(32, plain=True))
def plain32(**kwargs: Any) -> ResNet:
    """Plain-32: ResNet-32's layers with no shortcuts. Keywords as ``resnet20``. Deviations:
    ``model_info("plain32").deviations``."""
    return cifar_resnet(32, **{"shortcut": None, **kwargs})


@register_model(_cifar_card(44, plain=True))
def plain44(**kwargs: Any) -> ResNet:
    """Plain-44: ResNet-44's layers with no shortcuts. Keywords as ``resnet20``. Deviations:
    ``model_info("plain44").deviations``."""
    return cifar_resnet(44, **{"shortcut": None, **kwargs})


@register_model(_cifar_card(56, plain=True))
def plain56(**kwargs: Any) -> ResNet:
    """Plain-56: ResNet-56's layers with no shortcuts (Fig. 6 left). Keywords as ``resnet20``. Deviations:
    ``model_info("plain56").deviations``."""
    return cifar_resnet(56, **{"shortcut": None, **kwargs})


@register_model(_cifar_card(110, plain=True))
def plain110(**kwargs: Any) -> ResNet:
    """Plain-110: ResNet-110's layers with no shortcuts (the paper's plain net fails to train). Keywords as
    ``resnet20``. Deviations: ``model_info("plain110").deviations``."""
    return cifar_resnet(110, **{"shortcut": None, **kwargs})
