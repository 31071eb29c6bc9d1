"""The training loop: ``train(config)`` starts a run, ``resume(run_dir)`` continues one exactly.

Each optimizer step is a pure function of (weights, optimizer state, schedule state, RNG state,
step): the batch comes from ``BatchLoader.epoch(epoch, start=batch)``, which is deterministic by
(seed, epoch, batch). Every logging point (each ``eval_every`` steps, each epoch's end unless
``log_epochs`` is off, and the last step)
evaluates validation and test, appends to ``metrics.jsonl`` and saves ``last`` (and ``best`` when
the VALIDATION error improved), so a run killed at any moment resumes from its last logging
point and ends with weights bit-identical to an uninterrupted run (same device, same threads).
"""

from __future__ import annotations

import json
import math
import os
import time
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from ..data import Augment, BatchLoader, load_dataset
from ..errors import CheckpointError, ConfigError, UserError
from ..factory import create_model, model_info
from . import distributed
from .checkpoint import (
    BEST,
    CONFIG,
    FORMAT,
    LAST,
    RESTORE,
    STATE,
    CheckpointMeta,
    atomic_write,
    load_training_state,
    load_weights,
    read_run_state,
    save_last,
    save_weights,
)
from .config import TrainConfig
from .device import (
    autocast,
    choose_compile,
    choose_precision,
    cpu_description,
    has_cpp_compiler,
    keep_freed_memory,
    this_cpu_kind,
)
from .distributed import DistContext
from .evaluate import SplitResult, evaluate_split, fit_data
from .metrics import MetricsLog, ProgressBar, Record, Window
from .schedules import LRController
from .signals import GracefulStop, StopNow

METRICS = "metrics.jsonl"
SEGMENTS = "segments.json"  # each process that trained the run: CPU or GPU, precision, steps, training time


class TrainingDiverged(UserError):
    """The loss became NaN or infinite; no checkpoint was written from that state."""


@dataclass(frozen=True)
class TrainResult:
    """How a run ended. Errors are fractions in [0, 1]; ``test_error`` is reported, never used."""

    out: Path
    steps: int
    epochs: float
    train_loss: float
    train_error: float
    val_error: float | None
    best_val_error: float | None
    best_step: int | None
    test_error: float | None
    wall_time: float
    total_steps: int = 0  # the schedule's length
    stopped: bool = False  # True: this process ended early (the segment limit, or a signal); resume continues
    signal: int | None = None  # the signal (SIGTERM, SIGINT) that stopped it, if one did


def train(config: TrainConfig) -> TrainResult:
    """Train ``config.model`` on ``config.dataset``, writing the run folder ``config.out``."""
    config.validate()
    if (Path(config.out) / STATE).exists():
        raise ConfigError(
            f"{config.out} already holds a run: continue it with --resume {config.out}, or choose another --out"
        )
    return _run(config, resume_dir=None)


def resume(run_dir: str | Path, **changes: Any) -> TrainResult:
    """Continue the run in ``run_dir`` from its last checkpoint, with its saved configuration.

    ``changes`` may set only runtime options (``epochs``/``iterations`` to extend the run,
    ``device``, ``threads``, ``progress``, ``stop_after``, ...); anything else raises
    ``ConfigError``. Extending a run stretches length-based schedules (cosine, onecycle) over the
    new length. A segment limit (``stop_after``) applies to this process only: it is not inherited
    from the process that saved the run.
    """
    run_dir = Path(run_dir)
    changes.setdefault("stop_after", None)
    saved = TrainConfig.from_dict(read_run_state(run_dir)["config"])
    return _run(replace(saved.with_runtime(**changes), out=str(run_dir)).validate(), resume_dir=run_dir)


def make_sgd(model: nn.Module, config: TrainConfig) -> torch.optim.SGD:
    """SGD with the config's momentum, Nesterov and weight decay. The fused kernel (one pass over
    all parameters, CPU and CUDA) where this torch has it for the device, else the foreach one."""
    kwargs: dict[str, Any] = {
        "lr": config.lr,
        "momentum": config.momentum,
        "nesterov": config.nesterov,
        "weight_decay": config.weight_decay,
    }
    try:
        return torch.optim.SGD(model.parameters(), fused=True, **kwargs)
    except (RuntimeError, TypeError):  # no fused SGD for this device or torch version
        return torch.optim.SGD(model.parameters(), foreach=True, **kwargs)


def _run(config: TrainConfig, resume_dir: Path | None) -> TrainResult:
    ctx = distributed.setup(config.device)
    try:
        return _Training(config, ctx, resume_dir).run()
    finally:
        distributed.teardown(ctx)


def training_flops_per_image(model: str, in_chans: int, image_size: tuple[int, int], **kwargs: Any) -> float:
    """Forward and backward FLOPs of one image through ``model`` (``torch.utils.flop_counter``),
    counted on a copy built on the meta device (shapes only, nothing computed or allocated), or on
    the CPU for a model whose initialisation needs real values (LeNet-5's connection table).
    0 where neither works: an estimate only, and a run without it stays eager."""
    for device in ("meta", "cpu"):
        try:
            with torch.random.fork_rng(devices=[]):  # initialisation and dropout leave the run's random stream alone
                with torch.device(device):
                    net = create_model(model, in_chans=in_chans, **kwargs)
                    x, y = torch.zeros(1, in_chans, *image_size), torch.zeros(1, dtype=torch.long)
                with FlopCounterMode(display=False) as counter:
                    F.cross_entropy(net(x), y).backward()
            return float(counter.get_total_flops())
        except Exception:  # noqa: BLE001, PERF203
            continue
    return 0.0


class _Training:
    """One run's state: data, model, optimizer, schedule, counters; ``run`` trains to the end."""

    def __init__(self, config: TrainConfig, ctx: DistContext, resume_dir: Path | None) -> None:
        self.process_started = time.perf_counter()  # the segment limit counts from here: loading and compiling too
        self.config, self.ctx, self.out = config, ctx, Path(config.out)
        dev = ctx.device
        keep_freed_memory()
        if config.threads is not None:
            torch.set_num_threads(config.threads)
        if config.deterministic:
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # cuBLAS needs it to be deterministic
            torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = not config.deterministic
        self.precision = choose_precision(dev) if config.precision == "auto" else config.precision
        if self.precision == "bf16" and dev.type == "cuda" and not torch.cuda.is_bf16_supported():
            raise ConfigError("--precision bf16: this GPU has no bf16 support; use --precision fp32")
        # channels_last is faster on CPU too, in fp32 and bf16 (benchmarks/step_speed.py; docs/benchmarks.md)
        self.channels_last = config.channels_last is not False  # None in configs saved before it was a bool

        self._load_data()
        self.model = self._build_model()
        self.optimizer = make_sgd(self.model, config)
        self.steps_per_epoch = len(self.loader)
        self.total_steps = config.total_steps(self.steps_per_epoch)
        self.schedule = LRController(config, self.steps_per_epoch, self.total_steps)
        self.meta = CheckpointMeta(
            model=config.model,
            model_args=config.model_args,
            num_classes=self.data.num_classes,
            in_chans=self.data.in_chans,
            input_size=(self.data.in_chans, *self.data.image_size),
            data_size=self.data_size,
            dataset=self.data.name,
            classes=tuple(self.data.classes),
            mean=tuple(self.data.mean),
            std=tuple(self.data.std),
            recipe=config.recipe,
            step=0,
            epoch=0.0,
            val_error=None,
            save_id="",
            config=config.to_dict(),
        )
        self.step = 0
        self.best_val: float | None = None
        self.best_step: int | None = None
        self.wall_before = 0.0  # seconds of the run before this process (resume)
        self.lr_used = self.schedule.lr(0)
        self.segments: list[dict[str, Any]] = []  # one per process that trained the run: where, and how long
        self.pending_window: dict[str, Any] | None = None  # the unlogged steps of a stop between logging points
        self.saved_step = 0
        if resume_dir is not None:
            self._restore(resume_dir)
        self.segments.append({
            "cpu": cpu_description(),
            "device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu", "precision": self.precision,
            "threads": torch.get_num_threads(), "processes": ctx.world_size,
            "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "from_step": self.step, "to_step": self.step, "train_wall_s": 0.0,
        })  # fmt: skip
        self.compile = self._choose_compile() if config.compile is None else config.compile
        wrapped = distributed.wrap(self.model, ctx)
        self.train_model: nn.Module = torch.compile(wrapped) if self.compile else wrapped  # type: ignore[assignment]

    def _choose_compile(self) -> bool:
        """``compile`` left unset: compile where this CPU repays it within the steps still to train."""
        flops = training_flops_per_image(self.config.model, self.data.in_chans, self.data.image_size,
                                         num_classes=self.data.num_classes, **self.config.model_args)  # fmt: skip
        work = (self.total_steps - self.step) * self.config.batch_size * flops
        return choose_compile(self.ctx.device.type, this_cpu_kind(), work, has_cpp_compiler())

    def _load_data(self) -> None:
        """Load the dataset, fit it to the model's input, and make this rank's training loader."""
        config, ctx = self.config, self.ctx
        raw = load_dataset(
            config.dataset,
            config.data_dir,
            download=config.download,
            val_size=config.val_size,
            split_seed=config.split_seed,
        )
        _, h, w = model_info(config.model).input_size
        side = (config.input_size, config.input_size) if config.input_size else (h, w)
        self.data = fit_data(raw, side)
        self.data_size = raw.image_size  # the dataset's own size, recorded for predict
        train_split = self.data.train.subset(config.subset, config.seed) if config.subset else self.data.train
        if config.batch_size % ctx.world_size:
            raise ConfigError(f"--batch-size {config.batch_size} must divide evenly among {ctx.world_size} processes")
        self.loader = BatchLoader(
            train_split,
            config.batch_size // ctx.world_size,
            mean=self.data.mean,
            std=self.data.std,
            shuffle=True,
            augment=Augment(config.crop_padding, config.hflip),
            seed=config.seed,
            drop_last=True,
            channels_last=self.channels_last,
            device=ctx.device,
            rank=ctx.rank,
            world_size=ctx.world_size,
        )
        if len(self.loader) == 0:
            raise ConfigError(
                f"the training split has {len(train_split)} images, fewer than one batch of "
                f"{config.batch_size}: lower --batch-size"
            )
        if config.schedule == "plateau" and len(self.data.val) == 0:
            raise ConfigError("--schedule plateau needs a validation split: set --val-size above 0")

    def _build_model(self) -> nn.Module:
        """The model for the data's classes and channels, initialised from the seed, on the device."""
        config = self.config
        torch.manual_seed(config.seed)
        model = create_model(
            config.model, num_classes=self.data.num_classes, in_chans=self.data.in_chans, **config.model_args
        )
        torch.manual_seed(config.seed + self.ctx.rank)  # dropout masks differ between ranks
        model = model.to(self.ctx.device)
        return model.to(memory_format=torch.channels_last) if self.channels_last else model

    def _restore(self, run_dir: Path) -> None:
        """Load weights, optimizer, schedule, RNG states and counters of the run's last save."""
        if self.ctx.is_main:  # rank 0 finishes an interrupted save before the others read
            state, weights = load_training_state(run_dir)
        distributed.barrier(self.ctx)
        if not self.ctx.is_main:
            state, weights = load_training_state(run_dir)
        if state["step"] and not (run_dir / METRICS).is_file():
            raise CheckpointError(f"{run_dir / METRICS} is missing (the run's log up to step {state['step']:,}): resuming "
                                  f"without it would leave a gap in the log; {RESTORE}")  # fmt: skip
        if state["world_size"] != self.ctx.world_size:
            raise ConfigError(f"{run_dir} was trained with {state['world_size']} process(es); resume it with as many")
        if state["threads"] != torch.get_num_threads():
            warnings.warn(
                f"resuming with {torch.get_num_threads()} threads instead of {state['threads']}: "
                "results will not be bit-identical to an uninterrupted run",
                stacklevel=2,
            )
        load_weights(self.model, weights, self.config.model)
        self.optimizer.load_state_dict(state["optimizer"])
        self.schedule.load_state_dict(state["schedule"])
        rng = state["rng"][self.ctx.rank]
        torch.set_rng_state(rng["cpu"])
        if "cuda" in rng and self.ctx.device.type == "cuda":
            torch.cuda.set_rng_state(rng["cuda"], self.ctx.device)
        self.step, self.best_val, self.best_step = state["step"], state["best_val_error"], state["best_step"]
        self.wall_before = state["wall_time"]
        self.pending_window = state.get("window")
        self.lr_used = state.get("lr_used", self.lr_used)
        self.segments = list(state.get("segments") or [
            {"cpu": "not recorded", "from_step": 0, "to_step": self.step, "train_wall_s": self.wall_before}
        ])  # fmt: skip
        if self.step >= self.total_steps:
            raise ConfigError(
                f"{run_dir} already finished ({self.step} steps); give a larger --epochs or --iterations to extend it"
            )

    def run(self) -> TrainResult:
        """Train from the current step to the end, logging and saving at every logging point.

        SIGTERM or SIGINT (``signals.GracefulStop``) saves a checkpoint at the step the run is on and
        returns early; so does the segment limit (``stop_after``), at its first logging point."""
        config, ctx = self.config, self.ctx
        log = MetricsLog(self.out / METRICS, config.tensorboard) if ctx.is_main else None
        if log is not None:
            try:
                self.out.mkdir(parents=True, exist_ok=True)
                atomic_write(self.out / CONFIG, (self.meta.to_json() + "\n").encode())
                log.truncate_after(self.step)
            except OSError as e:
                raise UserError(f"cannot write the run folder {self.out}: {e.strerror or e}") from None
        if ctx.is_main:
            print(self._settings_line(), flush=True)
        self.started = time.perf_counter()
        window, self.record = Window(), None
        if self.pending_window is not None:  # a stop between logging points saved its window's sums
            window.restore(self.pending_window, ctx.device, keep_sums=ctx.is_main)
        self.saved_step = self.step
        stopped: bool = False
        signum: int | None = None
        self.train_model.train()
        # In DDP every rank must stop at the same step: the ranks agree on the flag, and a signal
        # never ends one rank on its own (StopNow) while the others wait in a collective.
        single = ctx.world_size == 1
        try:
            with GracefulStop(lambda: not single or self.step > self.saved_step, announce=ctx.is_main) as stop, \
                    ProgressBar(self.total_steps, self.step, config.progress and ctx.is_main) as bar:  # fmt: skip
                if self.pending_window is not None and self._log_due(self.step):
                    stopped = self._logging_point(window, log, bar, stop)  # the one a stop cut short
                while self.step < self.total_steps and not stopped:
                    epoch, start = divmod(self.step, self.steps_per_epoch)
                    for x, y in self.loader.epoch(epoch, start):
                        self._step(x, y, window)
                        bar.advance(1, window.rate())
                        if self._log_due(self.step):
                            stopped = self._logging_point(window, log, bar, stop)
                        if not stopped and self.step < self.total_steps and self._signalled(stop):
                            signum = stop.requested or self._agreed_signal
                            if self.step > self.saved_step:
                                self._save_now(window)
                            stopped = True
                        if self.step >= self.total_steps or stopped:
                            break
        except StopNow as e:  # nothing trained since the last save, or a logging point's evaluation cut short
            if self.step > self.saved_step:
                self._save_now(window)  # its window unlogged: the resumed run logs this step first
            stopped = self.saved_step < self.total_steps  # a signal just after the last save: the run is done
            signum = e.signum if stopped else None
        finally:
            if log is not None:
                log.close()
        record = self.record
        epochs = self.saved_step / self.steps_per_epoch
        if record is None:  # stopped before this process reached a logging point
            nan = float("nan")
            return TrainResult(self.out, self.saved_step, epochs, nan, nan, None, self.best_val, self.best_step, None,
                               self.wall_before, self.total_steps, True, signum)  # fmt: skip
        return TrainResult(
            self.out,
            self.saved_step,
            epochs,
            record.train_loss,
            record.train_error,
            record.val_error,
            self.best_val,
            self.best_step,
            record.test_error,
            record.wall_time,
            self.total_steps,
            stopped,
            signum,
        )

    def _log_due(self, step: int) -> bool:
        """Whether ``step`` is a logging point: every ``eval_every`` steps, each epoch's end (unless
        ``log_epochs`` is off), and the last step."""
        config = self.config
        epoch_end = step % self.steps_per_epoch == 0
        every = config.eval_every is not None and step % config.eval_every == 0
        return (epoch_end and config.log_epochs) or every or step == self.total_steps

    def _logging_point(self, window: Window, log: MetricsLog | None, bar: ProgressBar, stop: GracefulStop) -> bool:
        """Evaluate, log and save at this step; whether the segment limit now ends the process. A
        stop signal during the evaluations cuts them short (``StopNow``), except at the last step."""
        self.record = self._log_point(window, self.step % self.steps_per_epoch == 0, log, stop)
        self.saved_step = self.step
        if log is not None:
            bar.print(self.record)
        window.reset()
        return self.step < self.total_steps and self._past_segment_limit()

    def _settings_line(self) -> str:
        """The choices this machine made, in one line: where, in which precision, and how."""
        seg = self.segments[-1]
        where = f"cpu ({seg['cpu']})" if seg["device"] == "cpu" else f"{self.ctx.device} ({seg['device']})"
        how = [f"{self.precision} {'autocast' if self.precision == 'bf16' else 'weights and arithmetic'}",
               "channels_last" if self.channels_last else "NCHW", ("compiled" if self.compile else "eager") + (" (auto)" if self.config.compile is None else ""),
               f"{seg['threads']} threads" + (f" x {seg['processes']} processes" if seg["processes"] > 1 else "")]  # fmt: skip
        start = f"from step {self.step:,} of {self.total_steps:,}" if self.step else f"{self.total_steps:,} steps"
        return f"training on {where}: {', '.join(how)}; {start}"

    def _past_segment_limit(self) -> bool:
        """Whether this process has run past ``stop_after``; rank 0's clock decides for every rank."""
        limit = self.config.stop_after
        if limit is None:
            return False
        past = self.ctx.is_main and time.perf_counter() - self.process_started >= limit
        return bool(distributed.all_reduce_sum(torch.tensor([float(past)], device=self.ctx.device), self.ctx).item())

    SIGNAL_POLL_STEPS = 10  # in DDP the ranks agree on a stop signal every this many steps (one collective)

    def _signalled(self, stop: GracefulStop) -> bool:
        """Whether a stop signal asks this run to end now. One process reads its own flag after every
        step; DDP ranks add theirs up every ``SIGNAL_POLL_STEPS`` steps, so they all stop together."""
        if self.ctx.world_size == 1:
            return stop.requested is not None
        if self.step % self.SIGNAL_POLL_STEPS:
            return False
        mine = float(stop.requested or 0)
        found = distributed.all_reduce_sum(torch.tensor([mine, float(mine > 0)], device=self.ctx.device), self.ctx).tolist()
        if found[1] == 0:
            return False
        self._agreed_signal = int(found[0] / found[1])  # the signal some rank received (they all get the same)
        return True

    _agreed_signal: int | None = None

    def _step(self, x: torch.Tensor, y: torch.Tensor, window: Window) -> None:
        """One optimizer step. Nothing is read back to the host here (``Window`` keeps the loss and
        error on the device until the next logging point), except while the ResNet-110 warm-up
        watches each batch's error."""
        self.lr_used = self.schedule.lr(self.step)
        for group in self.optimizer.param_groups:
            group["lr"] = self.lr_used
        with autocast(self.ctx.device, self.precision):
            logits = self.train_model(x)
            loss = F.cross_entropy(logits, y, label_smoothing=self.config.label_smoothing)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.step += 1
        wrong = (logits.argmax(1) != y).sum()
        images = len(y) * self.ctx.world_size
        window.add(loss.detach() * len(y), wrong, images)
        if self.schedule.warming:
            self.schedule.observe_batch(distributed.all_reduce_sum(wrong.float(), self.ctx).item() / images)

    def _divergence_message(self, step: int, what: str) -> str:
        return (
            f"training diverged at step {step} ({what}): lower the learning rate "
            f"(it was {self.lr_used:.3g}; try --lr {self.config.lr / 10:g}){self._kept()}"
        )

    def _kept(self) -> str:
        """Where the last good checkpoint is, for error messages; nothing before the first save."""
        return f"; the last good checkpoint is kept in {self.out / LAST}" if (self.out / LAST).exists() else ""

    def _evaluate(self, split_name: str) -> SplitResult | None:
        split = getattr(self.data, split_name)
        if len(split) == 0:
            return None
        return evaluate_split(
            self.model,
            split,
            mean=self.data.mean,
            std=self.data.std,
            device=self.ctx.device,
            precision=self.precision,
            num_classes=self.data.num_classes,
            channels_last=self.channels_last,
            ctx=self.ctx,
        )

    def _log_point(self, window: Window, epoch_end: bool, log: MetricsLog | None, stop: GracefulStop) -> Record:
        """Check the window's losses, evaluate, log, and save ``last`` (and ``best`` if validation
        improved). A non-finite loss since the last logging point stops the run before anything is
        saved from it."""
        images_per_s = window.rate()  # training only: read before the evaluations below
        per_step = distributed.all_reduce_sum(window.per_step(), self.ctx).tolist()  # the one host sync
        bad = next((i for i, (loss_sum, _) in enumerate(per_step) if not math.isfinite(loss_sum)), None)
        if bad is not None:
            step = self.step - len(per_step) + bad + 1
            raise TrainingDiverged(self._divergence_message(step, f"the loss is {per_step[bad][0]}"))
        train_loss, train_error = window.averages(
            (sum(r[0] for r in per_step), sum(r[1] for r in per_step)), window.images
        )
        last = self.step >= self.total_steps
        # Nothing here changes the run's state, so a stop signal may cut the evaluations short (one
        # process; not the last logging point, which ends the run anyway).
        with stop.abortable(self.ctx.world_size == 1 and not last):
            val = self._evaluate("val")
            val_error = val.error if val is not None else None
            improved = val_error is not None and (self.best_val is None or val_error < self.best_val)
            policy = self.config.test_eval
            test = self._evaluate("test") if policy == "every" or last or (policy == "best" and improved) else None
        if epoch_end:
            self.schedule.observe_epoch(val_error)
        if improved:
            self.best_val, self.best_step = val_error, self.step
        record = Record(
            step=self.step,
            epoch=self.step / self.steps_per_epoch,
            train_loss=train_loss,
            train_error=train_error,
            val_loss=val.loss if val is not None else None,
            val_error=val_error,
            test_error=test.error if test is not None else None,
            lr=self.lr_used,
            images_per_s=images_per_s,
            wall_time=self.wall_before + time.perf_counter() - self.started,
        )
        if not torch.stack([torch.isfinite(p).all() for p in self.model.parameters()]).all():
            raise TrainingDiverged(self._divergence_message(self.step, "the weights are not finite"))
        rng = self._rng_states()  # a collective: every rank takes part
        self.segments[-1].update(to_step=self.step, train_wall_s=record.wall_time - self.wall_before)
        if log is not None:
            meta = self.meta.with_step(self.step, record.epoch, val_error)
            try:
                log.write(record)
                atomic_write(self.out / SEGMENTS, (json.dumps(self.segments, indent=1) + "\n").encode())
                if improved:
                    save_weights(self.out / BEST, self.model, meta)
                save_last(self.out, self.model, meta, self._state(rng, record.wall_time))
            except OSError as e:  # a full disk, a folder gone read-only: the previous saves are intact
                reason = e.strerror or str(e)
                raise UserError(f"cannot save step {self.step} in {self.out}: {reason}{self._kept()}") from None
        return record

    def _save_now(self, window: Window) -> None:
        """Save the last weights and the training state at the current step, between logging
        points, without evaluating (a stop signal asked for it; it must be quick). The window's
        per-step sums go into the state, so the resumed run's next logging point reports the same
        averages as an uninterrupted run, and its metrics log has neither a gap nor an extra line."""
        per_step = distributed.all_reduce_sum(window.per_step(), self.ctx)
        bad = next((i for i, (loss_sum, _) in enumerate(per_step.tolist()) if not math.isfinite(loss_sum)), None)
        if bad is not None:
            step = self.step - len(per_step) + bad + 1
            raise TrainingDiverged(self._divergence_message(step, f"the loss is {per_step[bad][0].item()}"))
        if not torch.stack([torch.isfinite(p).all() for p in self.model.parameters()]).all():
            raise TrainingDiverged(self._divergence_message(self.step, "the weights are not finite"))
        rng = self._rng_states()
        wall = self.wall_before + time.perf_counter() - self.started
        self.segments[-1].update(to_step=self.step, train_wall_s=wall - self.wall_before)
        if self.ctx.is_main:
            meta = self.meta.with_step(self.step, self.step / self.steps_per_epoch, None)
            state = {**self._state(rng, wall), "window": window.state(per_step)}
            try:
                (self.out / METRICS).touch()  # the log may have no record yet; a resume checks that it exists
                atomic_write(self.out / SEGMENTS, (json.dumps(self.segments, indent=1) + "\n").encode())
                save_last(self.out, self.model, meta, state)
            except OSError as e:
                reason = e.strerror or str(e)
                raise UserError(f"cannot save step {self.step} in {self.out}: {reason}{self._kept()}") from None
        distributed.barrier(self.ctx)
        self.saved_step = self.step

    def _rng_states(self) -> list[dict[str, torch.Tensor]]:
        """Every rank's torch RNG states (CPU, and CUDA on a GPU), gathered in rank order."""
        states = {"cpu": torch.get_rng_state()}
        if self.ctx.device.type == "cuda":
            states["cuda"] = torch.cuda.get_rng_state(self.ctx.device)
        gathered = {k: distributed.all_gather(v, self.ctx) for k, v in states.items()}
        return [{k: gathered[k][r] for k in states} for r in range(self.ctx.world_size)]

    def _state(self, rng: list[dict[str, torch.Tensor]], wall_time: float) -> dict[str, Any]:
        """The training state: only tensors and plain containers (loads with weights_only=True)."""
        return {
            "format": FORMAT,
            "config": self.config.to_dict(),
            "step": self.step,
            "optimizer": self.optimizer.state_dict(),
            "schedule": self.schedule.state_dict(),
            "rng": rng,
            "best_val_error": self.best_val,
            "best_step": self.best_step,
            "wall_time": wall_time,
            "world_size": self.ctx.world_size,
            "threads": torch.get_num_threads(),
            "segments": self.segments,
            "lr_used": self.lr_used,  # the rate of the last step: a logging point a stop cut short reports it
        }
