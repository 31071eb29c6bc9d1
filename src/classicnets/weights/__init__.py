"""Pretrained weights, and the ONE way weights get into a model: ``load_state(model, source)``.

A source is ``"torchvision"`` (torchvision's ImageNet weights for a model with a torchvision
twin), ``"classicnets"`` (the weights classicnets ships, offline and sha256-checked; see
``manifest.json`` beside this file), a file (``.safetensors``, or a ``.pth``/``.pt`` state dict
read with ``weights_only=True``), or a state dict.

Names and shapes must fit, except in the two places a model declares (timm's ``first_conv`` and
``classifier``): a classifier of another number of classes keeps its fresh initialisation, and an
RGB first convolution is summed over its colour channels for a 1-channel model. Any other
mismatch raises ``CheckpointError`` naming the tensors. What was adapted is reported in one line
(``LoadReport.line``, which ``create_model`` emits as a warning).

Nothing here unpickles anything that could run code.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..data.image import fit_rule
from ..errors import CheckpointError, UserError
from ..models.base import ClassicNet, PretrainedCfg
from ..registry import card
from ..safeload import load_weights_only
from .meta import CheckpointMeta, read_file

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "manifest.json"
SOURCES = ("torchvision", "classicnets")
Source = str | Path | dict[str, torch.Tensor]


@dataclass(frozen=True)
class ShippedWeights:
    """One entry of the manifest."""

    model: str
    file: str
    sha256: str
    dataset: str
    test_error: float  # fraction, measured on the dataset's test split after training
    recipe: str
    command: str
    notes: str = ""
    data: str = ""  # which copy of the dataset it trained and was tested on
    train_images: int | None = None  # images it trained on (e.g. CIFAR-10: 45,000 with a validation split, 50,000 without)
    chosen: str = ""  # which weights of the run: the last of a fixed schedule, or the best on validation
    segments: tuple[dict[str, Any], ...] = ()  # each process that trained it: CPU or GPU, precision, steps, seconds

    @property
    def path(self) -> Path:
        return HERE / self.file


def shipped() -> dict[str, ShippedWeights]:
    """The weights that ship with classicnets, by model name."""
    if not MANIFEST.is_file():
        return {}
    return {k: ShippedWeights(model=k, **v) for k, v in json.loads(MANIFEST.read_text()).items()}


def shipped_path(name: str) -> Path:
    """The verified path of ``name``'s shipped weights (sha256 checked)."""
    entry = shipped().get(name)
    if entry is None:
        have = ", ".join(sorted(shipped())) or "none"
        tv = " or torchvision's (weights='torchvision')" if card(name).torchvision else ""
        raise UserError(f"classicnets ships no pretrained weights for {name!r} (it has: {have}); "
                        f"use a run folder or weights file of your own{tv}")  # fmt: skip
    digest = hashlib.sha256(entry.path.read_bytes()).hexdigest()
    if digest != entry.sha256:
        raise CheckpointError(f"{entry.path}: sha256 {digest[:12]}... does not match the manifest; reinstall classicnets")
    return entry.path


def read_weights_file(path: str | Path) -> tuple[dict[str, torch.Tensor], CheckpointMeta | None]:
    """The tensors of a ``.safetensors`` file (and its classicnets metadata, if any), or of a
    ``.pth``/``.pt`` state dict read with ``weights_only=True`` (a ``{"state_dict": ...}`` or
    ``{"model": ...}`` wrapper is unwrapped)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no weights file at {path}")
    if path.suffix == ".safetensors":
        return read_file(path)
    obj: Any = load_weights_only(path, "PyTorch weights file")
    for key in ("state_dict", "model"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointError(f"{path}: not a state dict of tensors")
    return obj, None


def torchvision_state_dict(name: str) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """torchvision's ImageNet weights for ``name``'s torchvision twin, and their class names
    (downloaded by torchvision into its cache the first time; needs the internet then)."""
    from torchvision.models import get_model_weights

    tv = card(name).torchvision
    if tv is None:
        raise UserError(f"{name} has no torchvision counterpart, so no torchvision weights")
    weights = get_model_weights(tv).DEFAULT
    try:
        state = weights.get_state_dict(progress=True, check_hash=True, weights_only=True)
    except OSError as e:  # URLError is an OSError
        raise UserError(f"could not download torchvision's {tv} weights ({e}); pass weights=PATH to a local file") from None
    return state, tuple(weights.meta.get("categories", ()))


@dataclass(frozen=True)
class LoadReport:
    """What ``load_state`` did: where the weights came from, and which tensors it adapted."""

    model: str
    source: str
    reset: tuple[str, ...]  # classifier tensors left at their fresh initialisation
    summed: tuple[str, ...]  # first-convolution weights summed over RGB for a 1-channel model
    dropped: tuple[str, ...]  # classifier tensors of the file that a model without a classifier has no place for

    def line(self) -> str | None:
        """One line saying what was adapted, or None when every tensor loaded as it was."""
        parts = []
        if self.reset:
            parts.append(f"{_names(self.reset)} kept fresh (another number of classes)")
        if self.dropped:
            parts.append(f"{_names(self.dropped)} not used (the model has no classifier)")
        if self.summed:
            parts.append(f"{_names(self.summed)} summed over RGB for 1 input channel")
        return f"{self.model}: {self.source} weights loaded; " + "; ".join(parts) if parts else None


def _names(keys: tuple[str, ...]) -> str:
    return ", ".join(keys)


def load_state(model: ClassicNet, source: Source) -> LoadReport:
    """Load ``source`` into ``model`` (built by ``create_model``, which records its name in
    ``model.pretrained_cfg``), and update ``model.pretrained_cfg`` from what the weights say about
    their data (mean, std, classes, image size). See the module docstring for the rules."""
    cfg = model.pretrained_cfg
    if cfg is None:
        raise UserError("load_state needs a model built by classicnets.create_model (it has no pretrained_cfg)")
    meta: CheckpointMeta | None = None
    classes: tuple[str, ...] = ()
    if isinstance(source, dict):
        state, label = source, "given"
    elif source == "torchvision":
        state, classes = torchvision_state_dict(cfg.architecture)
        label = "torchvision"
    elif source == "classicnets":
        state, meta = read_weights_file(shipped_path(cfg.architecture))
        label = "classicnets"
    else:
        state, meta = read_weights_file(source)
        label = str(source)
    if meta is not None and meta.model != cfg.architecture:
        raise CheckpointError(f"{label} holds weights for model {meta.model!r}, not {cfg.architecture!r}")
    fitted, report = _fit(model, state, label)
    model.load_state_dict(fitted)
    model.pretrained_cfg = _cfg_after_loading(cfg, model, meta, classes, label, report)
    return report


def _fit(model: ClassicNet, state: dict[str, torch.Tensor], label: str) -> tuple[dict[str, torch.Tensor], LoadReport]:
    """``state`` made to fit ``model`` by the module docstring's rules, and what was adapted."""
    own = model.state_dict()
    head = model.classifier_name + "."
    first = model.first_conv_name + ".weight"
    fitted: dict[str, torch.Tensor] = {}
    reset, summed, dropped, wrong = [], [], [], []
    for key, mine in own.items():
        theirs = state.get(key)
        if theirs is not None and theirs.shape == mine.shape:
            fitted[key] = theirs
        elif key.startswith(head):
            fitted[key] = mine
            reset.append(key)
        elif theirs is not None and key == first and _rgb_to_gray(theirs, mine):
            fitted[key] = theirs.sum(dim=1, keepdim=True)
            summed.append(key)
        elif theirs is None:
            wrong.append(f"{key} missing")
        else:
            wrong.append(f"{key} {tuple(theirs.shape)} for {tuple(mine.shape)}")
    for key in sorted(set(state) - set(own)):
        (dropped if key.startswith(head) else wrong).append(key if key.startswith(head) else f"{key} unexpected")
    name = model.pretrained_cfg.architecture if model.pretrained_cfg else type(model).__name__
    if wrong:
        shown = "; ".join(wrong[:4]) + (f"; and {len(wrong) - 4} more" if len(wrong) > 4 else "")
        raise CheckpointError(f"weights {label!r} do not fit {name} ({len(wrong)} tensor(s)): {shown}")
    return fitted, LoadReport(name, label, tuple(reset), tuple(summed), tuple(dropped))


def _rgb_to_gray(theirs: torch.Tensor, mine: torch.Tensor) -> bool:
    return theirs.ndim == mine.ndim == 4 and theirs.shape[1] == 3 and mine.shape[1] == 1 and (
        theirs.shape[0], *theirs.shape[2:]) == (mine.shape[0], *mine.shape[2:])  # fmt: skip


def _cfg_after_loading(
    cfg: PretrainedCfg,
    model: nn.Module,
    meta: CheckpointMeta | None,
    classes: tuple[str, ...],
    label: str,
    report: LoadReport,
) -> PretrainedCfg:
    """The model's pretrained cfg once weights are in: the data statistics and class names of the
    training run that made them (classicnets files), or torchvision's class names."""
    keep_classes = not report.reset
    if meta is None:
        return cfg.with_(weights=label, classes=classes if keep_classes else ())
    c, h, w = meta.input_size
    return cfg.with_(
        weights=label,
        input_size=(model.in_chans, h, w),  # type: ignore[attr-defined]
        mean=meta.mean if model.in_chans == c else cfg.mean,  # type: ignore[attr-defined]
        std=meta.std if model.in_chans == c else cfg.std,  # type: ignore[attr-defined]
        image_size=tuple(meta.data_size),
        fit=fit_rule(tuple(meta.data_size), (h, w)),
        dataset=meta.dataset,
        classes=meta.classes if keep_classes else (),
    )
