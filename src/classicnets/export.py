"""Export a model to ONNX, check it with onnxruntime against PyTorch, and write its preprocessing
(the model's ``pretrained_cfg``) into the file's ``metadata_props``, so that an onnxruntime user
needs nothing else: ``session.get_modelmeta().custom_metadata_map`` holds ``mean``, ``std``,
``input_size``, ``image_size``, ``fit``, ``crop_pct``, ``interpolation`` and ``classes`` (JSON).
"""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from .errors import UserError
from .models.base import ClassicNet, PretrainedCfg

METADATA_KEYS = ("architecture", "input_size", "image_size", "fit", "crop_pct", "interpolation", "mean", "std",
                 "classes", "weights", "dataset")  # fmt: skip


@dataclass(frozen=True)
class ExportResult:
    path: Path
    max_abs_diff: float | None  # onnxruntime vs PyTorch on a random batch; None if not checked


def export_onnx(model: ClassicNet, path: str | Path, check: bool = True) -> ExportResult:
    """Write ``model`` (in eval mode) as ONNX with a dynamic batch axis, using PyTorch's
    ``torch.export``-based exporter, with its ``pretrained_cfg`` in the metadata; with ``check``,
    run the file in onnxruntime and return the largest absolute difference from PyTorch's output on
    a random batch of 2."""
    cfg = model.pretrained_cfg
    if cfg is None:
        raise UserError("export needs a model built by classicnets.create_model (it has no pretrained_cfg)")
    try:
        import onnxruntime  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError:
        raise UserError("ONNX export needs onnx, onnxscript and onnxruntime: pip install 'classicnets[export]'") from None
    path = Path(path)
    model = model.eval().cpu()
    x = torch.randn(2, *cfg.input_size)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.redirect_stdout(io.StringIO()):  # the exporter narrates its passes
            torch.onnx.export(
                model, (x,), str(path), dynamo=True, input_names=["input"], output_names=["logits"],
                dynamic_shapes=({0: torch.export.Dim("batch")},), external_data=False,
            )  # fmt: skip
        write_metadata(path, cfg)
    except OSError as e:
        raise UserError(f"cannot write {path}: {e.strerror or e}") from None
    return ExportResult(path, max_abs_diff(model, path, x) if check else None)


def onnx_metadata(cfg: PretrainedCfg) -> dict[str, str]:
    """The preprocessing an ONNX user needs, as strings (sequences as JSON)."""
    values = cfg.to_dict()
    return {key: v if isinstance(v := values[key], str) else json.dumps(v) for key in METADATA_KEYS}


def write_metadata(path: Path, cfg: PretrainedCfg) -> None:
    """Add ``onnx_metadata(cfg)`` to the ``metadata_props`` of the ONNX file at ``path``."""
    import onnx

    proto = onnx.load(str(path))
    for key, value in onnx_metadata(cfg).items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, str(path))


def max_abs_diff(model: nn.Module, path: Path, x: torch.Tensor) -> float:
    """Largest |onnxruntime(x) - model(x)|."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (ours,) = session.run(None, {"input": x.numpy()})
    with torch.no_grad():
        ref = model(x).numpy()
    return float(abs(ours - ref).max())
