"""The residual block page: a[l+2] = g(z[l+2] + a[l]) on a small block, with its numbers.

The block and its input are ``experiment identity``'s (``make_block``, ``probe_block``): a basic
block on 16 channels of 8 x 8, or 16 -> 32 channels at stride 2 when the shape changes. The page
shows one channel of each term; the verdict and the largest difference cover all of them.
"""

from __future__ import annotations

from typing import Any

import torch

from ..errors import ConfigError
from ..experiments.identity import make_block, probe_block
from ..models.resnet import Shortcut

SHORTCUTS: dict[str, Shortcut] = {"identity": "A", "A": "A", "B": "B", "C": "C", "none": None}
SIDE = 8  # the input's height and width
SHOWN = 4  # the corner of each map the page prints as numbers
SEED = 0


def _patch(t: torch.Tensor | None, channel: int = 0) -> list[list[float]] | None:
    """The top-left ``SHOWN`` x ``SHOWN`` numbers of one channel (of the first image)."""
    if t is None or channel >= t.shape[1]:
        return None
    return [[round(v, 3) for v in row] for row in t[0, channel, :SHOWN, :SHOWN].tolist()]


def block_view(shortcut: str, zero_last: bool, changes_shape: bool) -> dict[str, Any]:
    """Every term of the block's equation, from the running block.

    ``shortcut``: "identity" (and "A"), "B", "C" or "none" (the plain block). ``zero_last`` sets
    W[l+2] = 0 and b[l+2] = 0 (``zero_init_last``). ``changes_shape`` makes the block go from 16
    to 32 channels at stride 2, where a[l] cannot be added as it is.
    """
    if shortcut not in SHORTCUTS:
        raise ConfigError(f"shortcut must be one of {', '.join(SHORTCUTS)}, not {shortcut!r}")
    kind = SHORTCUTS[shortcut]
    note = None
    if shortcut == "identity" and changes_shape:  # option A's subsample-and-pad stands in for it
        note = ("a[l] has 16 channels of 8x8 and a[l+2] 32 of 4x4: they cannot be added as they are. "
                "Option A subsamples a[l] and pads zero channels; B and C multiply it by W_s.")
    torch.manual_seed(SEED)
    block = make_block("basic", kind, changes_shape)
    with torch.no_grad():  # random BN statistics and affine terms, so that F(a[l]) is not trivial
        for m in block.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.3, 0.3)
    if zero_last:
        block.zero_init_last()
    a_l = torch.rand(1, 16, SIDE, SIDE, generator=torch.Generator().manual_seed(SEED)) * 2
    probe = probe_block(block, a_l)
    diff = probe.max_diff_from_input()
    downsample = block.downsample
    return {
        "shortcut": shortcut,
        "kind": kind,
        "path": block.shortcut_path(),
        "zero_last": zero_last,
        "changes_shape": changes_shape,
        "in_shape": list(a_l.shape[1:]),
        "out_shape": list(probe.a_next.shape[1:]),
        "needs_ws": block.shortcut_path() == "projection",
        "ws": None if downsample is None or block.shortcut_path() != "projection" else
              f"W_s: 1x1 convolution {a_l.shape[1]} -> {probe.a_next.shape[1]} channels, stride {2 if changes_shape else 1}",
        "a_l": _patch(a_l),
        "z": _patch(probe.f),
        "shortcut_term": _patch(probe.shortcut),
        "a_next": _patch(probe.a_next),
        "max_diff_from_input": diff,
        "max_abs_z": float(probe.f.abs().max()),
        "returns": probe.returns(0.0),
        "identity": diff == 0,
        "note": note,
    }  # fmt: skip
