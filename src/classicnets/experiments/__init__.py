"""The case studies' claims as experiments: ResNet's degradation (Fig. 1 and 6) on a budget and at
full length, the identity argument for residual blocks, LeNet-5's pooling and activation
ablation, and the smallest budget of the explorer's live training. Every experiment that trains
is a grid of runs (``grid.run_grid``)."""

from .degradation import (
    BUDGET_HELP,
    BUDGETS,
    DegradationConfig,
    Stopped,
    run_degradation,
    trend,
    verdict,
)
from .full_length import TIME_HELP as FULL_LENGTH_TIME
from .full_length import FullLengthConfig, run_full_length
from .grid import Cell, GridStopped, run_grid
from .identity import IdentityRow, run_identity
from .lenet_ablation import VARIANTS, AblationConfig, run_lenet_ablation
from .live import LiveBudgetConfig, run_live_budget

__all__ = [
    "BUDGETS",
    "BUDGET_HELP",
    "FULL_LENGTH_TIME",
    "VARIANTS",
    "AblationConfig",
    "Cell",
    "DegradationConfig",
    "FullLengthConfig",
    "GridStopped",
    "IdentityRow",
    "LiveBudgetConfig",
    "Stopped",
    "run_degradation",
    "run_full_length",
    "run_grid",
    "run_identity",
    "run_lenet_ablation",
    "run_live_budget",
    "trend",
    "verdict",
]
