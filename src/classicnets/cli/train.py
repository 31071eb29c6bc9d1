"""``classicnets train``, ``classicnets eval`` and ``classicnets predict``: thin layers over
``classicnets.train``.

Training options default to "not given" (``argparse.SUPPRESS``), so exactly the options a user
typed override the recipe (``--recipe``) or, with ``--resume``, are checked against the run.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from ..errors import ConfigError
from ..train import RECIPES, evaluate, make_config, predict, resume, train
from ..train.config import PRECISIONS, SCHEDULES, TEST_EVALS
from ..train.distributed import is_main_process
from ..train.evaluate import save_confusion_png

MAX_TABLE_CLASSES = 20  # larger confusion matrices go to the PNG only


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the train, eval and predict commands."""
    _register_train(sub)
    _register_eval(sub)
    _register_predict(sub)


def _register_train(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "train",
        help="train a model on a dataset",
        description="Train MODEL on a dataset into the run folder --out (metrics.jsonl, last/best.safetensors, "
        "last.state.pt). Under torchrun every process trains on its shard and --batch-size stays the global batch. "
        f"Recipes: {', '.join(RECIPES)}; options you give override the recipe's.",
        argument_default=argparse.SUPPRESS,
    )
    p.add_argument("model", nargs="?", help="model name (see 'classicnets list'); not needed with --resume")
    p.add_argument("--dataset", help="mnist, fashion-mnist, cifar10, cifar100, digits or folder:PATH")
    p.add_argument("--out", help="run folder to create")
    p.add_argument("--resume", metavar="DIR", help="continue the run in DIR exactly where it stopped")
    p.add_argument("--recipe", choices=list(RECIPES), help="a paper's training recipe")
    data = p.add_argument_group("data")
    data.add_argument("--data-dir", help="folder holding the datasets (default: the usual places)")
    data.add_argument("--download", action="store_true", help="download the dataset if missing")
    data.add_argument("--val-size", type=_count_or_fraction, help="validation images (count or fraction; 0: none)")
    data.add_argument("--split-seed", type=int, help="seed of the train/validation split (default 0)")
    data.add_argument("--subset", type=int, metavar="N", help="train on N training images only (quick runs)")
    data.add_argument("--input-size", type=int, metavar="H", help="input side instead of the model card's")
    data.add_argument("--crop-padding", type=int, metavar="P", help="random crops after P pixels of padding")
    data.add_argument("--hflip", action=argparse.BooleanOptionalAction, help="random horizontal flips")
    data.add_argument(
        "--model-arg",
        dest="model_args",
        action="append",
        type=_key_value,
        metavar="KEY=VALUE",
        help="keyword argument for the model builder, e.g. head=cifar (repeatable)",
    )
    length = p.add_argument_group("length (one of)")
    length.add_argument("--epochs", type=int, help="passes over the training data (default 3)")
    length.add_argument("--iterations", type=int, help="optimizer steps")
    opt = p.add_argument_group("optimizer and schedule")
    opt.add_argument("--batch-size", type=int, help="global batch size (default 64)")
    opt.add_argument("--lr", type=float, help="base (peak) learning rate (default 0.05)")
    opt.add_argument("--momentum", type=float, help="SGD momentum (default 0.9)")
    opt.add_argument("--nesterov", action=argparse.BooleanOptionalAction, help="Nesterov momentum (default on)")
    opt.add_argument("--weight-decay", type=float, help="L2 weight decay (default 5e-4)")
    opt.add_argument("--label-smoothing", type=float, help="label smoothing (default 0)")
    opt.add_argument("--schedule", choices=SCHEDULES, help="learning-rate schedule (default onecycle)")
    opt.add_argument("--milestones", type=float, nargs="+", help="step/piecewise boundaries (see --milestone-unit)")
    opt.add_argument("--milestone-unit", choices=("epoch", "step"), help="unit of --milestones (default epoch)")
    opt.add_argument("--gamma", type=float, help="rate factor at each milestone or plateau (default 0.1)")
    opt.add_argument("--lr-factors", type=float, nargs="+", help="piecewise: rate factor of each segment")
    opt.add_argument("--plateau-patience", type=int, help="plateau: epochs without improvement (default 5)")
    opt.add_argument("--warmup-lr", type=float, help="rate until the training error falls below --warmup-until-error")
    opt.add_argument("--warmup-until-error", type=float, help="warm-up ends below this training error (default 0.8)")
    run = p.add_argument_group("run")
    run.add_argument("--seed", type=int, help="seed of initialisation, order and augmentation (default 0)")
    run.add_argument("--eval-every", type=int, metavar="N", help="evaluate, log and save every N steps too")
    run.add_argument("--test-eval", choices=TEST_EVALS,
                     help="evaluate the test split at every logging point, only when validation improves, or at the end")
    run.add_argument("--device", help="auto, cpu, cuda or cuda:N (default auto)")
    run.add_argument("--precision", choices=PRECISIONS, help="bf16 autocast or fp32 (default auto)")
    run.add_argument("--channels-last", action=argparse.BooleanOptionalAction, help="NHWC memory (default: on CUDA)")
    run.add_argument("--compile", action="store_true", help="torch.compile the model")
    run.add_argument("--threads", type=int, help="CPU threads (torch.set_num_threads)")
    run.add_argument("--deterministic", action="store_true", help="deterministic kernels (exact resume on CUDA)")
    run.add_argument("--tensorboard", action="store_true", help="also log to DIR/tensorboard")
    run.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    p.set_defaults(func=_train)


def _count_or_fraction(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() and "." not in text else value


def _key_value(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def _train(args: argparse.Namespace) -> int:
    options = vars(args).copy()
    for key in ("command", "func"):
        options.pop(key, None)
    if "model_args" in options:
        options["model_args"] = dict(options["model_args"])
    for key in ("milestones", "lr_factors"):
        if key in options:
            options[key] = tuple(options[key])
    model = options.pop("model", None)
    if "resume" in options:
        run_dir = options.pop("resume")
        if "out" in options:
            raise ConfigError("give --resume DIR alone: the run folder is DIR")
        result = resume(run_dir, **({"model": model} if model else {}), **options)
    else:
        dataset, out = options.pop("dataset", None), options.pop("out", None)
        if not (model and dataset and out):
            raise ConfigError("train needs MODEL, --dataset and --out (or --resume DIR)")
        result = train(make_config(model, dataset, out, **options))
    if is_main_process():
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
    )
    run = Path(args.run)
    png = args.png or (run if run.is_dir() else run.parent) / "confusion.png"
    console = Console()
    wrong = round(result.error * result.count)
    console.print(
        f"{result.split} error {result.error:.2%} ({wrong}/{result.count}) on {result.dataset}, loss {result.loss:.4f}",
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
