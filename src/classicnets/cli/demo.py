"""`classicnets demo`: the tour of the case studies, and LeNet-5 trained on real digits."""

from __future__ import annotations

import argparse

from ..demo import run_demo
from .output import console


def cmd_demo(args: argparse.Namespace) -> int:
    run_demo(args.out, data_dir=args.data_dir, epochs=args.epochs, console=console())
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="tour the case studies and train LeNet-5 (about 2 minutes, offline)")
    p.add_argument("--out", default="runs/demo", help="output folder (default runs/demo)")
    p.add_argument("--data-dir", help="where to look for MNIST (default: the usual places)")
    p.add_argument("--epochs", type=int, default=4, help="LeNet-5 training epochs (default 4)")
    p.set_defaults(func=cmd_demo)
