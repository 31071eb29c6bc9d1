"""Reading files that may come from anyone, without ever running code from them: safetensors
(tensors and a JSON header), and ``torch.load`` with ``weights_only=True``. Every failure is one
``CheckpointError`` line. Fitting tensors to a model is ``weights.load_state``'s job."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open

from .errors import CheckpointError


def one_line(e: BaseException) -> str:
    """An exception's message on one line, at most 200 characters (its type if it has none)."""
    text = " ".join(str(e).split())
    return text[:200] + ("..." if len(text) > 200 else "") if text else type(e).__name__


def read_safetensors(path: Path, tensors: bool = True) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """The tensors (none with ``tensors=False``) and the header metadata of a safetensors file."""
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            header = f.metadata() or {}
            found = {k: f.get_tensor(k) for k in f.keys()} if tensors else {}  # noqa: SIM118
    except Exception as e:  # safetensors raises its own error types, and OSError
        raise CheckpointError(f"{path}: not a readable safetensors file ({one_line(e)})") from None
    return found, header


def load_weights_only(path: Path, what: str) -> Any:
    """``torch.load(path, weights_only=True)``: a file that needs anything beyond tensors and plain
    containers (and so could run code) is refused; ``what`` names the file in other errors."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise CheckpointError(
            f"refusing {path}: it holds objects other than tensors and plain containers, which could run code"
        ) from None
    except Exception as e:  # a truncated or foreign file: zip and pickle errors of many types
        raise CheckpointError(f"{path}: corrupt or truncated {what} ({one_line(e)})") from None
