"""Training, evaluation and prediction for the classic CNNs: the Python API behind ``classicnets
train``, ``classicnets eval`` and ``classicnets predict``.

::

    from classicnets.train import make_config, train, resume, evaluate, predict, load_run

    result = train(make_config("lenet5_modern", "mnist", "runs/lenet", data_dir="../shared/data"))
    result.best_val_error, result.test_error
    evaluate("runs/lenet").error                      # test error of best.safetensors
    predict("runs/lenet", ["seven.png"], topk=3)      # [[("7", 0.99), ...]]
    model = load_run("runs/lenet/best.safetensors").model

Modules, one job each: ``config`` (TrainConfig and its validation), ``recipes`` (the papers'
presets), ``schedules`` (learning rates), ``checkpoint`` (files), ``loop`` (train/resume),
``metrics`` (jsonl log, progress), ``evaluate`` (evaluate/predict), ``device`` (device and
precision), ``distributed`` (torchrun/DDP).
"""

from .checkpoint import CheckpointMeta, LoadedRun, load_run, load_weights, read_meta, read_weights
from .config import TrainConfig
from .device import choose_precision
from .evaluate import EvalResult, SplitResult, evaluate, evaluate_split, predict
from .loop import TrainingDiverged, TrainResult, resume, train
from .metrics import read_metrics
from .recipes import RECIPES, make_config

__all__ = [
    "RECIPES",
    "CheckpointMeta",
    "EvalResult",
    "LoadedRun",
    "SplitResult",
    "TrainConfig",
    "TrainResult",
    "TrainingDiverged",
    "choose_precision",
    "evaluate",
    "evaluate_split",
    "load_run",
    "load_weights",
    "make_config",
    "predict",
    "read_meta",
    "read_metrics",
    "read_weights",
    "resume",
    "train",
]
