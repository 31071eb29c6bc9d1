"""The lecture's identity claim, measured: what a block returns when W[l+2] = 0 and b[l+2] = 0.

    residual block:  a[l+2] = g(W[l+2] a[l+1] + b[l+2] + a[l]) = g(a[l]) = a[l]   (a[l] >= 0)
    plain block:     a[l+2] = g(W[l+2] a[l+1] + b[l+2])        = g(b[l+2]) = 0

So adding a residual block can't hurt: it can always learn to be the identity. When the block
changes the shape (stride 2, more channels), a[l] can't be added as it is: option A subsamples it
and pads zero channels, option B multiplies it by a projection W_s.

``probe_block`` runs one block on one input and returns every term of that equation; both
``classicnets experiment identity`` and the explorer's residual-block page (``classicnets serve``)
show its numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..models.resnet import BasicBlock, Bottleneck, ResidualBlock, Shortcut


@dataclass(frozen=True)
class Probe:
    """One block on one input: a[l], F(a[l]) (= z[l+2] without the shortcut), what the shortcut
    adds (None for a plain block), and a[l+2] = g(F(a[l]) + shortcut(a[l]))."""

    block: ResidualBlock
    a_l: torch.Tensor
    f: torch.Tensor
    shortcut: torch.Tensor | None
    a_next: torch.Tensor

    @property
    def same_shape(self) -> bool:
        return self.a_next.shape == self.a_l.shape

    def max_diff_from_input(self) -> float | None:
        """max |a[l+2] - a[l]|, or None where the shapes differ."""
        return float((self.a_next - self.a_l).abs().max()) if self.same_shape else None

    def returns(self, bias: float) -> str:
        """What the block returned, in the lecture's words."""
        path = self.block.shortcut_path()
        diff = self.max_diff_from_input()
        if diff == 0:
            return "a[l]  (identity)"
        if path == "none":
            return f"g(b) = {max(bias, 0.0):g} everywhere  (a[l] is lost)"
        if self.same_shape:
            return "W_s a[l]  (a projection, not the identity)"
        if path == "zero-pad":
            return "a[l] subsampled, zero-padded channels  (no W_s needed)"
        return "g(W_s a[l])  (W_s projects a[l] to the new shape)"


def make_block(kind: str, shortcut: Shortcut, changes_shape: bool, batch_norm: bool = True) -> ResidualBlock:
    """A small block as the experiment uses it: basic 16 -> 16 channels (16 -> 32 at stride 2 when
    ``changes_shape``), or a bottleneck 64 -> 16 -> 64, in eval mode."""
    if kind == "basic":
        planes = 32 if changes_shape else 16
        block: ResidualBlock = BasicBlock(16, planes, 2 if changes_shape else 1, shortcut, batch_norm)
    elif kind == "bottleneck":
        block = Bottleneck(64, 16, 2 if changes_shape else 1, shortcut, batch_norm)
    else:
        raise ValueError(f"block must be 'basic' or 'bottleneck', not {kind!r}")
    return block.eval()


@torch.no_grad()
def probe_block(block: ResidualBlock, a_l: torch.Tensor) -> Probe:
    """Run ``block`` on ``a_l`` and keep every term of a[l+2] = g(F(a[l]) + shortcut(a[l]))."""
    f = block.residual_branch(a_l)
    added = block.shortcut(a_l) if block.residual else None
    return Probe(block, a_l, f, added, block(a_l))


@dataclass(frozen=True)
class IdentityRow:
    block: str  # "basic" or "bottleneck"
    shortcut: str  # "A", "B", "C" or "none (plain)"
    shape: str  # "same" or "16->32, stride 2"
    last_bias: float  # b[l+2] (the last BN's beta, or the last conv's bias without BN)
    max_diff_from_input: float | None  # max |a[l+2] - a[l]|, None where shapes differ
    max_abs_output: float
    returns: str  # the verdict in words


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
        block = make_block(kind, shortcut, changes, batch_norm)
        block.zero_init_last(bias)
        in_ch = block.conv1.in_channels
        probe = probe_block(block, torch.rand(4, in_ch, 16, 16) * 3)
        rows.append(
            IdentityRow(
                block=kind,
                shortcut=shortcut or "none (plain)",
                shape=f"{in_ch}->{probe.a_next.shape[1]}, stride 2" if changes else "same",
                last_bias=bias,
                max_diff_from_input=probe.max_diff_from_input(),
                max_abs_output=float(probe.a_next.abs().max()),
                returns=probe.returns(bias),
            )
        )
    return rows
