"""The fast CIFAR-10 recipe on real data: a few hundred steps must already learn, and the shipped
ResNet-20 must measure the test error its manifest states (the latter is in test_ecosystem.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from classicnets.train import make_config, train

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
STEPS = 200
# resnet20, 200 steps of the recipe's schedule (one-cycle compressed into them), 1 thread, eager:
# 52.61% test error when measured (chance is 90%); the bar leaves room for another machine's rounding.
MAX_TEST_ERROR = 0.60


@pytest.mark.slow
def test_fast_recipe_learns_cifar10_in_a_few_hundred_steps(tmp_path: Path) -> None:
    if not (SHARED_DATA / "cifar10").is_dir():
        pytest.skip(f"CIFAR-10 not found in {SHARED_DATA}")
    before = torch.get_num_threads()
    try:
        cfg = make_config("resnet20", "cifar10", str(tmp_path / "run"), recipe="resnet-cifar-fast", iterations=STEPS,
                          compile=False, threads=1, progress=False, data_dir=str(SHARED_DATA))  # fmt: skip
        assert (cfg.label_smoothing, cfg.nesterov, cfg.weight_decay) == (0.1, True, 5e-4)
        assert (cfg.val_size, cfg.test_eval) == (0, "every")  # all 50k images; the test set is only reported
        result = train(cfg)
    finally:
        torch.set_num_threads(before)
    assert result.steps == STEPS and result.test_error is not None
    print(f"resnet20, {STEPS} steps of resnet-cifar-fast: test error {result.test_error:.2%}")
    assert result.test_error < MAX_TEST_ERROR
