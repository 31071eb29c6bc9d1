"""The papers' training recipes as named presets: ``TrainConfig`` overrides, each citing its source.

A recipe is a function of the model's card (ResNet-110 warms up, shallower ResNets do not) that
returns overrides; its docstring says where every number comes from and where we deviate.
``make_config`` layers them: ``TrainConfig`` defaults < recipe < the caller's explicit options.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import UnknownNameError
from ..factory import model_info
from ..registry import ModelInfo
from .config import TrainConfig, merge_options

RecipeFn = Callable[[ModelInfo], dict[str, Any]]
RECIPES: dict[str, RecipeFn] = {}


def recipe(name: str) -> Callable[[RecipeFn], RecipeFn]:
    """Register a recipe function under ``name``."""

    def deco(fn: RecipeFn) -> RecipeFn:
        RECIPES[name] = fn
        return fn

    return deco


@recipe("lenet5")
def lenet5(info: ModelInfo) -> dict[str, Any]:
    """LeCun, Bottou, Bengio, Haffner 1998, section III-A (MNIST, no distortions): 20 passes over
    the training set with the global learning rate 0.0005 for passes 1-2, 0.0002 for 3-5, 0.0001
    for 6-8, 0.00005 for 9-12 and 0.00001 for 13-20.

    Deviation: the paper trains with stochastic diagonal Levenberg-Marquardt (per-parameter step
    sizes from a Hessian estimate, one sample per update). We use mini-batch SGD with momentum
    and keep the schedule's shape: the same passes and the same ratios (1, 0.4, 0.2, 0.1, 0.02)
    applied to a base rate of 0.001 for batches of 32 (the best of 3e-4, 1e-3, 3e-3, 3e-2 in a
    short sweep on MNIST). No augmentation, no weight decay, as in the paper.
    """
    return {
        "epochs": 20,
        "iterations": None,
        "batch_size": 32,
        "lr": 0.001,
        "momentum": 0.9,
        "nesterov": False,
        "weight_decay": 0.0,
        "schedule": "piecewise",
        "milestones": (2, 5, 8, 12),
        "milestone_unit": "epoch",
        "lr_factors": (1.0, 0.4, 0.2, 0.1, 0.02),
        "crop_padding": 0,
        "hflip": False,
    }


@recipe("alexnet")
def alexnet(info: ModelInfo) -> dict[str, Any]:
    """Krizhevsky, Sutskever, Hinton 2012, section 5: batch 128, momentum 0.9, weight decay
    0.0005, learning rate 0.01 divided by 10 when the validation error stopped improving,
    roughly 90 passes. Augmentation (section 4.1): random translations and horizontal flips.

    Deviations: translations are pad-4-and-crop at the input size rather than 224 crops of 256
    images; no PCA colour lighting; "stopped improving" is ReduceLROnPlateau on the validation
    error with a patience of 5 epochs (the paper gives no number).
    """
    return _plateau(batch_size=128, lr=0.01, weight_decay=5e-4, epochs=90)


@recipe("vgg")
def vgg(info: ModelInfo) -> dict[str, Any]:
    """Simonyan & Zisserman 2015, section 3.1: batch 256, momentum 0.9, weight decay 5e-4, learning
    rate 0.01 divided by 10 when the validation accuracy stopped improving (3 times), 74 epochs
    (370k iterations); random crops and horizontal flips.

    Deviations: crops are pad-4-and-crop at the input size, no scale jittering or RGB colour
    shift; no initialisation from the shallower net A; plateau patience of 5 epochs.
    """
    return _plateau(batch_size=256, lr=0.01, weight_decay=5e-4, epochs=74)


@recipe("resnet-imagenet")
def resnet_imagenet(info: ModelInfo) -> dict[str, Any]:
    """He, Zhang, Ren, Sun 2016, section 3.4: batch 256, learning rate 0.1 divided by 10 when the
    error plateaus, up to 60e4 iterations, weight decay 0.0001, momentum 0.9; crops and flips.

    Deviations: crops are pad-4-and-crop at the input size, no scale or colour augmentation;
    plateau patience of 5 epochs on the validation error.
    """
    return {**_plateau(batch_size=256, lr=0.1, weight_decay=1e-4, epochs=None), "iterations": 600_000}


@recipe("resnet-cifar")
def resnet_cifar(info: ModelInfo) -> dict[str, Any]:
    """He, Zhang, Ren, Sun 2016, section 4.2 (CIFAR-10): batch 128, SGD momentum 0.9, weight decay
    0.0001, learning rate 0.1 divided by 10 at 32k and 48k iterations, stop at 64k; 4-pixel
    padding, random 32x32 crop and horizontal flip. For ResNet-110 (depth >= 110) the rate is
    0.01 until the training error drops below 80% (about 400 iterations), then back to 0.1.

    Deviation: the training error for the warm-up switch is a running average over recent
    batches (the paper does not say how it measured it).
    """
    overrides: dict[str, Any] = {
        "iterations": 64_000,
        "epochs": None,
        "batch_size": 128,
        "lr": 0.1,
        "momentum": 0.9,
        "nesterov": False,
        "weight_decay": 1e-4,
        "schedule": "step",
        "milestones": (32_000, 48_000),
        "milestone_unit": "step",
        "gamma": 0.1,
        "crop_padding": 4,
        "hflip": True,
    }
    if info.depth >= 110:
        overrides.update(warmup_lr=0.01, warmup_until_error=0.8)
    return overrides


FAST_EPOCHS = 130


@recipe("resnet-cifar-fast")
def resnet_cifar_fast(info: ModelInfo) -> dict[str, Any]:
    """The CIFAR ResNets towards the paper's test error on a laptop CPU: 130 epochs, sized so that
    ResNet-20 trains in about 90 minutes on 2 cores with AMX bf16 units, longer elsewhere (carry it
    over several sittings with ``--stop-after`` and ``--resume``). What it reached, and in how long,
    is in docs/results.md.

    Kept from He et al. 2016, section 4.2: batch 128, peak learning rate 0.1, momentum 0.9, pad-4
    crop and flip, option A, one view of each 32x32 test image. Like the paper, which fixed its
    schedule on a 45k/5k split and then trained, the schedule is fixed in advance and the run trains
    on all 50,000 training images (no validation split); the model is the LAST weights of that
    schedule: nothing is chosen, and the test error logged at every epoch is only reported.

    Deviations, each measured at 15 epochs in ``benchmarks/accuracy_ablation.py`` (docs/benchmarks.md):
    a one-cycle schedule (rising to 0.1 over the first quarter, then cosine to nearly 0) for 130
    epochs (50.7k iterations) instead of 0.1 divided by 10 at 32k and 48k of 64k; Nesterov momentum;
    weight decay 5e-4 instead of 1e-4; label smoothing 0.1; and on the machine side
    ``torch.compile`` and bf16 autocast with fp32 weights where the CPU has bf16 units.
    """
    return {
        "epochs": FAST_EPOCHS,
        "iterations": None,
        "batch_size": 128,
        "lr": 0.1,
        "momentum": 0.9,
        "nesterov": True,
        "weight_decay": 5e-4,
        "label_smoothing": 0.1,
        "schedule": "onecycle",
        "crop_padding": 4,
        "hflip": True,
        "val_size": 0,
        "compile": True,
        "test_eval": "every",
    }


def _plateau(*, batch_size: int, lr: float, weight_decay: float, epochs: int | None) -> dict[str, Any]:
    """The shared shape of the ImageNet recipes: SGD momentum 0.9, /10 on a validation plateau."""
    return {
        "epochs": epochs,
        "iterations": None,
        "batch_size": batch_size,
        "lr": lr,
        "momentum": 0.9,
        "nesterov": False,
        "weight_decay": weight_decay,
        "schedule": "plateau",
        "gamma": 0.1,
        "plateau_patience": 5,
        "crop_padding": 4,
        "hflip": True,
    }


def recipe_overrides(name: str, model: str) -> dict[str, Any]:
    """The overrides recipe ``name`` makes for ``model``; unknown names raise ``UnknownNameError``."""
    if name not in RECIPES:
        raise UnknownNameError.nearest("recipe", name, RECIPES, "classicnets train --help")
    return RECIPES[name](model_info(model))


def make_config(model: str, dataset: str, out: str, recipe: str | None = None, **options: Any) -> TrainConfig:
    """A validated ``TrainConfig``: defaults, then the recipe's values, then ``options``.

    Giving ``epochs`` or ``iterations`` in ``options`` replaces the recipe's length entirely.
    """
    base = {"model": model, "dataset": dataset, "out": out, "recipe": recipe}
    base.update(recipe_overrides(recipe, model) if recipe else {})
    return TrainConfig.from_dict(merge_options(base, options)).validate()
