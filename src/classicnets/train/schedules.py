"""Learning-rate schedules as pure functions of the step, plus the two stateful rules.

``LRController.lr(step)`` is the rate for the optimizer step ``step`` (0-based):
``lr * schedule_factor(step) * plateau scale``, or the warm-up rate while warming up.
The stateful parts (plateau and warm-up) have a ``state_dict`` of plain floats, so a resumed
run continues with exactly the rates of an uninterrupted one.
"""

from __future__ import annotations

import bisect
import math
from typing import Any

from .config import TrainConfig

ONECYCLE_PCT_START = 0.25  # fraction of the run spent rising
ONECYCLE_DIV = 25.0  # starting rate = lr / 25 (as torch's OneCycleLR)
ONECYCLE_FINAL_DIV = 1e4  # final rate = starting rate / 1e4
PLATEAU_THRESHOLD = 1e-4  # relative improvement that counts (torch's ReduceLROnPlateau default)
WARMUP_EMA = 0.05  # weight of the newest batch in the running training error for the warm-up switch


def schedule_factor(config: TrainConfig, step: int, steps_per_epoch: int, total_steps: int) -> float:
    """The multiplier of ``config.lr`` at ``step`` for the step-driven schedules."""
    kind = config.schedule
    if kind in ("step", "piecewise"):
        position = step / steps_per_epoch if config.milestone_unit == "epoch" else step
        passed = bisect.bisect_right(config.milestones, position)
        return config.gamma**passed if kind == "step" else config.lr_factors[passed]
    t = step / max(total_steps, 1)
    if kind == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * t))
    if kind == "onecycle":
        start = 1.0 / ONECYCLE_DIV
        if t < ONECYCLE_PCT_START:
            return _cos_between(start, 1.0, t / ONECYCLE_PCT_START)
        return _cos_between(1.0, start / ONECYCLE_FINAL_DIV, (t - ONECYCLE_PCT_START) / (1 - ONECYCLE_PCT_START))
    return 1.0  # constant, plateau


def _cos_between(a: float, b: float, t: float) -> float:
    """Cosine interpolation from ``a`` (t=0) to ``b`` (t=1)."""
    return b + (a - b) * 0.5 * (1.0 + math.cos(math.pi * t))


class LRController:
    """The learning rate of every step, with ReduceLROnPlateau-style decay on the validation
    error (``schedule="plateau"``: mode min, relative threshold 1e-4, factor ``gamma``, patience
    ``plateau_patience`` epochs) and the ResNet-110 warm-up (``warmup_lr`` until the running
    training error is below ``warmup_until_error``)."""

    def __init__(self, config: TrainConfig, steps_per_epoch: int, total_steps: int) -> None:
        self.config, self.steps_per_epoch, self.total_steps = config, steps_per_epoch, total_steps
        self.scale = 1.0
        self.best = math.inf
        self.bad_epochs = 0
        self.warming = config.warmup_lr is not None
        self.train_error: float | None = None

    def lr(self, step: int) -> float:
        """The learning rate for optimizer step ``step``."""
        if self.warming and self.config.warmup_lr is not None:
            return self.config.warmup_lr
        return self.config.lr * self.scale * schedule_factor(self.config, step, self.steps_per_epoch, self.total_steps)

    def observe_batch(self, error: float) -> None:
        """Feed one batch's training error (fraction wrong) to the warm-up switch."""
        if not self.warming:
            return
        prev = self.train_error
        self.train_error = error if prev is None else (1 - WARMUP_EMA) * prev + WARMUP_EMA * error
        if self.train_error < self.config.warmup_until_error:
            self.warming = False

    def observe_epoch(self, val_error: float | None) -> None:
        """Feed the validation error at an epoch's end to the plateau rule."""
        if self.config.schedule != "plateau" or val_error is None:
            return
        if val_error < self.best * (1 - PLATEAU_THRESHOLD):
            self.best, self.bad_epochs = val_error, 0
            return
        self.bad_epochs += 1
        if self.bad_epochs > self.config.plateau_patience:
            self.scale *= self.config.gamma
            self.bad_epochs = 0

    def state_dict(self) -> dict[str, Any]:
        """The plateau and warm-up state, as plain numbers (saved in the training state)."""
        return {
            "scale": self.scale,
            "best": self.best,
            "bad_epochs": self.bad_epochs,
            "warming": self.warming,
            "train_error": self.train_error,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what ``state_dict`` returned."""
        self.scale, self.best, self.bad_epochs = state["scale"], state["best"], state["bad_epochs"]
        self.warming, self.train_error = state["warming"], state["train_error"]
