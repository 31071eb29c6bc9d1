"""Why residual networks train, measured on the real models of this library and a real batch.

Three measurements, each a pure function of a model and a batch (the explorer caches them):

- ``gradient_norms``: at initialisation, the norm of the loss gradient with respect to each weight
  layer's weights (convolutions and the classifier, in forward order), for one forward and
  backward pass in training mode, as the first step of training sees it;
- ``residual_ratios``: in a trained ResNet, for each residual block, ||F(x)|| / ||shortcut(x)||
  (the size of what the block adds against what passes by it; for most blocks shortcut(x) = x);
- ``drop_blocks``: the accuracy on the batch with each block removed in turn, its shortcut kept:
  a residual block then returns relu(shortcut(x)) (for most blocks x itself), a plain block
  (no shortcut) returns zeros, as its path is gone (Veit et al. 2016, "Residual networks behave
  like ensembles of relatively shallow networks", did this on ImageNet and CIFAR-10).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..models.resnet import ResidualBlock


@dataclass(frozen=True)
class LayerNorm:
    layer: str  # the module's name, e.g. "layer2.1.conv2"
    norm: float  # ||dL/dW||


def weight_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The convolutions and linear layers of ``model``, in the order they were created (which is
    the forward order for every classicnets model)."""
    return [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Conv2d | nn.Linear)]


def gradient_norms(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> list[LayerNorm]:
    """||dL/dW|| for each weight layer after one forward and backward pass of the cross-entropy on
    ``(x, y)``, in training mode (batch statistics, as in the first step of training). The model's
    weights are not changed; its gradients are left set."""
    was_training = model.training
    model.train()
    model.zero_grad(set_to_none=True)
    F.cross_entropy(model(x), y).backward()
    model.train(was_training)
    return [LayerNorm(n, float(m.weight.grad.norm())) for n, m in weight_layers(model)]


def blocks(model: nn.Module) -> list[tuple[str, ResidualBlock]]:
    """The residual (or plain) blocks of ``model``, in forward order, with their names."""
    return [(n, m) for n, m in model.named_modules() if isinstance(m, ResidualBlock)]


@dataclass(frozen=True)
class BlockRatio:
    block: str
    shortcut: str  # "identity", "zero-pad", "projection"
    ratio: float  # ||F(x)|| / ||shortcut(x)|| over the batch


@torch.no_grad()
def residual_ratios(model: nn.Module, x: torch.Tensor) -> list[BlockRatio]:
    """For each residual block of ``model`` (in eval mode), ||F(x)|| / ||shortcut(x)|| on the block's
    real input during a forward pass of ``x``: how big a change the block adds to what it passes on."""
    found: dict[str, BlockRatio] = {}
    hooks = []
    for name, block in blocks(model):
        if not block.residual:
            continue

        def hook(module: ResidualBlock, args: tuple[torch.Tensor, ...], name: str = name) -> None:
            inp = args[0]
            found[name] = BlockRatio(name, module.shortcut_path(),
                                     float(module.residual_branch(inp).norm() / module.shortcut(inp).norm()))  # fmt: skip

        hooks.append(block.register_forward_pre_hook(hook))
    was_training = model.training
    model.eval()
    try:
        model(x)
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return list(found.values())


@contextlib.contextmanager
def removed(block: ResidualBlock) -> Iterator[None]:
    """Within the context, ``block`` is removed from its network: it returns relu(shortcut(x)) (a
    plain block, which has no shortcut, returns zeros)."""

    def without_f(x: torch.Tensor) -> torch.Tensor:
        return F.relu(block.shortcut(x)) if block.residual else torch.zeros_like(block.residual_branch(x))

    block.forward = without_f  # type: ignore[method-assign]
    try:
        yield
    finally:
        del block.forward


@dataclass(frozen=True)
class Removal:
    block: str
    shortcut: str
    accuracy: float  # on the batch, with this block removed


@torch.no_grad()
def drop_blocks(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, list[Removal]]:
    """The accuracy of ``model`` (eval mode) on ``(x, y)``, whole and with each block removed in turn."""
    was_training = model.training
    model.eval()
    try:
        full = float((model(x).argmax(1) == y).float().mean())
        out = []
        for name, block in blocks(model):
            with removed(block):
                out.append(Removal(name, block.shortcut_path(), float((model(x).argmax(1) == y).float().mean())))
    finally:
        model.train(was_training)
    return full, out
