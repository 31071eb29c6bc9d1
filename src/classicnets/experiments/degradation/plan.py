"""What the degradation experiment trains: the budgets (how long each network trains; everything
else is the paper's recipe), the options, and the plan as a grid of cells (``grid.run_grid``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ...errors import ConfigError
from ...models.resnet import cifar_blocks
from ...train import make_config
from ...train.config import PRECISIONS, option, seconds
from ..grid import (
    Cell,
    data_dir_option,
    device_option,
    progress_option,
    stop_after_option,
    subset_option,
)

PAPER_ITERATIONS = 64_000


@dataclass(frozen=True)
class Budget:
    """How long each network trains. Everything else is the paper's recipe."""

    iterations: int
    milestones: tuple[int, int]  # lr / 10 at these iterations
    depths: tuple[int, ...]
    eval_every: int
    cuts: str  # what this budget cuts from the paper, in words
    resnet_only: tuple[int, ...] = ()  # depths trained as ResNets only (Fig. 6 has no plain-110)
    compile: bool = False  # torch.compile each network (pays off on long runs)
    log_epochs: bool = True  # also evaluate at each epoch's end (off: only every eval_every iterations)


SWEEP_ITERATIONS = 4_600  # as many as fit in 120 minutes on 2 CPU cores with AMX bf16: docs/results.md
BUDGETS: dict[str, Budget] = {
    "quick": Budget(
        2_800, (1_400, 2_100), (20, 32), 400,
        "iterations: 2,800 instead of 64,000 (lr / 10 at 1,400 and 2,100 instead of 32k and 48k: "
        "the same halfway and three-quarter points), and depths: 20 and 32 only; batch, lr, momentum, "
        "weight decay, augmentation and the 45k/5k split are the paper's",
    ),
    "sweep": Budget(
        SWEEP_ITERATIONS, (SWEEP_ITERATIONS // 2, SWEEP_ITERATIONS * 3 // 4), (20, 32, 44, 56), SWEEP_ITERATIONS // 10,
        f"iterations: {SWEEP_ITERATIONS:,} instead of 64,000 (lr / 10 at 50% and 75%, as 32k and 48k of 64k), "
        "and depth 110 left out; depths 20, 32, 44, 56, batch, lr, momentum, weight decay, augmentation and "
        "the 45k/5k split are the paper's",
        compile=True,
        log_epochs=False,
    ),
    "paper": Budget(
        PAPER_ITERATIONS, (32_000, 48_000), (20, 32, 44, 56, 110), 1_000,
        "nothing: the paper's 64k iterations (about 182 epochs) for plain-20 to 56 and ResNet-20 to 110, "
        "with ResNet-110's warm-up; meant for a GPU",
        resnet_only=(110,),
        compile=True,
        log_epochs=False,
    ),
}
BUDGET_HELP = (
    "quick: depths 20 and 32, 2,800 iterations, about 40 min on 2 CPU cores with AVX512-BF16; "
    f"sweep: depths 20, 32, 44 and 56, {SWEEP_ITERATIONS:,} iterations, about 120 min on 2 CPU cores with "
    "bf16 units (AMX), about 12 h on 2 cores without them (fp32); "
    "paper: plain-20 to 56 and ResNet-20 to 110, 64k iterations (for a GPU: --device cuda)"
)


@dataclass
class DegradationConfig:
    """The experiment's options; ``classicnets experiment degradation``'s flags are generated from
    these fields (``cli/options.py``)."""

    out: str = field(default="runs/degradation", metadata=option("output folder", "run"))
    dataset: str = field(default="cifar10", metadata=option("dataset name", "data"))
    depths: tuple[int, ...] | None = field(default=None, metadata=option("6n+2 depths (default: the budget's)", "plan"))
    budget: str = field(default="quick", metadata=option(BUDGET_HELP, "plan", choices=list(BUDGETS)))
    seed: int | None = field(default=None, metadata=option("the seed of a one-seed run (default 0)", "plan"))
    seeds: tuple[int, ...] | None = field(default=None, metadata=option(
        "several seeds: each network trains once per seed, and the report measures the spread", "plan", metavar="N"))
    data_dir: str | None = data_dir_option()
    subset: int | None = subset_option()
    iterations: int | None = field(default=None, metadata=option(
        "override the budget's iterations per network (the rate drops scale with it)", "plan"))
    device: str = device_option()
    precision: str = field(default="auto", metadata=option(
        "auto: bf16 autocast where the CPU or GPU has bf16 units (as in train); fp32: the paper's arithmetic", "run",
        choices=list(PRECISIONS)))
    progress: bool = progress_option()
    stop_after: float | None = stop_after_option()

    def __post_init__(self) -> None:
        if self.seed is not None and self.seeds is not None:
            raise ConfigError("give --seed N or --seeds N [N ...], not both")
        if self.seeds is None:
            self.seeds = (self.seed or 0,)
        self.seed = None  # now in seeds
        self.stop_after = seconds(self.stop_after)  # from Python, "150m" as on the command line works too

    def plan(self) -> tuple[Budget, tuple[int, ...], int]:
        if self.budget not in BUDGETS:
            raise ConfigError(f"unknown --budget {self.budget!r}; choose {', '.join(BUDGETS)}")
        b = BUDGETS[self.budget]
        depths = tuple(sorted(self.depths or b.depths))
        bad = [d for d in depths if not _is_cifar_depth(d)]
        if bad:
            raise ConfigError(f"depths must be 6n+2 (20, 32, 44, 56, 110), got {bad}")
        if len(depths) < 2:
            raise ConfigError("give at least two depths to compare")
        if not self.seeds or len(set(self.seeds)) != len(self.seeds) or min(self.seeds) < 0:
            raise ConfigError(f"--seeds must be distinct numbers >= 0, got {list(self.seeds)}")
        return b, depths, self.iterations or b.iterations

    def networks(self) -> list[str]:
        """The networks of the plan, shallowest first, the plain twin before the ResNet."""
        budget, depths, _ = self.plan()
        return [f"{kind}{d}" for d in depths for kind in ("plain", "resnet")
                if not (kind == "plain" and d in budget.resnet_only)]  # fmt: skip


def _is_cifar_depth(depth: int) -> bool:
    try:
        cifar_blocks(depth)
    except ValueError:
        return False
    return True


def run_folder(out: str | Path, seed: int, model: str) -> Path:
    """Where one network of one seed trains."""
    return Path(out) / "runs" / f"seed{seed}" / model


def cells(cfg: DegradationConfig) -> list[Cell]:
    """The plan as a grid: every network of every seed, with the paper's recipe at the budget's length."""
    budget, _, iterations = cfg.plan()
    scale = iterations / budget.iterations
    milestones = tuple(max(1, round(m * scale)) for m in budget.milestones)
    eval_every = max(1, round(budget.eval_every * scale))
    extra = {"compile": budget.compile, "log_epochs": budget.log_epochs, "precision": cfg.precision}
    return [Cell(f"seed{seed}/{name}", make_config(
        name, cfg.dataset, str(run_folder(cfg.out, seed, name)), recipe="resnet-cifar", iterations=iterations,
        milestones=milestones, eval_every=eval_every, seed=seed, data_dir=cfg.data_dir, subset=cfg.subset,
        device=cfg.device, progress=cfg.progress, **extra,
    )) for seed in cfg.seeds for name in cfg.networks()]  # fmt: skip
