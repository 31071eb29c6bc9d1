"""Export a trained model to ONNX, and check it with onnxruntime against PyTorch."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from .errors import UserError


@dataclass(frozen=True)
class ExportResult:
    path: Path
    max_abs_diff: float | None  # onnxruntime vs PyTorch on a random batch; None if not checked


def export_onnx(model: nn.Module, input_size: tuple[int, int, int], path: str | Path, check: bool = True) -> ExportResult:
    """Write ``model`` (in eval mode) as ONNX with a dynamic batch axis, using PyTorch's
    ``torch.export``-based exporter; with ``check``, run the file in onnxruntime and return the
    largest absolute difference from PyTorch's output on a random batch of 2."""
    try:
        import onnxruntime  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError:
        raise UserError("ONNX export needs onnx, onnxscript and onnxruntime: pip install 'classicnets[export]'") from None
    path = Path(path)
    model = model.eval().cpu()
    x = torch.randn(2, *input_size)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.redirect_stdout(io.StringIO()):  # the exporter narrates its passes
            torch.onnx.export(
                model, (x,), str(path), dynamo=True, input_names=["input"], output_names=["logits"],
                dynamic_shapes=({0: torch.export.Dim("batch")},), external_data=False,
            )  # fmt: skip
    except OSError as e:
        raise UserError(f"cannot write {path}: {e.strerror or e}") from None
    return ExportResult(path, max_abs_diff(model, path, x) if check else None)


def max_abs_diff(model: nn.Module, path: Path, x: torch.Tensor) -> float:
    """Largest |onnxruntime(x) - model(x)|."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (ours,) = session.run(None, {"input": x.numpy()})
    with torch.no_grad():
        ref = model(x).numpy()
    return float(abs(ours - ref).max())
