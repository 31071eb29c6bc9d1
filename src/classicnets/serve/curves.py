"""The degradation page's data: the published results, and the run folders given with ``--runs``.

Published results are the ``degradation-*.json`` files of ``docs/data/`` (each written by
``classicnets experiment degradation``), found beside the package in a source checkout. A folder
given with ``--runs`` may be a run folder (``metrics.jsonl``), an experiment folder
(``results.json`` and ``runs/<model>/``), or a folder holding several of either.

Nothing outside those folders is ever read: a run is named by the index of its ``--runs`` folder
and a path inside it, and the path must resolve (symlinks followed) to a place inside that folder.
Files are read as JSON only.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..experiments.degradation import curve_from_metrics, late_mean
from ..train.metrics import read_metrics

PUBLISHED = Path(__file__).resolve().parents[3] / "docs" / "data"
MAX_BYTES = 50_000_000  # a metrics or results file larger than this is not read
MAX_RUNS = 500  # per --runs folder
SEARCH_DEPTH = 4  # how deep below a --runs folder run folders are looked for


class OutsideRuns(UserError):
    """A path that leaves the ``--runs`` folders, or names no run in them."""


def published() -> dict[str, Any]:
    """The published results by name: the degradation experiments on a budget
    (``degradation-quick``, ...) and at full length (``full-length``, the four networks trained to
    the end of one recipe, when they have been); {} when this is not a source checkout."""
    if not PUBLISHED.is_dir():
        return {}
    files = [*sorted(PUBLISHED.glob("degradation-*.json")), *sorted(PUBLISHED.glob("full-length*.json"))]
    return {p.stem: _json(p) for p in files}


def _json(path: Path) -> Any:
    if path.stat().st_size > MAX_BYTES:
        raise UserError(f"{path.name} is larger than {MAX_BYTES // 1_000_000} MB")
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"{path.name} is not JSON ({e.__class__.__name__})") from None


@dataclass(frozen=True)
class RunFolders:
    """The ``--runs`` folders, and safe access to the runs below them."""

    roots: tuple[Path, ...]

    @classmethod
    def of(cls, folders: list[str | Path]) -> RunFolders:
        roots = []
        for f in folders:
            path = Path(f).expanduser()
            if not path.is_dir():
                raise UserError(f"--runs {f}: no such folder")
            roots.append(path.resolve())
        return cls(tuple(roots))

    def listing(self) -> list[dict[str, Any]]:
        """Every run folder (with ``metrics.jsonl``) and experiment folder (with ``results.json``)
        below the roots: its id, its name, and which experiment it belongs to."""
        found = []
        for i, root in enumerate(self.roots):
            count = 0
            for folder, subdirs, files in os.walk(root):
                here = Path(folder)
                depth = len(here.relative_to(root).parts)
                if depth >= SEARCH_DEPTH:
                    subdirs[:] = []
                subdirs.sort()
                rel = here.relative_to(root).as_posix()
                experiment = "results.json" in files or (here / "runs").is_dir()
                if "metrics.jsonl" in files or experiment:
                    kind = "run" if "metrics.jsonl" in files else "experiment"
                    found.append({"id": f"{i}/{rel}" if rel != "." else f"{i}/", "kind": kind,
                                  "name": f"{root.name}/{rel}" if rel != "." else root.name})  # fmt: skip
                    count += 1
                if count >= MAX_RUNS:
                    break
        return found

    def resolve(self, run_id: str) -> Path:
        """The folder that ``run_id`` ("<root index>/<path>") names, checked to be inside its root."""
        index, _, rel = run_id.partition("/")
        if not (index.isascii() and index.isdigit()) or int(index) >= len(self.roots):
            raise OutsideRuns(f"no --runs folder number {index!r}")
        root = self.roots[int(index)]
        if "\x00" in rel:
            raise OutsideRuns("the path contains a NUL byte")
        try:
            target = (root / rel).resolve(strict=True)
        except (OSError, RuntimeError):  # missing, a symlink loop, a name too long
            raise OutsideRuns(f"no run at {rel!r} in {root.name}") from None
        if not target.is_relative_to(root) or not target.is_dir():
            raise OutsideRuns(f"{rel!r} is not a folder inside the --runs folder {root.name}")
        return target

    def curves(self, run_id: str) -> dict[str, Any]:
        """A run folder's records (training, validation and test error by step), or an experiment
        folder's ``results.json`` (None while it runs) with the records of each of its runs."""
        folder = self.resolve(run_id)
        if (folder / "metrics.jsonl").is_file():
            return {"kind": "run", "id": run_id, "records": self._records(folder / "metrics.jsonl"),
                    "mtime": (folder / "metrics.jsonl").stat().st_mtime}  # fmt: skip
        results = folder / "results.json"
        runs = _first_seed_runs(folder)
        if results.is_file() or runs:
            files = [results] if results.is_file() else []
            records = {r.name: self._records(r / "metrics.jsonl") for r in runs if r.resolve().is_relative_to(folder)}
            return {
                "kind": "experiment",
                "id": run_id,
                "results": _json(results) if results.is_file() else None,
                "runs": records,
                "finals": _finals_so_far(records),
                "mtime": max(f.stat().st_mtime for f in [*files, *(r / "metrics.jsonl" for r in runs)]),
            }
        raise OutsideRuns(f"{folder.name} holds no metrics.jsonl, results.json or runs/")

    def _records(self, path: Path) -> list[dict[str, Any]]:
        if path.stat().st_size > MAX_BYTES:
            raise UserError(f"{path.name} is larger than {MAX_BYTES // 1_000_000} MB")
        try:
            records = read_metrics(path, strict=False)  # a running run may be mid-line
        except UnicodeDecodeError:
            raise UserError(f"{path} is not a text file") from None
        keep = ("step", "epoch", "train_error", "val_error", "test_error", "lr", "wall_time")
        return [{k: r.get(k) for k in keep} for r in records if isinstance(r, dict)]


def _finals_so_far(records: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, float | None]]:
    """Each run's final training error so far, as the experiment's report will measure it (the mean
    over the last quarter of its iterations, ``experiments.degradation.late_mean``)."""
    finals = {}
    for name, recs in records.items():
        numeric = [r for r in recs if isinstance(r.get("train_error"), int | float) and isinstance(r.get("step"), int | float)]
        curve = curve_from_metrics(name, numeric)
        finals[name] = {"train_error": late_mean(curve, curve.steps[-1]) if curve.steps else None}
    return finals


def _first_seed_runs(experiment: Path) -> list[Path]:
    """An experiment's run folders (``runs/<model>`` or, with seeds, ``runs/seed<N>/<model>``):
    those of its first seed, which the page draws."""
    flat = sorted(p.parent for p in experiment.glob("runs/*/metrics.jsonl"))
    if flat:
        return flat
    seeded = sorted(experiment.glob("runs/seed*/*/metrics.jsonl"))
    if not seeded:
        return []
    first = min(p.parent.parent for p in seeded)
    return sorted(p.parent for p in seeded if p.parent.parent == first)
