"""Where datasets are looked for, offline, in order, and the message when they are not found.

Roots, in order: the ``data_dir`` argument, ``$CLASSICNETS_DATA`` (several paths joined with ":"
allowed), ``~/.cache/classicnets`` (where ``download=True`` puts data), then the system places
``/usr/share/datasets`` (Debian's ``dataset-fashion-mnist``) and ``/usr/local/share/datasets``.
In each root a dataset is looked for in ``<root>/<alias>``, ``<root>/<alias>/raw`` (torchvision's
layout, e.g. ``MNIST/raw``), and ``<root>`` itself (when the user points at the dataset's folder),
unless the root is named after another dataset (so ``--data-dir .../fashion-mnist`` never serves
as MNIST). Within a root, the formats are tried in the dataset's order of preference.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import DataNotFoundError
from .core import RawData

SYSTEM_ROOTS = (Path("/usr/share/datasets"), Path("/usr/local/share/datasets"))


@dataclass(frozen=True)
class Format:
    """One on-disk layout of a dataset."""

    probe: Callable[[Path], Path | None]  # a candidate folder -> what to read (file or folder), or None
    sources: Callable[[Path], list[Path]]  # what probe found -> the source files (for the cache checksum)
    read: Callable[[Path], RawData]  # what probe found -> the decoded splits


def search_roots(data_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """The ordered places we look for datasets (existing or not)."""
    roots = [Path(data_dir).expanduser()] if data_dir is not None else []
    roots += [Path(p).expanduser() for p in os.environ.get("CLASSICNETS_DATA", "").split(os.pathsep) if p]
    roots += [Path.home() / ".cache" / "classicnets", *SYSTEM_ROOTS]
    return list(dict.fromkeys(roots))


def candidate_dirs(root: Path, aliases: tuple[str, ...], foreign: frozenset[str]) -> list[Path]:
    """The folders of ``root`` that may hold a dataset known by ``aliases``; ``foreign``: other datasets' aliases."""
    dirs = [d for a in aliases for d in (root / a, root / a / "raw")]
    named = root.parent.name if root.name.lower() == "raw" else root.name
    if named.lower() not in foreign:
        dirs.append(root)
    return dirs


def locate(
    roots: list[Path], aliases: tuple[str, ...], foreign: frozenset[str], formats: tuple[Format, ...]
) -> tuple[Format, Path] | None:
    """The first (format, path) found: roots in order, then formats by preference, then candidate folders."""
    for root in roots:
        if not root.is_dir():
            continue
        dirs = [d for d in candidate_dirs(root, aliases, foreign) if d.is_dir()]
        for fmt in formats:
            for d in dirs:
                try:
                    found = fmt.probe(d)
                except OSError:  # an unreadable folder is not a match
                    continue
                if found is not None:
                    return fmt, found
    return None


def not_found(name: str, roots: list[Path], hint: str) -> DataNotFoundError:
    """The one-line error: which dataset, where we looked, how to get it."""
    places = ", ".join(str(r) for r in roots)
    return DataNotFoundError(f"dataset {name!r} not found; looked in {places}; {hint}")
