"""Why residual networks train, measured on the real models of this library and a real batch.

Three measurements, each a pure function of a model and a batch, and ``WhyLab``, which runs them
on a fixed sample of real CIFAR-10 test images and caches the answers (``classicnets experiment
why`` prints them; the explorer's "why it works" page shows them):

- ``gradient_norms``: at initialisation, the norm of the loss gradient with respect to each weight
  layer's weights (convolutions and the classifier, in forward order), for one forward and
  backward pass in training mode, as the first step of training sees it;
- ``residual_ratios``: in a trained ResNet, for each residual block, ||F(x)|| / ||shortcut(x)||
  (the size of what the block adds against what passes by it; for most blocks shortcut(x) = x);
- ``drop_blocks``: the accuracy on the batch with each block removed in turn, the signal passed
  around it: a residual block then returns relu(shortcut(x)) (for most blocks x itself); a plain
  block, which has no shortcut, returns x itself, or option A's subsample-and-pad of x where the
  shape changes, so both families lose exactly F (Veit et al. 2016, "Residual networks behave like
  ensembles of relatively shallow networks", deleted layers this way from ResNets and from VGG).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import statistics
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..data import ImageData, load_dataset, preprocess
from ..errors import DataError, DataNotFoundError
from ..factory import create_model
from ..models.resnet import PadShortcut, ResidualBlock, path_of
from ..weights import shipped


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


def bypass(block: ResidualBlock) -> nn.Module | None:
    """What carries a[l] past ``block`` once F is gone: its own shortcut's downsample for a
    residual block; for a plain block, which has none, option A's subsample-and-pad where the shape
    changes. None where a[l] passes as it is."""
    if block.residual:
        return block.downsample
    convs = [m for m in block.modules() if isinstance(m, nn.Conv2d)]
    in_ch, out_ch = convs[0].in_channels, block.last_layers()[0].out_channels
    stride = math.prod(c.stride[0] for c in convs)
    return PadShortcut(in_ch, out_ch, stride) if stride != 1 or in_ch != out_ch else None


def bypass_path(block: ResidualBlock) -> str:
    """``bypass`` in words: "identity", "zero-pad" (option A) or "projection" (W_s)."""
    return path_of(bypass(block))


@contextlib.contextmanager
def removed(block: ResidualBlock) -> Iterator[None]:
    """Within the context, ``block`` is removed from its network: it returns relu(bypass(x)), which
    is x itself for most blocks (x comes out of a ReLU), a residual or a plain one alike."""
    around = bypass(block)

    def without_f(x: torch.Tensor) -> torch.Tensor:
        return F.relu(x if around is None else around(x))

    block.forward = without_f  # type: ignore[method-assign]
    try:
        yield
    finally:
        del block.forward


@dataclass(frozen=True)
class Removal:
    block: str
    shortcut: str  # what carries the signal past the removed block: "identity", "zero-pad", "projection"
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
                out.append(Removal(name, bypass_path(block), float((model(x).argmax(1) == y).float().mean())))
    finally:
        model.train(was_training)
    return full, out


# ---- the words: every sentence from the numbers it stands beside --------------------------------


def as_written(x: float) -> str:
    """A number as a person writes it: 3.1, 36, 1,400 (two significant figures from 100 up)."""
    if x >= 100:
        return f"{float(f'{x:.2g}'):,.0f}"
    if x >= 10:
        return f"{x:.0f}"
    return f"{x:.2g}" if x < 1 else f"{x:.1f}"


def _pretty(name: str) -> str:
    family = "plain" if name.startswith("plain") else "ResNet"
    return f"{family}-{name.removeprefix('plain').removeprefix('resnet')}"


def gradient_sentences(models: dict[str, list[dict[str, Any]]]) -> list[str]:
    """What the gradients at initialisation show, from ``gradients()["models"]`` (per network, each
    weight layer's norm in forward order, the classifier last: it is left out, on another scale)."""
    out = []
    spans = {}
    for name, rows in models.items():
        convs = [r["norm"] for r in rows[:-1]]
        first_to_last, spans[name] = convs[0] / convs[-1], max(convs) / min(convs)
        how = (f"{as_written(first_to_last)} times larger at the first convolution than at the last" if first_to_last >= 1
               else f"{as_written(1 / first_to_last)} times smaller at the first convolution than at the last")  # fmt: skip
        out.append(f"{_pretty(name)}: the gradient is {how}.")
    deep = max(int(n.removeprefix("plain").removeprefix("resnet")) for n in models)
    plain, res = f"plain{deep}", f"resnet{deep}"
    if plain in models and res in models:
        convs = [r["norm"] for r in models[plain][:-1]]
        out.append(
            (f"{_pretty(plain)}'s gradient does not vanish towards the input: it grows, so its first layers get steps "
             "far larger than its last ones, and one learning rate cannot suit both." if convs[0] > convs[-1] else
             f"{_pretty(plain)}'s gradient shrinks towards the input: its first layers learn slowest.")
            + (f" Across the convolutions it spans a factor of {as_written(spans[plain])}; {_pretty(res)}'s spans "
               f"{as_written(spans[res])}: the shortcuts keep it in a narrower band." if spans[res] < spans[plain] else
               f" Across the convolutions it spans a factor of {as_written(spans[plain])}, and {_pretty(res)}'s "
               f"{as_written(spans[res])}: here the shortcuts do not narrow the band.")
        )  # fmt: skip
    return out


def ratio_sentences(model: str, blocks: list[dict[str, Any]]) -> list[str]:
    """What ||F(x)|| / ||shortcut(x)|| shows, from ``ratios()["blocks"]``: whether the blocks are
    small corrections to their input (the lecture's picture) or not."""
    values = sorted(b["ratio"] for b in blocks)
    median = statistics.median(values)
    small = sum(v < 1 for v in values)
    said = (f"In {small} of {_pretty(model)}'s {len(values)} blocks F(x) is smaller than what the shortcut passes on; "
            f"the ratio goes from {values[0]:.2f} to {values[-1]:.2f}, its median {median:.2f}.")  # fmt: skip
    if median < 0.5:
        verdict = "Most blocks add a small correction to their input, as the lecture pictures them."
    elif median < 1:
        verdict = "Most blocks add less than they pass on, but not a small correction: about half as much or more."
    else:
        verdict = ("Most blocks change their input by more than its own size: they are not small corrections here. "
                   "What the shortcut guarantees is that the input still reaches the next block, whatever F learned.")  # fmt: skip
    return [said, verdict]


def removal_sentences(removals: dict[str, Any], test_errors: dict[str, float]) -> list[str]:
    """What removing one block at a time shows, from ``removals()`` and the shipped networks' test
    errors on all 10,000 test images (the accuracies here are on a sample, and say so)."""
    n = removals["images"]
    out = []
    for family in ("resnet", "plain"):
        d = removals.get(family)
        if d is None:
            continue
        whole, rows = d["accuracy"], d["blocks"]
        full = test_errors.get(d["model"])
        on_all = f" (on all 10,000: {1 - full:.1%})" if full is not None else ""
        kept = sum(b["accuracy"] >= whole - 0.1 for b in rows)
        best = max(rows, key=lambda b: b["accuracy"])
        worst = min(rows, key=lambda b: b["accuracy"])
        head = f"{_pretty(d['model'])}: {whole:.1%} of these {n} test images{on_all}."
        if family == "resnet":
            out.append(f"{head} Without any one block it stays within 10 points for {kept} of its {len(rows)} blocks; "
                       f"the worst removal ({worst['block']}) leaves {worst['accuracy']:.1%}.")  # fmt: skip
        else:
            cut = best["accuracy"] < 0.2  # near chance (10 classes): nothing gets through
            out.append(f"{head} Without any one block, the best it keeps is {best['accuracy']:.1%}"
                       + (": a plain block is the only path, and removing it cuts the network." if cut else
                          f" ({best['block']}): some of its blocks can go without cutting it.") )  # fmt: skip
    if removals.get("plain") is None and removals.get("plain_note"):
        out.append(f"Plain network: {removals['plain_note']}.")
    return out


# ---- the runner: the measurements on real CIFAR-10 test images, cached --------------------------

DEPTHS = (20, 56)
GRADIENT_IMAGES, RATIO_IMAGES, REMOVAL_IMAGES = 128, 256, 500
SEED = 0


def trained(family: str) -> str | None:
    """The deepest shipped CIFAR-10 network of ``family`` ("resnet" or "plain"): ResNet-56 and
    plain-56 once they ship, ResNet-20 until then; None when none ships."""
    names = [n for n, w in shipped().items() if n.startswith(family) and n.removeprefix(family).isdigit()
             and w.dataset == "cifar10"]  # fmt: skip
    return max(names, key=lambda n: int(n.removeprefix(family)), default=None)


class WhyLab:
    """The measurements over a fixed sample of the CIFAR-10 test images found in ``data_dir`` (the
    usual places otherwise), each computed once and cached:

    - gradients: plain-N and ResNet-N at initialisation (seed 0), N = 20 and 56, on 128 images;
    - ratios: the deepest shipped ResNet on 256 images;
    - removals: the deepest shipped ResNet and plain network on 500 images; where no plain network
      ships, the answer says so instead of showing nothing.

    The samples are stratified (the same images every time). With ``cache_dir`` each answer is also
    kept on disk between runs, under a name that changes with everything it depends on: the
    measurement, this module's code, torch's version, the shipped weights' sha256 and the test
    images' bytes. Nothing else is ever read from there (JSON only)."""

    MEASUREMENTS = ("gradients", "ratios", "removals")

    def __init__(self, data_dir: str | None, cache_dir: str | Path | None = None) -> None:
        self.data_dir = data_dir
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        self._lock = threading.Lock()
        self._cache: dict[str, dict[str, Any]] = {}

    def ready(self, key: str) -> dict[str, Any] | None:
        """The measurement ``key`` if it is computed (in memory), without waiting; else None."""
        return self._cache.get(key)

    def warm(self) -> None:
        """Compute (or read from the disk cache) every measurement, one after another, in the
        background of a server; a failure (no dataset, no weights) is left for the request that
        asks to report."""
        for key in self.MEASUREMENTS:
            try:
                getattr(self, key)()
            except Exception:  # noqa: BLE001 - no data, no weights: the request that asks reports it in one line
                return

    def _disk(self, key: str) -> Path | None:
        if self.cache_dir is None:
            return None
        facts = {
            "measurement": key,
            "code": hashlib.sha256(Path(__file__).read_bytes()).hexdigest(),
            "torch": torch.__version__,
            "weights": {n: shipped()[n].sha256 for n in (trained("resnet"), trained("plain")) if n is not None},
            "images": hashlib.sha256(self.data.test.images.numpy().tobytes()).hexdigest(),
        }
        digest = hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:24]
        return self.cache_dir / f"why-{key}-{digest}.json"

    @cached_property
    def data(self) -> ImageData:
        try:
            return load_dataset("cifar10", self.data_dir, val_size=0)
        except DataNotFoundError:
            raise DataError(
                "these measurements need CIFAR-10, which was not found: start the explorer with "
                "--data-dir PATH where PATH holds cifar10/"
            ) from None

    def batch(self, count: int, mean: tuple[float, ...], std: tuple[float, ...]) -> tuple[torch.Tensor, torch.Tensor]:
        sample = self.data.test.subset(count, SEED)
        return preprocess(sample.images, mean, std), sample.labels

    def _cached(self, key: str, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        with self._lock:  # one computation at a time: each takes seconds of the machine
            if key not in self._cache:
                path = self._disk(key)
                value = _read_json(path) if path is not None else None
                if value is None:
                    value = compute()
                    if path is not None:
                        _write_json(path, value)
                self._cache[key] = value
            return self._cache[key]

    def gradients(self) -> dict[str, Any]:
        return self._cached("gradients", self._gradients)

    def _gradients(self) -> dict[str, Any]:
        x, y = self.batch(GRADIENT_IMAGES, self.data.mean, self.data.std)
        curves = {}
        for depth in DEPTHS:
            for kind in ("plain", "resnet"):
                torch.manual_seed(SEED)
                model = create_model(f"{kind}{depth}")
                curves[f"{kind}{depth}"] = [asdict(n) for n in gradient_norms(model, x, y)]
        return {"images": GRADIENT_IMAGES, "dataset": "cifar10 test", "seed": SEED, "models": curves,
                "sentences": gradient_sentences(curves)}  # fmt: skip

    def _trained(self, family: str) -> tuple[str, torch.nn.Module]:
        name = trained(family)
        if name is None:
            raise DataError(f"no trained CIFAR-10 {family} network ships with this copy of classicnets")
        return name, create_model(name, pretrained=True).eval()

    @staticmethod
    def _weights(name: str) -> str:
        """Which weights answered, in words a reader can check against the manifest."""
        w = shipped()[name]
        return f"the shipped {name} ({w.recipe}, {100 * w.test_error:.2f}% error on all 10,000 test images)"

    def ratios(self) -> dict[str, Any]:
        return self._cached("ratios", self._ratios)

    def _ratios(self) -> dict[str, Any]:
        name, model = self._trained("resnet")
        x, _ = self.batch(RATIO_IMAGES, model.pretrained_cfg.mean, model.pretrained_cfg.std)
        rows = [asdict(r) for r in residual_ratios(model, x)]
        return {"model": name, "weights": self._weights(name), "images": RATIO_IMAGES, "blocks": rows,
                "sentences": ratio_sentences(name, rows)}  # fmt: skip

    def removals(self) -> dict[str, Any]:
        return self._cached("removals", self._removals)

    def _removals(self) -> dict[str, Any]:
        plain = trained("plain")
        found = {
            "images": REMOVAL_IMAGES,
            "resnet": self._removals_of("resnet"),
            "plain": None if plain is None else self._removals_of("plain"),
            "plain_note": None if plain is not None else (
                "no trained plain network ships yet (the degradation sweep trains its plain networks for "
                "4,600 iterations only, to compare depths, and keeps their curves, not their weights)"),
        }  # fmt: skip
        found["test_errors"] = {n: w.test_error for n, w in shipped().items()}  # all 10,000 test images
        return {**found, "sentences": removal_sentences(found, found["test_errors"])}

    def _removals_of(self, family: str) -> dict[str, Any]:
        name, model = self._trained(family)
        x, y = self.batch(REMOVAL_IMAGES, model.pretrained_cfg.mean, model.pretrained_cfg.std)
        full, rows = drop_blocks(model, x, y)
        return {"model": name, "weights": self._weights(name), "accuracy": full,
                "blocks": [asdict(r) for r in rows]}  # fmt: skip


def _read_json(path: Path) -> dict[str, Any] | None:
    """A cached answer, or None when there is none (or it cannot be read: it is computed again)."""
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) and value else None


def _write_json(path: Path, value: dict[str, Any]) -> None:
    """Write ``value`` to ``path`` through a temporary file (readers see all of it or none); a cache
    that cannot be written (a read-only home) is only a cache: the answer stays in memory."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(value))
        os.replace(tmp, path)
    except OSError:
        pass
