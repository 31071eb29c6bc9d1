"""The case studies' claims as experiments: ResNet's degradation (Fig. 1 and 6), the identity
argument for residual blocks, and LeNet-5's pooling and activation ablation."""

from .degradation import BUDGET_HELP, BUDGETS, DegradationConfig, Stopped, run_degradation, trend, verdict
from .identity import IdentityRow, run_identity
from .lenet_ablation import VARIANTS, AblationConfig, run_lenet_ablation

__all__ = [
    "BUDGETS",
    "BUDGET_HELP",
    "VARIANTS",
    "AblationConfig",
    "DegradationConfig",
    "IdentityRow",
    "Stopped",
    "run_degradation",
    "run_identity",
    "run_lenet_ablation",
    "trend",
    "verdict",
]
