"""Where the CLI prints: a rich console that is wide enough for our tables when piped."""

from __future__ import annotations

import sys

from rich.console import Console


def console(file=None) -> Console:  # noqa: ANN001 - a text stream
    """A console on stdout; when it is not a terminal (a pipe, a file, a test), 160 columns
    without colour, so tables are not wrapped into unreadable cells."""
    out = file or sys.stdout
    if out.isatty():
        return Console(file=out)
    return Console(file=out, width=160, color_system=None, soft_wrap=False)
