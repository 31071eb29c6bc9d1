"""Checkpoint files: self-describing safetensors weights and a tensors-only training state.

A run folder holds::

    last.safetensors   weights at the latest save; metadata key "classicnets" = CheckpointMeta JSON
    best.safetensors   weights at the lowest validation error so far (same metadata)
    last.state.pt      training state: optimizer, schedule, RNG states, counters, the config;
                       only tensors and plain containers, read with torch.load(weights_only=True)
    config.json        the run's configuration, for people
    metrics.jsonl      one JSON object per logging point

Every file is written atomically (a temporary file in the same folder, flushed and fsynced, then
``os.replace``). The last weights and state form a pair: both carry the same ``save_id``. The
new weights are written to ``.last.safetensors.pending`` first, then the state is replaced, then
the pending weights are renamed over ``last.safetensors``. A kill at any point leaves either the
old pair or a state whose weights wait complete in the pending file; ``load_training_state``
finishes that rename (and deletes pending weights whose state was never written), so a resumed run
always starts from a matching pair. A failed write (a full disk) removes its partial file and
leaves the previous pair intact. The state also records the sha256 of its weights, so that weights
whose bytes changed afterwards (a damaged copy, a merge that replaced the file) are refused by
``load_training_state`` rather than trained on.
"""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save as safetensors_bytes
from torch import nn

from ..errors import CheckpointError, UserError
from ..factory import create_model, list_models
from ..models.base import ClassicNet
from ..safeload import load_weights_only
from ..weights import load_state, shipped_path
from ..weights.meta import FORMAT, META_KEY, CheckpointMeta, read_file

LAST = "last.safetensors"
BEST = "best.safetensors"
STATE = "last.state.pt"
PENDING = ".last.safetensors.pending"
CONFIG = "config.json"
RESTORE = "restore the run folder from a copy (a committed one: git checkout -- FOLDER), or train again with a new --out"


@dataclass(frozen=True)
class LoadedRun:
    """A model rebuilt from a weights file, in eval mode, with the file's metadata."""

    model: nn.Module
    meta: CheckpointMeta
    path: Path


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a part."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        _write_synced(tmp, data, "xb")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _write_synced(path: Path, data: bytes, mode: str) -> None:
    """Write ``data`` and flush it to disk before returning."""
    with open(path, mode) as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def weights_bytes(model: nn.Module, meta: CheckpointMeta) -> bytes:
    """The safetensors encoding of ``model``'s state dict, with ``meta`` in the header."""
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    return safetensors_bytes(tensors, metadata={META_KEY: meta.to_json()})


def save_weights(path: Path, model: nn.Module, meta: CheckpointMeta) -> None:
    """Write ``model``'s weights to ``path`` atomically."""
    atomic_write(path, weights_bytes(model, meta))


def read_weights(path: str | Path) -> tuple[dict[str, torch.Tensor], CheckpointMeta]:
    """The tensors and metadata of a classicnets weights file; ``CheckpointError`` if unusable."""
    return _read(Path(path), tensors=True)


def read_meta(path: str | Path) -> CheckpointMeta:
    """Only the metadata of a classicnets weights file (reads the header, not the tensors)."""
    return _read(Path(path), tensors=False)[1]


def _read(path: Path, tensors: bool) -> tuple[dict[str, torch.Tensor], CheckpointMeta]:
    if not path.is_file():
        raise CheckpointError(f"no checkpoint file at {path}")
    found, meta = read_file(path, tensors)
    if meta is None:
        raise CheckpointError(f"{path}: no classicnets metadata; it was not written by classicnets train")
    return found, meta


def load_weights(model: ClassicNet, path: str | Path, model_name: str) -> CheckpointMeta:
    """Load the run weights at ``path`` into ``model`` (built as ``model_name`` by ``create_model``)
    with ``weights.load_state``, after checking that the file was trained as this very model:
    the same name, number of classes and input channels (a run resumes or loads only as itself)."""
    meta = read_meta(path)
    if meta.model != model_name:
        raise CheckpointError(f"{path} holds weights for model {meta.model!r}, not {model_name!r}")
    for attr in ("num_classes", "in_chans"):
        if getattr(meta, attr) != getattr(model, attr):
            raise CheckpointError(f"{path} was trained with {attr}={getattr(meta, attr)}, but the model has {getattr(model, attr)}")
    load_state(model, Path(path))
    return meta


def weights_path(path: str | Path) -> Path:
    """The weights file a user means: a ``.safetensors`` file as given, or in a run folder
    ``best.safetensors`` (chosen on validation error) if there is one, else ``last.safetensors``;
    or, for the name of a model (that is not also a path), its shipped weights."""
    if not Path(path).exists() and str(path) in list_models():
        return shipped_path(str(path))
    path = Path(path)
    if path.is_dir():
        for name in (BEST, LAST):
            if (path / name).is_file():
                return path / name
        raise CheckpointError(f"no {BEST} or {LAST} in {path}; is it a classicnets run folder?")
    return path


def load_run(path: str | Path, device: str | torch.device = "cpu") -> LoadedRun:
    """Rebuild the model saved at ``path`` (a run folder, a ``.safetensors`` file, or the name of a
    model with shipped weights) from the file's own metadata, load its weights, and return it in
    eval mode on ``device``. Its ``pretrained_cfg`` says how to feed it."""
    file = weights_path(path)
    meta = read_meta(file)
    try:
        model = create_model(meta.model, num_classes=meta.num_classes, in_chans=meta.in_chans, **meta.model_args)
    except UserError as e:  # metadata the builder rejects: a foreign or edited file
        raise CheckpointError(f"{file}: cannot rebuild {meta.model} from its metadata ({e})") from None
    load_weights(model, file, meta.model)  # type: ignore[arg-type]
    return LoadedRun(model.to(device).eval(), meta, file)


def save_last(run_dir: Path, model: nn.Module, meta: CheckpointMeta, state: dict[str, Any]) -> None:
    """Write the last weights and the training state as a matching pair (see the module docstring).

    ``state`` must hold only tensors and plain containers; its ``save_id`` is set to ``meta``'s.
    """
    pending = run_dir / PENDING
    data = weights_bytes(model, meta)
    try:
        _write_synced(pending, data, "wb")
    except BaseException:
        pending.unlink(missing_ok=True)  # half written (a full disk): the previous pair is untouched
        raise
    buffer = io.BytesIO()
    torch.save({**state, "save_id": meta.save_id, "weights_sha256": hashlib.sha256(data).hexdigest()}, buffer)
    atomic_write(run_dir / STATE, buffer.getvalue())
    os.replace(pending, run_dir / LAST)
    _fsync_dir(run_dir)


def read_state(path: Path) -> dict[str, Any]:
    """A training-state file, loaded with ``weights_only=True``: anything that would need to
    unpickle other objects (and could run code) is refused with ``CheckpointError``."""
    if not path.is_file():
        raise CheckpointError(f"no training state at {path}; is it a classicnets run folder?")
    state = load_weights_only(path, "training state")
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a classicnets training state (format {FORMAT})")
    return state


def read_run_state(run_dir: str | Path) -> dict[str, Any]:
    """The training state of the run folder ``run_dir``; a missing, damaged or unsafe one is one
    ``CheckpointError`` line that names the file and says what to do."""
    run_dir = Path(run_dir)
    if not (run_dir / STATE).is_file() and (run_dir / LAST).is_file():
        raise CheckpointError(f"{run_dir / STATE} is missing (the optimizer's momentum, the schedule and the counters): "
                              f"the run cannot continue exactly; {RESTORE}")  # fmt: skip
    try:
        return read_state(run_dir / STATE)
    except CheckpointError as e:
        if not run_dir.is_dir() or not any(run_dir.iterdir()):
            raise  # not a run folder at all: "is it a classicnets run folder?" says enough
        raise CheckpointError(f"{e}; {RESTORE}") from None


def load_training_state(run_dir: str | Path) -> tuple[dict[str, Any], Path]:
    """The training state of ``run_dir`` and the path of its matching weights.

    Finishes an interrupted ``save_last`` (state written, weights still pending) and deletes the
    pending weights of one cut short before its state was written; raises ``CheckpointError`` if
    the pair does not match otherwise.
    """
    run_dir = Path(run_dir)
    state = read_run_state(run_dir)
    pending, last = run_dir / PENDING, run_dir / LAST
    if pending.is_file():
        if _pending_id(pending) == state["save_id"]:
            os.replace(pending, last)
            _fsync_dir(run_dir)
        else:
            pending.unlink()
    if not last.is_file():
        raise CheckpointError(f"{last} is missing (the weights of step {state['step']:,}); {RESTORE}")
    if read_meta(last).save_id != state["save_id"]:
        raise CheckpointError(f"{last} does not match {STATE} (different saves); the run cannot be resumed exactly")
    expected = state.get("weights_sha256")  # recorded since 2026-12-07; older states have none
    if expected is not None and hashlib.sha256(last.read_bytes()).hexdigest() != expected:
        raise CheckpointError(f"{last}: its bytes changed since it was saved (the sha256 recorded in {STATE} differs); "
                              f"{RESTORE}")  # fmt: skip
    return state, last


def _pending_id(path: Path) -> str:
    """The ``save_id`` of pending weights, or ``""`` if a kill left them incomplete."""
    try:
        return read_meta(path).save_id
    except CheckpointError:
        return ""
