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
leaves the previous pair intact.
"""

from __future__ import annotations

import io
import json
import os
import uuid
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save as safetensors_bytes
from torch import nn

from ..errors import CheckpointError
from ..registry import create_model
from ..safeload import load_weights_only, mismatch, one_line, read_safetensors

LAST = "last.safetensors"
BEST = "best.safetensors"
STATE = "last.state.pt"
PENDING = ".last.safetensors.pending"
CONFIG = "config.json"
META_KEY = "classicnets"
FORMAT = 1


@dataclass(frozen=True)
class CheckpointMeta:
    """What a weights file says about itself: enough to rebuild the model and feed it data."""

    model: str
    model_args: dict[str, Any]
    num_classes: int
    in_chans: int
    input_size: tuple[int, int, int]  # C, H, W the model was trained on
    data_size: tuple[int, int]  # H, W of the dataset's own images, before fitting to input_size
    dataset: str
    classes: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    recipe: str | None
    step: int
    epoch: float
    val_error: float | None
    save_id: str
    config: dict[str, Any]
    format: int = FORMAT

    def to_json(self) -> str:
        """The metadata as the JSON stored in the safetensors header."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str, path: Path) -> CheckpointMeta:
        """Parse the header JSON of the file at ``path``; ``CheckpointError`` if malformed."""
        try:
            raw = json.loads(text)
            values = {f.name: raw[f.name] for f in fields(cls)}
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise CheckpointError(f"{path}: malformed classicnets metadata ({one_line(e)})") from None
        if values["format"] != FORMAT:
            raise CheckpointError(f"{path}: checkpoint format {values['format']} is not supported (expected {FORMAT})")
        for name in ("input_size", "data_size", "classes", "mean", "std"):
            values[name] = tuple(values[name])
        return cls(**values)

    def with_step(self, step: int, epoch: float, val_error: float | None) -> CheckpointMeta:
        """A copy for a new save, with a fresh ``save_id``."""
        return replace(self, step=step, epoch=epoch, val_error=val_error, save_id=uuid.uuid4().hex)


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
    found, header = read_safetensors(path, tensors)
    if META_KEY not in header:
        raise CheckpointError(f"{path}: no classicnets metadata; it was not written by classicnets train")
    return found, CheckpointMeta.from_json(header[META_KEY], path)


def load_weights(model: nn.Module, path: str | Path, model_name: str) -> CheckpointMeta:
    """Load the weights at ``path`` into ``model`` (built as ``model_name``), checking they fit.

    A file for another model, another number of classes or input channels, or with missing,
    extra or differently shaped tensors raises ``CheckpointError`` with one line.
    """
    tensors, meta = read_weights(path)
    if meta.model != model_name:
        raise CheckpointError(f"{path} holds weights for model {meta.model!r}, not {model_name!r}")
    for attr in ("num_classes", "in_chans"):
        want = getattr(model, attr, getattr(meta, attr))
        if getattr(meta, attr) != want:
            raise CheckpointError(f"{path} was trained with {attr}={getattr(meta, attr)}, but the model has {want}")
    problem = mismatch(model.state_dict(), tensors)
    if problem:
        raise CheckpointError(f"{path} does not fit {model_name}: {problem}")
    model.load_state_dict(tensors)
    return meta


def weights_path(path: str | Path) -> Path:
    """The weights file a user means: a ``.safetensors`` file as given, or in a run folder
    ``best.safetensors`` (chosen on validation error) if there is one, else ``last.safetensors``;
    or, for the name of a model whose weights ship with classicnets, the shipped file."""
    from ..weights import shipped, shipped_path

    if str(path) in shipped() and not Path(path).exists():
        return shipped_path(str(path))
    path = Path(path)
    if path.is_dir():
        for name in (BEST, LAST):
            if (path / name).is_file():
                return path / name
        raise CheckpointError(f"no {BEST} or {LAST} in {path}; is it a classicnets run folder?")
    return path


def load_run(path: str | Path, device: str | torch.device = "cpu") -> LoadedRun:
    """Rebuild the model saved at ``path`` (a run folder or a ``.safetensors`` file) from the
    file's own metadata, load its weights, and return it in eval mode on ``device``."""
    file = weights_path(path)
    meta = read_meta(file)
    try:
        model = create_model(meta.model, num_classes=meta.num_classes, in_chans=meta.in_chans, **meta.model_args)
    except (TypeError, ValueError) as e:  # metadata the builder rejects: a foreign or edited file
        raise CheckpointError(f"{file}: cannot rebuild {meta.model} from its metadata ({one_line(e)})") from None
    load_weights(model, file, meta.model)
    return LoadedRun(model.to(device).eval(), meta, file)


def save_last(run_dir: Path, model: nn.Module, meta: CheckpointMeta, state: dict[str, Any]) -> None:
    """Write the last weights and the training state as a matching pair (see the module docstring).

    ``state`` must hold only tensors and plain containers; its ``save_id`` is set to ``meta``'s.
    """
    pending = run_dir / PENDING
    try:
        _write_synced(pending, weights_bytes(model, meta), "wb")
    except BaseException:
        pending.unlink(missing_ok=True)  # half written (a full disk): the previous pair is untouched
        raise
    buffer = io.BytesIO()
    torch.save({**state, "save_id": meta.save_id}, buffer)
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


def load_training_state(run_dir: str | Path) -> tuple[dict[str, Any], Path]:
    """The training state of ``run_dir`` and the path of its matching weights.

    Finishes an interrupted ``save_last`` (state written, weights still pending) and deletes the
    pending weights of one cut short before its state was written; raises ``CheckpointError`` if
    the pair does not match otherwise.
    """
    run_dir = Path(run_dir)
    state = read_state(run_dir / STATE)
    pending, last = run_dir / PENDING, run_dir / LAST
    if pending.is_file():
        if _pending_id(pending) == state["save_id"]:
            os.replace(pending, last)
            _fsync_dir(run_dir)
        else:
            pending.unlink()
    if read_meta(last).save_id != state["save_id"]:
        raise CheckpointError(f"{last} does not match {STATE} (different saves); the run cannot be resumed exactly")
    return state, last


def _pending_id(path: Path) -> str:
    """The ``save_id`` of pending weights, or ``""`` if a kill left them incomplete."""
    try:
        return read_meta(path).save_id
    except CheckpointError:
        return ""
