"""The lecture's identity claim, measured: what a block returns when W[l+2] = 0 and b[l+2] = 0.

    residual block:  a[l+2] = g(W[l+2] a[l+1] + b[l+2] + a[l]) = g(a[l]) = a[l]   (a[l] >= 0)
    plain block:     a[l+2] = g(W[l+2] a[l+1] + b[l+2])        = g(b[l+2]) = 0

So adding a residual block can't hurt: it can always learn to be the identity. When the block
changes the shape (stride 2, more channels), a[l] can't be added as it is: option A subsamples it
and pads zero channels, option B multiplies it by a projection W_s.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from ..models.resnet import BasicBlock, Bottleneck, ResidualBlock, Shortcut


@dataclass(frozen=True)
class IdentityRow:
    block: str  # "basic" or "bottleneck"
    shortcut: str  # "A", "B", "C" or "none (plain)"
    shape: str  # "same" or "16->32, stride 2"
    last_bias: float  # b[l+2] (the last BN's beta, or the last conv's bias without BN)
    max_diff_from_input: float | None  # max |a[l+2] - a[l]|, None where shapes differ
    max_abs_output: float
    returns: str  # the verdict in words


def zero_last_layer(block: ResidualBlock, bias: float = 0.0) -> None:
    """Set F's last W to zero (the last BN's gamma, or the last conv's weight without BN) and its
    b to ``bias``."""
    conv, norm = block.last_layers()
    target = norm if isinstance(norm, nn.BatchNorm2d) else conv
    with torch.no_grad():
        target.weight.zero_()
        if target.bias is not None:
            target.bias.fill_(bias)


def _verdict(out: torch.Tensor, x: torch.Tensor, shortcut: Shortcut, bias: float) -> tuple[float | None, str]:
    if out.shape == x.shape:
        diff = float((out - x).abs().max())
        if diff == 0:
            return diff, "a[l]  (identity)"
        if shortcut is None:
            return diff, f"g(b) = {max(bias, 0.0):g} everywhere  (a[l] is lost)"
        return diff, "W_s a[l]  (a projection, not the identity)"
    if shortcut == "A":
        return None, "a[l] subsampled, zero-padded channels  (no W_s needed)"
    if shortcut is None:
        return None, f"g(b) = {max(bias, 0.0):g} everywhere  (a[l] is lost)"
    return None, "g(W_s a[l])  (W_s projects a[l] to the new shape)"


def run_identity(seed: int = 0, batch_norm: bool = True) -> list[IdentityRow]:
    """Every block kind x shortcut x shape, with the last layer's W zeroed and b = 0 (and, for
    the plain block, b = 0.5 to show g(b)). Inputs are non-negative, as after a ReLU."""
    torch.manual_seed(seed)
    rows: list[IdentityRow] = []
    cases: list[tuple[str, Shortcut, bool, float]] = [
        *[("basic", s, False, 0.0) for s in ("A", "B", "C", None)],
        ("basic", None, False, 0.5),
        *[("basic", s, True, 0.0) for s in ("A", "B", None)],
        *[("bottleneck", s, False, 0.0) for s in ("B", None)],
    ]
    for kind, shortcut, changes, bias in cases:
        if kind == "basic":
            in_ch, planes = 16, (32 if changes else 16)
            block: ResidualBlock = BasicBlock(in_ch, planes, 2 if changes else 1, shortcut, batch_norm)
        else:
            in_ch, planes = 64, 16
            block = Bottleneck(in_ch, planes, 1, shortcut, batch_norm)
        block.eval()
        zero_last_layer(block, bias)
        x = torch.rand(4, in_ch, 16, 16) * 3
        with torch.no_grad():
            out = block(x)
        diff, words = _verdict(out, x, shortcut, bias)
        rows.append(
            IdentityRow(
                block=kind,
                shortcut=shortcut or "none (plain)",
                shape=f"{in_ch}->{out.shape[1]}, stride 2" if changes else "same",
                last_bias=bias,
                max_diff_from_input=diff,
                max_abs_output=float(out.abs().max()),
                returns=words,
            )
        )
    return rows

