"""The command line: a thin layer over the Python API.

Each command group lives in its own module here and exposes ``register(subparsers)``, which adds
its sub-commands with ``set_defaults(func=handler)``. ``main`` turns every ``UserError`` into one
line on stderr and exit status 2, and prints each warning as one line too.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from importlib import import_module
from typing import TextIO

from ..errors import UserError

# command modules, in the order their commands appear in --help
COMMAND_MODULES = ("demo", "models", "inspect", "train", "experiments", "export", "serve")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="classicnets",
        description="The classic CNN case studies: LeNet-5, AlexNet, VGG, ResNet and its plain twins.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for mod in COMMAND_MODULES:
        import_module(f"{__name__}.{mod}").register(sub)
    return parser


def _one_line_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """``warnings.showwarning`` for the CLI: "classicnets: warning: ...", without a source line."""
    print(f"classicnets: warning: {message}", file=file or sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)  # an option's own parser may refuse its value in one line (a duration)
        with warnings.catch_warnings():
            warnings.showwarning = _one_line_warning
            return int(args.func(args) or 0)
    except UserError as e:
        print(f"classicnets: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("classicnets: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
