"""Pretrained weights: torchvision's ImageNet weights, a local file, or the weights classicnets
ships inside the package (``manifest.json`` beside this file: file, sha256, recipe, command and
measured test error of each).

Nothing here unpickles anything that could run code: safetensors files are read as tensors, and
a torchvision ``.pth`` file goes through ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import CheckpointError, UserError
from ..safeload import load_weights_only, mismatch, read_safetensors

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "manifest.json"


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
        raise UserError(f"classicnets ships no pretrained weights for {name!r} (it has: {have}); "
                        "use weights='torchvision' or a file path")  # fmt: skip
    digest = hashlib.sha256(entry.path.read_bytes()).hexdigest()
    if digest != entry.sha256:
        raise CheckpointError(f"{entry.path}: sha256 {digest[:12]}... does not match the manifest; reinstall classicnets")
    return entry.path


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The tensors in a ``.safetensors`` file, or in a ``.pth``/``.pt`` state dict read with
    ``weights_only=True`` (a ``{"state_dict": ...}`` or ``{"model": ...}`` wrapper is unwrapped)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no weights file at {path}")
    if path.suffix == ".safetensors":
        return read_safetensors(path)[0]
    obj: Any = load_weights_only(path, "PyTorch weights file")
    for key in ("state_dict", "model"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointError(f"{path}: not a state dict of tensors")
    return obj


def torchvision_state_dict(name: str) -> dict[str, torch.Tensor]:
    """torchvision's ImageNet weights for ``name``'s torchvision twin (downloaded by torchvision
    into its cache the first time; needs the internet then)."""
    from torchvision.models import get_model_weights

    from ..registry import model_info

    tv = model_info(name).torchvision
    if tv is None:
        raise UserError(f"{name} has no torchvision counterpart, so no torchvision weights")
    weights = get_model_weights(tv).DEFAULT
    try:
        return weights.get_state_dict(progress=True, check_hash=True, weights_only=True)
    except OSError as e:  # URLError is an OSError
        raise UserError(f"could not download torchvision's {tv} weights ({e}); pass weights=PATH to a local file") from None


def adapt(state: dict[str, torch.Tensor], model: nn.Module) -> dict[str, torch.Tensor]:
    """Fit pretrained tensors to a model built with other ``num_classes`` or ``in_chans``, as timm
    does: a classifier of another size is left at its fresh initialisation, and a first
    convolution trained on RGB is summed over its colour channels for 1-channel input."""
    own = model.state_dict()
    out = dict(state)
    for key, value in state.items():
        if key not in own or own[key].shape == value.shape:
            continue
        mine = own[key]
        if value.ndim == 4 and mine.ndim == 4 and mine.shape[1] == 1 and value.shape[1] == 3 and mine.shape[0] == value.shape[0]:
            out[key] = value.sum(dim=1, keepdim=True)
        else:  # the classifier of another number of classes: keep the model's own
            out[key] = mine
    return out


def load_into(model: nn.Module, name: str, weights: str | Path) -> nn.Module:
    """Load ``weights`` ("torchvision", "classicnets" for the shipped ones, or a file path) into
    ``model``, built as ``name``; names and shapes must fit (after ``adapt``)."""
    if weights == "torchvision":
        state = torchvision_state_dict(name)
    elif weights == "classicnets":
        state = read_state_dict(shipped_path(name))
    else:
        state = read_state_dict(weights)
    state = adapt(state, model)
    problem = mismatch(model.state_dict(), state)
    if problem:
        raise CheckpointError(f"weights {str(weights)!r} do not fit {name}: {problem}")
    model.load_state_dict(state)
    return model
