"""`classicnets export RUN --format onnx`: a trained model as an ONNX file, checked with onnxruntime."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..export import export_onnx
from ..train import load_run


def cmd_export(args: argparse.Namespace) -> int:
    run = load_run(args.run)
    out = Path(args.output) if args.output else run.path.with_suffix(".onnx")
    result = export_onnx(run.model, out, check=not args.no_check)
    print(f"wrote {result.path} ({result.path.stat().st_size / 1e6:.1f} MB)")
    if result.max_abs_diff is not None:
        print(f"onnxruntime vs PyTorch on a random batch: max |difference| = {result.max_abs_diff:.2e}")
    print("preprocessing (mean, std, sizes, classes) is in the file's metadata_props")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export a trained model (run folder or .safetensors) to ONNX")
    p.add_argument("run", help="a run folder (its best weights) or a .safetensors file")
    p.add_argument("--format", choices=["onnx"], default="onnx")
    p.add_argument("-o", "--output", help="the .onnx file (default: beside the weights)")
    p.add_argument("--no-check", action="store_true", help="skip the onnxruntime comparison")
    p.set_defaults(func=cmd_export)
