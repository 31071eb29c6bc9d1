"""LeNet-5 (LeCun, Bottou, Bengio & Haffner 1998), as the paper builds it, and a modern variant.

Y. LeCun, L. Bottou, Y. Bengio, P. Haffner. "Gradient-Based Learning Applied to Document
Recognition." Proc. IEEE 86(11), 1998, section II-B and Table I.

=====  =========================================  ============  ==========
layer  what (paper, section II-B)                 output        parameters
=====  =========================================  ============  ==========
input  32x32 image                                1 x 32 x 32            0
C1     6 convolutions 5x5                         6 x 28 x 28          156
S2     2x2 sum * coefficient + bias, squash       6 x 14 x 14           12
C3     16 convolutions 5x5, Table I connections   16 x 10 x 10       1,516
S4     2x2 sum * coefficient + bias, squash       16 x 5 x 5            32
C5     120 convolutions 5x5                       120 x 1 x 1       48,120
F6     84 units, squash                           84                10,164
out    10 Euclidean RBF units, fixed +-1 codes    10                     0
=====  =========================================  ============  ==========
total trainable                                                     60,000

The squashing function is f(a) = A tanh(S a) with A = 1.7159 and S = 2/3 (Appendix A).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from ..registry import ModelInfo, Published, register_model
from .base import ClassicNet, FeatureInfo, linear_or_identity

PAPER = (
    "LeCun, Bottou, Bengio, Haffner. Gradient-Based Learning Applied to Document Recognition. "
    "Proc. IEEE 86(11), 1998"
)

# Table I: which S2 maps (rows 0-5) feed each C3 map (columns 0-15).
C3_TABLE: tuple[tuple[int, ...], ...] = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),  # 6 maps see 3 neighbours
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),  # 4 neighbours
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),  # 4 non-neighbours
    (0, 1, 2, 3, 4, 5),  # all six
)

# The RBF codes: "stylized images of the character classes drawn on a 7x12 bitmap" (section II-B).
# The paper prints them only as a figure (Fig. 3); these are our drawing of the digits 0-9.
DIGIT_BITMAPS: tuple[str, ...] = (
    "..###..|.#...#.|#.....#|#.....#|#.....#|#.....#|#.....#|#.....#|#.....#|#.....#|.#...#.|..###..",
    "...#...|..##...|.#.#...|...#...|...#...|...#...|...#...|...#...|...#...|...#...|...#...|.#####.",
    "..###..|.#...#.|#.....#|......#|.....#.|....#..|...#...|..#....|.#.....|#......|#......|#######",
    ".####..|#....#.|......#|......#|.....#.|..###..|.....#.|......#|......#|......#|#....#.|.####..",
    ".....#.|....##.|...#.#.|..#..#.|.#...#.|#....#.|#######|.....#.|.....#.|.....#.|.....#.|.....#.",
    "#######|#......|#......|#......|#####..|.....#.|......#|......#|......#|......#|#....#.|.####..",
    "..####.|.#.....|#......|#......|#.###..|##...#.|#.....#|#.....#|#.....#|#.....#|.#...#.|..###..",
    "#######|......#|.....#.|.....#.|....#..|....#..|...#...|...#...|..#....|..#....|..#....|..#....",
    "..###..|.#...#.|#.....#|#.....#|.#...#.|..###..|.#...#.|#.....#|#.....#|#.....#|.#...#.|..###..",
    "..###..|.#...#.|#.....#|#.....#|#.....#|#.....#|.#...##|..###.#|......#|......#|.....#.|####...",
)


def squash(a: torch.Tensor) -> torch.Tensor:
    """The paper's squashing function f(a) = 1.7159 tanh(2a/3)."""
    return 1.7159 * torch.tanh(a * (2.0 / 3.0))


class Squash(nn.Module):
    """``squash`` as a module, so it shows in summaries and diagrams."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return squash(x)


class Subsampling(nn.Module):
    """S2/S4: each map sums its 2x2 inputs, times a trainable coefficient, plus a trainable bias.

    The squashing function follows as a separate layer. Two parameters per map.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        summed = F.avg_pool2d(x, 2) * 4.0
        return summed * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


class SparseConv2d(nn.Module):
    """C3: a 5x5 convolution in which output map j sees only the input maps ``table[j]``.

    Only the connected kernels are parameters (60 kernels of 5x5 + 16 biases = 1,516), so the
    count of trainable parameters is the paper's. The full kernel is assembled at each forward.
    """

    def __init__(self, table: tuple[tuple[int, ...], ...], in_maps: int, kernel_size: int) -> None:
        super().__init__()
        out_idx = [j for j, ins in enumerate(table) for _ in ins]
        in_idx = [i for ins in table for i in ins]
        self.in_maps, self.out_maps, self.kernel_size = in_maps, len(table), kernel_size
        self.register_buffer("out_idx", torch.tensor(out_idx), persistent=False)
        self.register_buffer("in_idx", torch.tensor(in_idx), persistent=False)
        self.weight = nn.Parameter(torch.empty(len(in_idx), kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(len(table)))

    def full_weight(self) -> torch.Tensor:
        k = self.kernel_size
        w = self.weight.new_zeros(self.out_maps, self.in_maps, k, k)
        return w.index_put((self.out_idx, self.in_idx), self.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.full_weight(), self.bias)

    def extra_repr(self) -> str:
        return f"{self.in_maps}, {self.out_maps}, kernel_size={self.kernel_size}, connections={len(self.in_idx)}"


class EuclideanRBF(nn.Module):
    """The output layer: y_i = sum_j (x_j - w_ij)^2 with fixed codes w_i in {-1, +1}^84.

    Returns -y, so that a larger value means a better match and ``argmax`` and cross-entropy
    apply as for logits. The codes are a buffer, not parameters: the paper fixes them.
    """

    def __init__(self, in_features: int, num_classes: int) -> None:
        super().__init__()
        self.register_buffer("codes", rbf_codes(num_classes, in_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return -(x.unsqueeze(1) - self.codes).square().sum(dim=2)


def rbf_codes(num_classes: int, length: int = 84) -> torch.Tensor:
    """The +-1 code of each class: the 7x12 digit bitmaps for 10 classes with 84 inputs,
    otherwise fixed pseudo-random +-1 codes (seeded, the same on every machine)."""
    if num_classes == 10 and length == 84:
        bits = [[1.0 if ch == "#" else -1.0 for ch in d.replace("|", "")] for d in DIGIT_BITMAPS]
        return torch.tensor(bits)
    g = torch.Generator().manual_seed(1998)
    return torch.randint(0, 2, (num_classes, length), generator=g).float() * 2 - 1


Activation = Literal["squash", "tanh", "relu"]
Pooling = Literal["trainable", "avg", "max"]
ACTIVATIONS: dict[str, type[nn.Module]] = {"squash": Squash, "tanh": nn.Tanh, "relu": nn.ReLU}


def make_pool(pooling: str, channels: int) -> nn.Module:
    """S2/S4: the paper's trainable subsampling, or plain 2x2 average or max pooling."""
    if pooling == "trainable":
        return Subsampling(channels)
    if pooling == "avg":
        return nn.AvgPool2d(2)
    if pooling == "max":
        return nn.MaxPool2d(2)
    raise ValueError(f"pooling must be 'trainable', 'avg' or 'max', not {pooling!r}")


class LeNet5(ClassicNet):
    """LeNet-5. The paper's network is ``activation="squash", pooling="trainable",
    c3="table", output="rbf"``; the textbook one is ``"relu", "max", "full", "linear"``.
    See the module docstring for the layer table.

    The paper's C1, C3 and C5 feed S2, S4 and F6 directly and the squashing follows the
    subsampling; with ``avg``/``max`` pooling the activation follows each convolution instead,
    as the textbook versions do.
    """

    first_conv_name = "features.c1"
    classifier_name = "head"
    num_features = 120
    head_hidden_size = 84

    def __init__(
        self,
        num_classes: int = 10,
        in_chans: int = 1,
        activation: Activation = "squash",
        pooling: Pooling = "trainable",
        c3: Literal["table", "full"] = "table",
        output: Literal["rbf", "linear"] = "rbf",
    ) -> None:
        super().__init__()
        if output not in ("rbf", "linear") or c3 not in ("table", "full") or activation not in ACTIVATIONS:
            raise ValueError(f"bad LeNet5 option: activation={activation!r}, c3={c3!r}, output={output!r}")
        self.num_classes, self.in_chans, self.output = num_classes, in_chans, output
        self.paper_init = activation == "squash"
        act = ACTIVATIONS[activation]
        f = self.features = nn.Sequential()
        f.add_module("c1", nn.Conv2d(in_chans, 6, 5))
        if pooling == "trainable":  # the paper: C1 -> S2 -> squash
            f.add_module("s2", make_pool(pooling, 6))
            f.add_module("act2", act())
        else:  # textbook: C1 -> activation -> pool
            f.add_module("act1", act())
            f.add_module("s2", make_pool(pooling, 6))
        f.add_module("c3", SparseConv2d(C3_TABLE, 6, 5) if c3 == "table" else nn.Conv2d(6, 16, 5))
        if pooling == "trainable":
            f.add_module("s4", make_pool(pooling, 16))
            f.add_module("act4", act())
        else:
            f.add_module("act3", act())
            f.add_module("s4", make_pool(pooling, 16))
        f.add_module("c5", nn.Conv2d(16, 120, 5))
        f.add_module("act5", act())
        self.f6 = nn.Linear(120, 84)
        self.act6 = act()
        self.head = self._new_classifier(num_classes)
        s2, s4 = ("features.act2", "features.act4") if pooling == "trainable" else ("features.s2", "features.s4")
        self.feature_info = FeatureInfo([
            {"module": s2, "num_chs": 6, "reduction": 2},
            {"module": s4, "num_chs": 16, "reduction": 4},
            {"module": "features.act5", "num_chs": 120, "reduction": 32},
        ])
        self._init_weights()

    def _new_classifier(self, num_classes: int) -> nn.Module:
        if self.output == "rbf" and num_classes > 0:
            return EuclideanRBF(84, num_classes)
        return linear_or_identity(84, num_classes)

    def _init_weights(self) -> None:
        if not self.paper_init:  # PyTorch's default init, as the textbook versions use
            return
        # Appendix C: weights uniform in (-2.4/F, 2.4/F), F the fan-in of the unit.
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                fan_in = m.weight[0].numel()
                nn.init.uniform_(m.weight, -2.4 / fan_in, 2.4 / fan_in)
                nn.init.uniform_(m.bias, -2.4 / fan_in, 2.4 / fan_in)
            elif isinstance(m, SparseConv2d):
                for j, ins in enumerate(C3_TABLE):
                    fan_in = len(ins) * m.kernel_size**2
                    rows = (m.out_idx == j).nonzero().flatten()
                    with torch.no_grad():
                        m.weight[rows] = torch.empty_like(m.weight[rows]).uniform_(-2.4 / fan_in, 2.4 / fan_in)
                    nn.init.uniform_(m.bias[j : j + 1], -2.4 / fan_in, 2.4 / fan_in)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = self.act6(self.f6(torch.flatten(x, 1)))
        return x if pre_logits else self.head(x)


_LENET_DEVIATIONS = (
    "The output returns -y_i (negative squared distances) so it reads as logits; training uses "
    "cross-entropy on it, which is the paper's MAP criterion (eq. 9) without its constant j.",
    "The paper draws the 7x12 RBF codes as a figure only; ours are our own drawing of the digits "
    "(DIGIT_BITMAPS), and seeded random +-1 codes for other class counts.",
    "Trained with SGD rather than the paper's stochastic diagonal Levenberg-Marquardt.",
    "Inputs are normalised with the dataset's mean and std, not mapped to [-0.1, 1.175].",
)


@register_model(
    ModelInfo(
        name="lenet5",
        family="lenet",
        paper=PAPER,
        year=1998,
        input_size=(1, 32, 32),
        num_classes=10,
        dataset="mnist",
        depth=5,
        params=Published(60_000, "LeCun et al. 1998, section II-B (60,000 trainable parameters)"),
        error=Published(0.95, "LeCun et al. 1998, section III-C (LeNet-5, no distortions)", "test, MNIST"),
        deviations=_LENET_DEVIATIONS,
    )
)
def lenet5(num_classes: int = 10, in_chans: int = 1, output: Literal["rbf", "linear"] = "rbf") -> LeNet5:
    """LeNet-5 as in LeCun et al. 1998: trainable subsampling, Table I's sparse C3, the squashing
    function, and Euclidean RBF outputs (``output="linear"`` for a linear layer instead).

    Deviations from the paper: see ``model_info("lenet5").deviations``.
    """
    return LeNet5(num_classes, in_chans, "squash", "trainable", "table", output)


@register_model(
    ModelInfo(
        name="lenet5_modern",
        family="lenet",
        paper=PAPER + " (modernised as in today's textbooks)",
        year=1998,
        input_size=(1, 32, 32),
        num_classes=10,
        dataset="mnist",
        depth=5,
        params=Published(61_706, "counted: LeNet-5 with a full C3 and a 10-way linear output"),
        deviations=(
            "ReLU instead of the squashing function (AlexNet's choice).",
            "2x2 max pooling instead of trainable subsampling.",
            "C3 connects to all six S2 maps instead of Table I's 60 of 96 pairs.",
            "A linear output layer instead of the Euclidean RBF units.",
        ),
    )
)
def lenet5_modern(
    num_classes: int = 10, in_chans: int = 1, activation: Activation = "relu", pooling: Pooling = "max"
) -> LeNet5:
    """The textbook LeNet-5: ReLU, max pooling, full C3, linear output; 61,706 parameters.
    ``activation`` and ``pooling`` let the LeNet ablation swap ReLU for tanh and max for average
    pooling. Deviations: ``model_info("lenet5_modern").deviations``."""
    return LeNet5(num_classes, in_chans, activation, pooling, "full", "linear")

