"""What a classicnets weights file says about itself: ``CheckpointMeta``, stored as JSON under the
key "classicnets" in the safetensors header of every file that ``classicnets train`` writes and of
every file that ships with classicnets. It is enough to rebuild the model and feed it data."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from ..errors import CheckpointError
from ..safeload import one_line, read_safetensors

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


def read_file(path: Path, tensors: bool = True) -> tuple[dict[str, Any], CheckpointMeta | None]:
    """The tensors (none with ``tensors=False``) of a safetensors file and its classicnets
    metadata, or None when the file has none (a safetensors file from elsewhere)."""
    found, header = read_safetensors(path, tensors)
    return found, CheckpointMeta.from_json(header[META_KEY], path) if META_KEY in header else None
