"""What a run reports: running training averages, the ``metrics.jsonl`` log, a progress bar,
and optionally TensorBoard.

``metrics.jsonl`` holds one JSON object per logging point (every ``eval_every`` steps and at each
epoch's end) with the keys of ``Record``: ``step``, ``epoch`` (fractional), ``train_loss`` and
``train_error`` (averages over the steps since the previous record), ``val_loss``, ``val_error``,
``test_error`` (reported only, never used to choose anything), ``lr``, ``images_per_s`` and
``wall_time`` (seconds of the whole run so far). Errors are fractions in [0, 1].
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from ..errors import ConfigError
from .checkpoint import atomic_write


@dataclass(frozen=True)
class Record:
    """One line of ``metrics.jsonl``."""

    step: int
    epoch: float
    train_loss: float
    train_error: float
    val_loss: float | None
    val_error: float | None
    test_error: float | None
    lr: float
    images_per_s: float
    wall_time: float

    def summary(self) -> str:
        """The record as one short human-readable line."""
        parts = [
            f"step {self.step}",
            f"epoch {self.epoch:.2f}",
            f"loss {self.train_loss:.4f}",
            f"train err {self.train_error:.2%}",
        ]
        parts += [
            f"{name} err {v:.2%}" for name, v in (("val", self.val_error), ("test", self.test_error)) if v is not None
        ]
        parts += [f"lr {self.lr:.3g}", f"{self.images_per_s:,.0f} img/s"]
        return "  ".join(parts)


class Window:
    """Sums over the training steps since the last logging point.

    Each step adds its summed loss and count of wrong predictions as a tensor on the training
    device, without reading it back: the host waits for the device only when ``sums`` is called,
    at a logging point. ``images`` and the clock are host-side, so ``rate`` never waits.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Start a new window now."""
        self.steps: list[torch.Tensor] = []  # one [loss_sum, wrong] per step
        self.images = 0
        self.started = time.perf_counter()

    def add(self, loss_sum: torch.Tensor, wrong: torch.Tensor, images: int) -> None:
        """Count one step: its summed loss and wrong predictions (device tensors) and its images."""
        self.steps.append(torch.stack([loss_sum.detach().float(), wrong.detach().float()]))
        self.images += images

    def state(self, per_step: torch.Tensor) -> dict[str, Any]:
        """What a checkpoint between logging points keeps of the window (``per_step``: its steps,
        summed over the processes): tensors and plain numbers only."""
        return {"per_step": per_step.detach().float().cpu(), "images": self.images,
                "seconds": time.perf_counter() - self.started}  # fmt: skip

    def restore(self, state: dict[str, Any], device: torch.device, keep_sums: bool = True) -> None:
        """Continue the window a checkpoint between logging points saved. ``keep_sums`` off (DDP
        ranks other than 0) restores zeros of the same shape: the sums were saved already added up
        over the processes, and the next logging point adds them up again."""
        rows = state["per_step"].to(device)
        self.steps = list(rows if keep_sums else torch.zeros_like(rows))
        self.images = int(state["images"])
        self.started = time.perf_counter() - float(state["seconds"])

    def per_step(self) -> torch.Tensor:
        """The window's steps as a ``steps x 2`` tensor (loss sum, wrong) on the device."""
        return torch.stack(self.steps) if self.steps else torch.zeros(0, 2)

    def rate(self) -> float:
        """Images per second since the window started (no device sync)."""
        return self.images / max(time.perf_counter() - self.started, 1e-9)

    @staticmethod
    def averages(totals: tuple[float, float], images: int) -> tuple[float, float]:
        """(mean loss, error) from the window's summed loss and wrong predictions."""
        n = max(images, 1)
        return totals[0] / n, totals[1] / n


class MetricsLog:
    """Appends records to ``metrics.jsonl`` (fsynced per line) and mirrors them to TensorBoard."""

    def __init__(self, path: Path, tensorboard: bool) -> None:
        self.path = path
        self.writer = _tensorboard_writer(path.parent / "tensorboard") if tensorboard else None

    def truncate_after(self, step: int) -> None:
        """Drop records past ``step`` (written after the checkpoint a run resumes from) and torn lines."""
        if not self.path.is_file():
            return
        lines = self.path.read_text().splitlines()
        kept = [line for line in lines if _step_of(line) <= step]
        if len(kept) != len(lines):
            atomic_write(self.path, "".join(line + "\n" for line in kept).encode())

    def write(self, record: Record) -> None:
        """Append ``record`` as one line, flushed to disk."""
        with open(self.path, "a") as f:
            f.write(json.dumps(asdict(record)) + "\n")
            f.flush()
            os.fsync(f.fileno())
        if self.writer is not None:
            for key, value in asdict(record).items():
                if key not in ("step", "epoch") and value is not None:
                    self.writer.add_scalar(key, value, record.step)
            self.writer.flush()

    def close(self) -> None:
        """Close the TensorBoard writer, if any."""
        if self.writer is not None:
            self.writer.close()


def _step_of(line: str) -> float:
    """The step of a record line; a blank line, or one torn by a full disk, counts as past every step."""
    try:
        return float(json.loads(line)["step"])
    except (ValueError, KeyError, TypeError):  # JSONDecodeError is a ValueError
        return math.inf


def _tensorboard_writer(folder: Path) -> Any:
    """A TensorBoard ``SummaryWriter``, imported only when asked for."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ConfigError("--tensorboard needs the tensorboard package: pip install tensorboard") from None
    return SummaryWriter(str(folder))


def read_metrics(path: str | Path, strict: bool = True) -> list[dict[str, Any]]:
    """The records of a ``metrics.jsonl`` file (a run folder or the file itself). With
    ``strict=False`` a line that is not a record (one being written as a running run is read, or
    torn by a full disk) is skipped instead of raising."""
    path = Path(path)
    path = path / "metrics.jsonl" if path.is_dir() else path
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    if strict:
        return [json.loads(line) for line in lines]
    return [json.loads(line) for line in lines if _step_of(line) != math.inf]


class ProgressBar:
    """A rich progress bar over optimizer steps with images/s and ETA, plus one printed line per
    record. The bar shows only when ``enabled`` and stderr is a terminal."""

    def __init__(self, total: int, completed: int, enabled: bool) -> None:
        self.console = Console(stderr=True)
        self.bar: Progress | None = None
        if enabled and sys.stderr.isatty():
            self.bar = Progress(
                TextColumn("[bold]train"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[speed]}"),
                TimeElapsedColumn(),
                TextColumn("eta"),
                TimeRemainingColumn(),
                console=self.console,
            )
            self.task = self.bar.add_task("train", total=total, completed=completed, speed="")

    def __enter__(self) -> ProgressBar:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        if self.bar is not None:
            self.bar.stop()

    def advance(self, steps: int, images_per_s: float | None = None) -> None:
        """Move the bar by ``steps`` and show the current speed."""
        if self.bar is not None:
            speed = f"{images_per_s:,.0f} img/s" if images_per_s is not None else ""
            self.bar.update(self.task, advance=steps, speed=speed)

    def print(self, record: Record) -> None:
        """Print a record's summary (above the bar when there is one)."""
        if self.bar is not None:
            self.bar.console.print(record.summary(), highlight=False)
        else:
            print(record.summary(), flush=True)
