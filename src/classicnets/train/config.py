"""``TrainConfig``: every choice a training run makes, validated up front with one-line errors.

The dataclass defaults are the fast modern recipe used when no ``recipe`` is named: SGD with
Nesterov momentum and a one-cycle learning rate for 3 epochs, which takes ``lenet5_modern`` past
99% test accuracy on MNIST. Named paper recipes live in ``recipes.py``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from ..errors import ConfigError

SCHEDULES = ("constant", "step", "piecewise", "cosine", "onecycle", "plateau")
MILESTONE_UNITS = ("epoch", "step")
PRECISIONS = ("auto", "fp32", "bf16")
TEST_EVALS = ("every", "best", "end")
DEFAULT_EPOCHS = 3  # when neither ``epochs`` nor ``iterations`` is given

# Options that may change when a run is resumed: they do not alter what is computed
# (the length may grow; a different device or precision only changes rounding).
RUNTIME_FIELDS = frozenset(
    {"epochs", "iterations", "data_dir", "download", "device", "threads", "compile", "tensorboard", "progress"}
)
_DEVICE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


@dataclass
class TrainConfig:
    """A training run. ``model``, ``dataset`` and ``out`` are required; the rest have defaults.

    Lengths: give ``epochs`` or ``iterations`` (optimizer steps), not both; with neither the run
    lasts ``DEFAULT_EPOCHS`` epochs. ``batch_size`` is the global batch: with N processes each
    one takes ``batch_size / N`` images per step. Schedule positions (``milestones``) are in
    ``milestone_unit`` ("epoch" or "step"). ``input_size`` overrides the model card's input side.
    """

    model: str
    dataset: str
    out: str
    recipe: str | None = None
    model_args: dict[str, Any] = field(default_factory=dict)
    input_size: int | None = None
    # data
    data_dir: str | None = None
    download: bool = False
    val_size: int | float | None = None
    split_seed: int = 0
    subset: int | None = None
    crop_padding: int = 0
    hflip: bool = False
    # length
    epochs: int | None = None
    iterations: int | None = None
    # optimizer: SGD
    batch_size: int = 64
    lr: float = 0.05
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    label_smoothing: float = 0.0
    # learning-rate schedule
    schedule: str = "onecycle"
    milestones: tuple[float, ...] = ()
    milestone_unit: str = "epoch"
    gamma: float = 0.1
    lr_factors: tuple[float, ...] = ()
    plateau_patience: int = 5
    warmup_lr: float | None = None
    warmup_until_error: float = 0.8
    # the run
    seed: int = 0
    eval_every: int | None = None
    test_eval: str = "every"
    device: str = "auto"
    precision: str = "auto"
    channels_last: bool | None = None
    compile: bool = False
    threads: int | None = None
    deterministic: bool = False
    tensorboard: bool = False
    progress: bool = True

    def validate(self) -> TrainConfig:
        """Raise ``ConfigError`` (one line) for the first invalid value; return ``self``."""
        _positive("lr", self.lr)
        _positive("batch-size", self.batch_size)
        for name in ("epochs", "iterations", "eval_every", "threads", "subset", "input_size"):
            value = getattr(self, name)
            if value is not None:
                _positive(name.replace("_", "-"), value)
        if self.val_size is not None and self.val_size < 0:
            raise ConfigError(f"--val-size must be >= 0, got {self.val_size}")
        if self.epochs is not None and self.iterations is not None:
            raise ConfigError("give --epochs or --iterations, not both")
        if not 0 <= self.momentum < 1:
            raise ConfigError(f"--momentum must be in [0, 1), got {self.momentum}")
        if self.nesterov and self.momentum == 0:
            raise ConfigError("Nesterov momentum needs --momentum > 0 (or --no-nesterov)")
        if self.weight_decay < 0:
            raise ConfigError(f"--weight-decay must be >= 0, got {self.weight_decay}")
        if not 0 <= self.label_smoothing < 1:
            raise ConfigError(f"--label-smoothing must be in [0, 1), got {self.label_smoothing}")
        if self.crop_padding < 0:
            raise ConfigError(f"--crop-padding must be >= 0, got {self.crop_padding}")
        self._validate_schedule()
        if self.test_eval not in TEST_EVALS:
            raise ConfigError(f"--test-eval must be one of {', '.join(TEST_EVALS)}, got {self.test_eval!r}")
        if self.precision not in PRECISIONS:
            raise ConfigError(f"--precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if not _DEVICE.match(self.device):
            raise ConfigError(f"--device must be auto, cpu, cuda or cuda:N, got {self.device!r}")
        return self

    def _validate_schedule(self) -> None:
        if self.schedule not in SCHEDULES:
            raise ConfigError(f"unknown --schedule {self.schedule!r}; choose from {', '.join(SCHEDULES)}")
        if self.milestone_unit not in MILESTONE_UNITS:
            raise ConfigError(f"milestone unit must be 'epoch' or 'step', got {self.milestone_unit!r}")
        if any(m <= 0 for m in self.milestones) or list(self.milestones) != sorted(set(self.milestones)):
            raise ConfigError(f"--milestones must be positive and increasing, got {list(self.milestones)}")
        if self.schedule == "step" and not self.milestones:
            raise ConfigError("--schedule step needs --milestones")
        if self.schedule == "piecewise" and len(self.lr_factors) != len(self.milestones) + 1:
            raise ConfigError("--schedule piecewise needs one more --lr-factors value than --milestones")
        if any(f <= 0 for f in self.lr_factors):
            raise ConfigError(f"--lr-factors must be positive, got {list(self.lr_factors)}")
        if not 0 < self.gamma <= 1:
            raise ConfigError(f"--gamma must be in (0, 1], got {self.gamma}")
        if self.plateau_patience < 0:
            raise ConfigError(f"--plateau-patience must be >= 0, got {self.plateau_patience}")
        if self.warmup_lr is not None:
            _positive("warmup-lr", self.warmup_lr)
        if not 0 < self.warmup_until_error <= 1:
            raise ConfigError(f"warm-up error threshold must be in (0, 1], got {self.warmup_until_error}")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able values (tuples become lists)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """The inverse of ``to_dict``; unknown keys raise ``ConfigError``."""
        _check_known(values)
        converted: dict[str, Any] = {k: tuple(v) if k in ("milestones", "lr_factors") else v for k, v in values.items()}
        return cls(**converted)

    def with_runtime(self, **changes: Any) -> TrainConfig:
        """A copy with runtime options changed (for ``resume``); other options raise ``ConfigError``."""
        _check_known(changes)
        fixed = sorted(k for k, v in changes.items() if k not in RUNTIME_FIELDS and getattr(self, k) != v)
        if fixed:
            names = ", ".join("MODEL" if k == "model" else "--" + k.replace("_", "-") for k in fixed)
            raise ConfigError(f"cannot change {names} when resuming: the run's saved configuration fixes it")
        return TrainConfig.from_dict(merge_options(self.to_dict(), changes))

    def total_steps(self, steps_per_epoch: int) -> int:
        """Optimizer steps in the whole run."""
        if self.iterations is not None:
            return self.iterations
        return (self.epochs or DEFAULT_EPOCHS) * steps_per_epoch


def merge_options(values: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``values`` updated with ``changes``, where giving ``epochs`` or ``iterations`` replaces the
    run's length entirely (a recipe's 64k iterations do not clash with ``epochs=2``)."""
    if {"epochs", "iterations"} & set(changes):
        values = {**values, "epochs": None, "iterations": None}
    return {**values, **changes}


def _check_known(names: Any) -> None:
    unknown = sorted(set(names) - {f.name for f in fields(TrainConfig)})
    if unknown:
        raise ConfigError(f"unknown training option(s) {', '.join(unknown)}")


def _positive(name: str, value: float) -> None:
    if not value > 0:
        raise ConfigError(f"--{name} must be positive, got {value:g}")
