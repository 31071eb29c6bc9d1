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
    {"epochs", "iterations", "data_dir", "download", "device", "precision", "threads", "compile", "tensorboard",
     "progress", "stop_after"}
)
_DEVICE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)([hms])")


def parse_duration(text: str) -> float:
    """Seconds in a duration such as ``150m``, ``2h``, ``1h30m``, ``90s`` or ``45`` (seconds);
    ``ConfigError`` (one line) for anything else."""
    spec = text.strip().lower()
    try:
        seconds = float(spec)
    except ValueError:
        parts = _DURATION_PART.findall(spec)
        if not parts or "".join(n + u for n, u in parts) != spec or len({u for _, u in parts}) != len(parts):
            raise ConfigError(f"--stop-after wants a duration such as 150m, 2h, 1h30m or 90s, got {text!r}") from None
        seconds = sum(float(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in parts)
    if not seconds > 0 or seconds == float("inf"):
        raise ConfigError(f"--stop-after must be a positive duration, got {text!r}")
    return seconds


def seconds(limit: float | str | None) -> float | None:
    """A segment limit as seconds: a number as it is, a duration ("150m", from Python or a run
    configuration saved before limits were numbers) parsed once."""
    return parse_duration(limit) if isinstance(limit, str) else limit


def format_duration(seconds: float) -> str:
    """Seconds as a person writes a duration: ``0.001s``, ``90s``, ``2h30m``, ``45m``."""
    if seconds < 60:
        return f"{seconds:g}s"
    hours, rest = divmod(round(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return "".join(f"{n}{u}" for n, u in ((hours, "h"), (minutes, "m"), (secs, "s")) if n)


def option(help: str, group: str, **argparse: Any) -> Any:
    """A ``TrainConfig`` field's metadata: its help text and its group in ``classicnets train
    --help`` (the CLI derives each option's flag, type and default from the field itself), plus any
    argparse settings that the type cannot say (``metavar``, ``choices``)."""
    return {"help": help, "group": group, **argparse}


@dataclass
class TrainConfig:
    """A training run. ``model``, ``dataset`` and ``out`` are required; the rest have defaults.

    Lengths: give ``epochs`` or ``iterations`` (optimizer steps), not both; with neither the run
    lasts ``DEFAULT_EPOCHS`` epochs. ``batch_size`` is the global batch: with N processes each
    one takes ``batch_size / N`` images per step. Schedule positions (``milestones``) are in
    ``milestone_unit`` ("epoch" or "step"). ``input_size`` overrides the model card's input side.

    Each field's metadata is its documentation, and the one source of ``classicnets train``'s
    options (``cli/train.py`` builds them from it).
    """

    model: str = field(metadata=option("model name (see 'classicnets list'); not needed with --resume", "run"))
    dataset: str = field(metadata=option("mnist, fashion-mnist, cifar10, cifar100, digits or folder:PATH", "run"))
    out: str = field(metadata=option("run folder to create", "run"))
    recipe: str | None = field(default=None, metadata=option("a paper's training recipe; options you give override it", "run"))
    model_args: dict[str, Any] = field(default_factory=dict, metadata=option(
        "keyword argument for the model builder, e.g. head=cifar (repeatable)", "data", metavar="KEY=VALUE",
        flag="--model-arg"))
    input_size: int | None = field(default=None, metadata=option("input side instead of the model card's", "data", metavar="H"))
    # data
    data_dir: str | None = field(default=None, metadata=option("folder holding the datasets (default: the usual places)", "data"))
    download: bool = field(default=False, metadata=option("download the dataset if missing", "data"))
    val_size: int | float | None = field(default=None, metadata=option(
        "validation images, a count or a fraction (default: the dataset's; 0: none)", "data"))
    split_seed: int = field(default=0, metadata=option("seed of the train/validation split", "data"))
    subset: int | None = field(default=None, metadata=option("train on N training images only (quick runs)", "data", metavar="N"))
    crop_padding: int = field(default=0, metadata=option("random crops after P pixels of zero padding", "data", metavar="P"))
    hflip: bool = field(default=False, metadata=option("random horizontal flips", "data"))
    # length
    epochs: int | None = field(default=None, metadata=option(f"passes over the training data (default {DEFAULT_EPOCHS})", "length"))
    iterations: int | None = field(default=None, metadata=option("optimizer steps, instead of --epochs", "length"))
    # optimizer: SGD
    batch_size: int = field(default=64, metadata=option("global batch size", "optimizer"))
    lr: float = field(default=0.05, metadata=option("base (peak) learning rate", "optimizer"))
    momentum: float = field(default=0.9, metadata=option("SGD momentum", "optimizer"))
    nesterov: bool = field(default=True, metadata=option("Nesterov momentum", "optimizer"))
    weight_decay: float = field(default=5e-4, metadata=option("L2 weight decay", "optimizer"))
    label_smoothing: float = field(default=0.0, metadata=option("label smoothing of the cross-entropy", "optimizer"))
    # learning-rate schedule
    schedule: str = field(default="onecycle", metadata=option("learning-rate schedule", "optimizer", choices=SCHEDULES))
    milestones: tuple[float, ...] = field(default=(), metadata=option("step/piecewise boundaries (see --milestone-unit)", "optimizer"))
    milestone_unit: str = field(default="epoch", metadata=option("unit of --milestones", "optimizer", choices=MILESTONE_UNITS))
    gamma: float = field(default=0.1, metadata=option("rate factor at each milestone or plateau", "optimizer"))
    lr_factors: tuple[float, ...] = field(default=(), metadata=option("piecewise: rate factor of each segment", "optimizer"))
    plateau_patience: int = field(default=5, metadata=option("plateau: epochs without improvement", "optimizer"))
    warmup_lr: float | None = field(default=None, metadata=option(
        "rate until the training error falls below --warmup-until-error (ResNet-110)", "optimizer"))
    warmup_until_error: float = field(default=0.8, metadata=option("the warm-up ends below this training error", "optimizer"))
    # the run
    seed: int = field(default=0, metadata=option("seed of initialisation, order and augmentation", "run"))
    eval_every: int | None = field(default=None, metadata=option(
        "evaluate, log and save every N steps too (always at each epoch's end)", "run", metavar="N"))
    log_epochs: bool = field(default=True, metadata=option(
        "also evaluate, log and save at the end of every epoch (off: only every --eval-every steps and at the end)",
        "run"))
    test_eval: str = field(default="every", metadata=option(
        "evaluate the test split at every logging point, only where validation improves (and at the end), "
        "or only at the end", "run", choices=TEST_EVALS))
    device: str = field(default="auto", metadata=option("auto, cpu, cuda or cuda:N", "run"))
    precision: str = field(default="auto", metadata=option(
        "bf16 autocast (fp32 weights) where the CPU or GPU has bf16 units, or fp32", "run", choices=PRECISIONS))
    channels_last: bool = field(default=True, metadata=option("NHWC memory format (faster on CPU and GPU)", "run"))
    compile: bool | None = field(default=None, metadata=option(
        "torch.compile the training step; unset: on a CPU, when the run is long enough to repay the "
        "minute it costs (train/device.py: choose_compile)", "run"))
    threads: int | None = field(default=None, metadata=option("CPU threads (default: one per core)", "run"))
    deterministic: bool = field(default=False, metadata=option("deterministic kernels (exact resume on CUDA)", "run"))
    tensorboard: bool = field(default=False, metadata=option("also log to OUT/tensorboard", "run"))
    progress: bool = field(default=True, metadata=option("a progress bar on the terminal", "run"))
    stop_after: float | None = field(default=None, metadata=option(
        "end this process cleanly at the first logging point after this much wall time (e.g. 150m, 2h, 1h30m): "
        "the checkpoint is saved and --resume continues the run; a segment limit, not part of the run's plan",
        "run", metavar="DURATION", type=parse_duration))

    def __post_init__(self) -> None:
        self.stop_after = seconds(self.stop_after)  # seconds; from Python, "150m" as on the command line works too

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
        if not self.log_epochs and self.eval_every is None:
            raise ConfigError("--no-log-epochs needs --eval-every N: the run must log somewhere")
        if not self.log_epochs and self.schedule == "plateau":
            raise ConfigError("--schedule plateau watches the validation error at each epoch's end: keep --log-epochs")
        if self.test_eval not in TEST_EVALS:
            raise ConfigError(f"--test-eval must be one of {', '.join(TEST_EVALS)}, got {self.test_eval!r}")
        if self.precision not in PRECISIONS:
            raise ConfigError(f"--precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if not _DEVICE.match(self.device):
            raise ConfigError(f"--device must be auto, cpu, cuda or cuda:N, got {self.device!r}")
        if self.stop_after is not None and not 0 < self.stop_after < float("inf"):
            raise ConfigError(f"--stop-after must be a positive duration, got {self.stop_after!r} seconds")
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
            names = ", ".join(
                f"{'MODEL' if k == 'model' else '--' + k.replace('_', '-')} {changes[k]!r} (the run has {getattr(self, k)!r})"
                for k in fixed
            )
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
