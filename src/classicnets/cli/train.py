"""``classicnets train``, ``classicnets eval`` and ``classicnets predict``: thin layers over
``classicnets.train``.

Training options default to "not given" (``argparse.SUPPRESS``), so exactly the options a user
typed override the recipe (``--recipe``) or, with ``--resume``, are checked against the run.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ..errors import ConfigError
from ..train import RECIPES, evaluate, make_config, predict, resume, train
from ..train.config import TrainConfig, format_duration
from ..train.distributed import is_main_process
from ..train.evaluate import TTA, save_confusion_png
from ..train.signals import signal_name
from .options import add_config_options, given

MAX_TABLE_CLASSES = 20  # larger confusion matrices go to the PNG only


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the train, eval and predict commands."""
    _register_train(sub)
    _register_eval(sub)
    _register_predict(sub)


GROUPS = {"run": "run", "data": "data", "length": "length (one of)", "optimizer": "optimizer and schedule"}
POSITIONAL = ("model",)  # TrainConfig fields given without a flag


def _register_train(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "train",
        help="train a model on a dataset",
        description="Train MODEL on a dataset into the run folder --out (metrics.jsonl, last/best.safetensors, "
        "last.state.pt). Under torchrun every process trains on its shard and --batch-size stays the global batch. "
        f"Recipes: {', '.join(RECIPES)}; options you give override the recipe's, and the defaults shown are "
        "those without a recipe. The same command with --resume DIR added continues that run, when its options "
        "match the run's.",
        argument_default=argparse.SUPPRESS,
    )
    p.add_argument("--resume", metavar="DIR", help="continue the run in DIR exactly where it stopped")
    add_config_options(p, TrainConfig, GROUPS, POSITIONAL, choices={"recipe": list(RECIPES)})
    p.set_defaults(func=_train)


def _train(args: argparse.Namespace) -> int:
    options = given(args, TrainConfig)
    model = options.pop("model", None)
    if hasattr(args, "resume"):
        run_dir = args.resume
        out = options.pop("out", None)
        if out is not None and Path(out).resolve() != Path(run_dir).resolve():
            raise ConfigError(f"--out {out} is not the run folder being resumed ({run_dir}); drop --out or make them equal")
        result = resume(run_dir, **({"model": model} if model else {}), **options)
    else:
        dataset, out = options.pop("dataset", None), options.pop("out", None)
        if not (model and dataset and out):
            raise ConfigError("train needs MODEL, --dataset and --out (or --resume DIR)")
        result = train(make_config(model, dataset, out, **options))
    if result.signal is not None:
        if is_main_process():
            print(stopped_by_signal_line(result.signal, result.steps, result.total_steps,
                                         f"classicnets train --resume {result.out}"))  # fmt: skip
        return 128 + result.signal
    if is_main_process() and result.stopped:
        limit = format_duration(options["stop_after"]) if "stop_after" in options else "?"
        print(
            f"stopped at the segment limit (--stop-after {limit}) after step {result.steps:,} of {result.total_steps:,} "
            f"({result.epochs:.2f} epochs, {result.wall_time:.1f}s of training in all); the checkpoint is saved. "
            f"Continue with: classicnets train --resume {result.out} (add --stop-after for another segment)"
        )
    elif is_main_process():
        best = (
            ""
            if result.best_val_error is None
            else f"; best val error {result.best_val_error:.2%} (step {result.best_step})"
        )
        test = "" if result.test_error is None else f"; test error {result.test_error:.2%}"
        print(
            f"done: {result.steps} steps ({result.epochs:.2f} epochs) in {result.wall_time:.1f}s{best}{test}; "
            f"run folder {result.out}"
        )
    return 0


def stopped_by_signal_line(signum: int, step: int, total_steps: int, command: str) -> str:
    """What a run stopped by SIGTERM or SIGINT prints: where it stopped and how to continue. Its exit
    status is 128 + the signal's number (143, 130), as a process ended by that signal."""
    if not step:
        return f"stopped by {signal_name(signum)} before the first step: nothing to save; run the same command again"
    return f"stopped by {signal_name(signum)} at step {step:,} of {total_steps:,}, its checkpoint saved. Continue with: {command}"


def _register_eval(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "eval",
        help="evaluate a trained run: error and confusion matrix",
        description="Evaluate RUN (a run folder: best.safetensors, else last; or a .safetensors file) on a dataset "
        "split; prints the error and the confusion matrix and writes it as confusion.png next to the weights.",
    )
    p.add_argument("run", help="run folder, .safetensors file, or the name of a model with shipped weights")
    p.add_argument("--dataset", help="dataset (default: the run's own)")
    p.add_argument("--data-dir", help="folder holding the datasets")
    p.add_argument("--download", action="store_true", help="download the dataset if missing")
    p.add_argument("--split", choices=("test", "val", "train"), default="test", help="split (default test)")
    p.add_argument("--batch-size", type=int, default=256, help="evaluation batch size (default 256)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default auto)")
    p.add_argument("--png", type=Path, help="where to write the confusion matrix (default RUN/confusion.png)")
    p.add_argument("--tta", choices=TTA, default="none",
                   help="test-time augmentation: flip averages each image's softmax with its mirror's (for photos "
                   "such as CIFAR's, not for digits); default none, one view, as every published figure")  # fmt: skip
    p.set_defaults(func=_eval)


def _eval(args: argparse.Namespace) -> int:
    if args.batch_size < 1:
        raise ConfigError(f"--batch-size must be positive, got {args.batch_size}")
    result = evaluate(
        args.run,
        args.dataset,
        data_dir=args.data_dir,
        download=args.download,
        split=args.split,
        batch_size=args.batch_size,
        device=args.device,
        tta=args.tta,
    )
    run = Path(args.run)
    png = args.png or (run if run.is_dir() else run.parent) / "confusion.png"
    console = Console()
    wrong = round(result.error * result.count)
    console.print(
        f"{result.split} error {result.error:.2%} ({wrong}/{result.count}) on {result.dataset}, loss {result.loss:.4f}"
        + (", flip TTA" if args.tta == "flip" else ""),
        highlight=False,
    )
    if len(result.classes) <= MAX_TABLE_CLASSES:
        table = Table(title="confusion matrix (rows: true class, columns: predicted)")
        table.add_column("true \\ pred")
        for name in result.classes:
            table.add_column(name, justify="right")
        for name, row in zip(result.classes, result.confusion.tolist(), strict=True):
            table.add_row(name, *(str(v) if v else "." for v in row))
        console.print(table)
    save_confusion_png(result, png)  # after printing: an unwritable --png loses no result
    console.print(f"confusion matrix written to {png}", highlight=False)
    return 0


def _register_predict(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "predict",
        help="classify image files with a trained run",
        description="Top-K classes of each IMAGE, converted, resized and normalised as the run's training data was.",
    )
    p.add_argument("run", help="run folder, .safetensors file, or the name of a model with shipped weights")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files")
    p.add_argument("--topk", type=int, default=5, help="classes to show per image (default 5)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default auto)")
    p.set_defaults(func=_predict)


def _predict(args: argparse.Namespace) -> int:
    results = predict(args.run, args.images, topk=args.topk, device=args.device)
    for path, top in zip(args.images, results, strict=True):
        print(path)
        for name, prob in top:
            print(f"  {prob:7.2%}  {name}")
    return 0
