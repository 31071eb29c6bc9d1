"""ResNet (He, Zhang, Ren & Sun 2015) and its plain twins: one block class per kind, and the
shortcut is one argument.

K. He, X. Zhang, S. Ren, J. Sun. "Deep Residual Learning for Image Recognition." CVPR 2016
(arXiv:1512.03385, 2015). ImageNet networks: Table 1; CIFAR-10 networks: section 4.2.

A block computes F(x) with two (basic) or three (bottleneck) convolutions, then

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

from collections.abc import Callable
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from ..registry import ModelInfo, Published, register_model
from .base import ClassicNet

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


def make_shortcut(kind: Shortcut, in_ch: int, out_ch: int, stride: int, batch_norm: bool) -> nn.Module | None:
    """The shortcut path of a block, or None for a plain block."""
    if kind not in SHORTCUTS:
        raise ValueError(f"shortcut must be one of 'A', 'B', 'C' or None, not {kind!r}")
    if kind is None:
        return None
    changes = stride != 1 or in_ch != out_ch
    if kind == "C" or (kind == "B" and changes):
        proj: list[nn.Module] = [nn.Conv2d(in_ch, out_ch, 1, stride=stride, bias=not batch_norm)]
        if batch_norm:
            proj.append(nn.BatchNorm2d(out_ch))
        return nn.Sequential(*proj)
    if kind == "A" and changes:
        return PadShortcut(in_ch, out_ch, stride)
    return nn.Identity()


def _norm(channels: int, batch_norm: bool) -> nn.Module:
    return nn.BatchNorm2d(channels) if batch_norm else nn.Identity()


class ResidualBlock(nn.Module):
    """Shared by both blocks: ``a[l+2] = relu(F(a[l]) + shortcut(a[l]))``, or ``relu(F(a[l]))``
    when the block is plain (``shortcut=None``). Subclasses build ``residual_branch``."""

    downsample: nn.Module | None
    expansion = 1

    def __init__(self, in_ch: int, out_ch: int, stride: int, shortcut: Shortcut, batch_norm: bool) -> None:
        super().__init__()
        self.shortcut = shortcut
        self.relu = nn.ReLU(inplace=True)
        self.downsample = make_shortcut(shortcut, in_ch, out_ch, stride, batch_norm)

    def residual_branch(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def last_layers(self) -> tuple[nn.Module, nn.Module]:
        """The last convolution and the last norm of F: zero them and F(x) = 0."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.residual_branch(x)
        if self.downsample is not None:
            out = out + self.downsample(x)
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

    def last_layers(self) -> tuple[nn.Module, nn.Module]:
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

    def last_layers(self) -> tuple[nn.Module, nn.Module]:
        return self.conv3, self.bn3


Block = type[BasicBlock] | type[Bottleneck]


class ResNet(ClassicNet):
    """A stack of stages ``layers`` (blocks per stage) of ``block``, after a stem.

    ``stem="imagenet"``: 7x7/2 conv, 64 filters, 3x3/2 max pool (Table 1).
    ``stem="cifar"``: 3x3 conv, 16 filters, no pooling (section 4.2).
    Each later stage halves height and width and doubles the filters. Global average pooling
    and one fully connected layer end the network.
    """

    def __init__(
        self,
        block: Block,
        layers: list[int],
        widths: list[int],
        num_classes: int = 1000,
        in_chans: int = 3,
        stem: Literal["imagenet", "cifar"] = "imagenet",
        shortcut: Shortcut = "B",
        zero_init_residual: bool = False,
        **block_kwargs: bool,
    ) -> None:
        super().__init__()
        self.num_classes, self.in_chans, self.shortcut = num_classes, in_chans, shortcut
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
        channels = widths[0]
        self.feature_info = []
        for i, (n, width) in enumerate(zip(layers, widths)):
            stride = 1 if i == 0 else 2
            reduction *= stride
            blocks = []
            for j in range(n):
                blocks.append(block(channels, width, stride if j == 0 else 1, shortcut, **block_kwargs))
                channels = width * block.expansion
            self.add_module(f"layer{i + 1}", nn.Sequential(*blocks))
            self.feature_info.append({"module": f"layer{i + 1}", "num_chs": channels, "reduction": reduction})
        self.num_stages = len(layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, num_classes)
        self._init_weights(zero_init_residual)

    def stages(self) -> list[nn.Sequential]:
        return [getattr(self, f"layer{i + 1}") for i in range(self.num_stages)]

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
            for m in self.modules():
                if isinstance(m, ResidualBlock):
                    conv, norm = m.last_layers()
                    nn.init.zeros_((norm if isinstance(norm, nn.BatchNorm2d) else conv).weight)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for stage in self.stages():
            x = stage(x)
        return x

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = torch.flatten(self.avgpool(x), 1)
        return x if pre_logits else self.fc(x)

    def get_classifier(self) -> nn.Module:
        return self.fc

    def reset_classifier(self, num_classes: int) -> None:
        self.num_classes = num_classes
        self.fc = nn.Linear(self.fc.in_features, num_classes)


# ---- ImageNet networks (Table 1) -----------------------------------------------------------

_IMAGENET_DEVIATIONS = (
    "Shortcut option B (projections only where the shape changes), as torchvision; the paper's "
    "Table 2 plain-vs-residual comparison used option A for ResNet-18/34.",
)
_V15 = (
    "Bottleneck blocks stride in the 3x3 convolution (torchvision's 'v1.5'), not in the first 1x1 as "
    "the paper does: kept so that torchvision's weights and outputs match. stride_in_1x1=True restores the paper.",
)

# name -> (block, layers, published params, paper top-1 error (10-crop), source, torchvision acc@1, GMACs)
_IMAGENET: dict[str, tuple[Block, list[int], int, float, str, float | None, float | None]] = {
    "resnet18": (BasicBlock, [2, 2, 2, 2], 11_689_512, 27.88, "Table 2", 69.758, 1.814),
    "resnet34": (BasicBlock, [3, 4, 6, 3], 21_797_672, 24.52, "Table 3 (ResNet-34 B)", 73.314, 3.664),
    "resnet50": (Bottleneck, [3, 4, 6, 3], 25_557_032, 22.85, "Table 3", 76.130, 4.089),
    "resnet101": (Bottleneck, [3, 4, 23, 3], 44_549_160, 21.75, "Table 3", 77.374, 7.801),
    "resnet152": (Bottleneck, [3, 8, 36, 3], 60_192_808, 21.43, "Table 3", 78.312, 11.514),
    "plain18": (BasicBlock, [2, 2, 2, 2], 11_515_688, 27.94, "Table 2", None, None),
    "plain34": (BasicBlock, [3, 4, 6, 3], 21_623_848, 28.54, "Table 2", None, None),
}


def _imagenet_info(name: str) -> ModelInfo:
    block, layers, params, err, table, tv_acc, gmacs = _IMAGENET[name]
    plain = name.startswith("plain")
    depth = sum(layers) * (2 if block is BasicBlock else 3) + 2
    return ModelInfo(
        name=name,
        family="resnet",
        paper=PAPER,
        year=2015,
        input_size=(3, 224, 224),
        num_classes=1000,
        dataset="imagenet",
        depth=depth,
        params=Published(
            params, "counted: the residual twin less its projections" if plain else f"torchvision {name} documentation"
        ),
        error=Published(err, f"He et al. 2015, {table}", "top-1, ILSVRC-2012 val, 10-crop"),
        macs=Published(gmacs * 1e9, f"torchvision {name} documentation (GFLOPS, counted as MACs)") if gmacs else None,
        deviations=(
            ("A plain network: no shortcuts at all (section 4.1).",) if plain else _IMAGENET_DEVIATIONS
        ) + (_V15 if block is Bottleneck else ()),
        torchvision=None if plain else name,
        plain_twin_of=name.replace("plain", "resnet") if plain else None,
    )


def _imagenet_entry(name: str) -> Callable[..., ResNet]:
    block, layers = _IMAGENET[name][:2]
    default: Shortcut = None if name.startswith("plain") else "B"

    def build(
        num_classes: int = 1000,
        in_chans: int = 3,
        shortcut: Shortcut = default,
        zero_init_residual: bool = False,
        **block_kwargs: bool,
    ) -> ResNet:
        return ResNet(block, layers, [64, 128, 256, 512], num_classes, in_chans, "imagenet", shortcut,
                      zero_init_residual, **block_kwargs)

    build.__name__ = build.__qualname__ = name
    kind = "plain twin (no shortcuts)" if default is None else "torchvision-compatible"
    build.__doc__ = (
        f"{name}: stages {layers} of {block.__name__}, {kind}. "
        f"Deviations: ``model_info({name!r}).deviations``."
    )
    return register_model(_imagenet_info(name))(build)


resnet18 = _imagenet_entry("resnet18")
resnet34 = _imagenet_entry("resnet34")
resnet50 = _imagenet_entry("resnet50")
resnet101 = _imagenet_entry("resnet101")
resnet152 = _imagenet_entry("resnet152")
plain18 = _imagenet_entry("plain18")
plain34 = _imagenet_entry("plain34")


# ---- CIFAR-10 networks (section 4.2) -------------------------------------------------------

# depth -> (published params, paper test error % (Table 6))
_CIFAR: dict[int, tuple[int, float]] = {
    20: (269_722, 8.75),
    32: (464_154, 7.51),
    44: (658_586, 7.17),
    56: (853_018, 6.97),
    110: (1_727_962, 6.43),
    1202: (19_421_274, 7.93),
}
_CIFAR_DEVIATIONS = (
    "Option A pads the new channels after the old ones; implementations differ in where the zeros go.",
)


def _cifar_info(depth: int, plain: bool) -> ModelInfo:
    params, err = _CIFAR[depth]
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
        params=Published(params, f"He et al. 2015, Table 6 ({params / 1e6:.2f}M); exact count, option A"),
        error=None if plain else Published(err, "He et al. 2015, Table 6", "test, CIFAR-10"),
        deviations=("A plain network: no shortcuts (section 4.2, Fig. 6 left).",) if plain else _CIFAR_DEVIATIONS,
        plain_twin_of=twin if plain else None,
    )


def _cifar_entry(depth: int, plain: bool) -> Callable[..., ResNet]:
    n = (depth - 2) // 6
    default: Shortcut = None if plain else "A"

    def build(
        num_classes: int = 10, in_chans: int = 3, shortcut: Shortcut = default, zero_init_residual: bool = False
    ) -> ResNet:
        return ResNet(BasicBlock, [n, n, n], [16, 32, 64], num_classes, in_chans, "cifar", shortcut, zero_init_residual)

    info = _cifar_info(depth, plain)
    build.__name__ = build.__qualname__ = info.name
    build.__doc__ = (
        f"{info.name}: the {depth}-layer CIFAR-10 network (6n+2, n={n}), "
        + ("plain (no shortcuts)." if plain else "shortcut option A.")
        + f" Deviations: ``model_info({info.name!r}).deviations``."
    )
    return register_model(info)(build)


resnet20 = _cifar_entry(20, plain=False)
resnet32 = _cifar_entry(32, plain=False)
resnet44 = _cifar_entry(44, plain=False)
resnet56 = _cifar_entry(56, plain=False)
resnet110 = _cifar_entry(110, plain=False)
resnet1202 = _cifar_entry(1202, plain=False)
plain20 = _cifar_entry(20, plain=True)
plain32 = _cifar_entry(32, plain=True)
plain44 = _cifar_entry(44, plain=True)
plain56 = _cifar_entry(56, plain=True)
plain110 = _cifar_entry(110, plain=True)
