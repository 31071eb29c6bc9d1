"""`classicnets experiment degradation | identity | lenet-ablation`."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from ..errors import ConfigError
from ..experiments import (
    BUDGET_HELP,
    BUDGETS,
    AblationConfig,
    DegradationConfig,
    Stopped,
    run_degradation,
    run_identity,
    run_lenet_ablation,
)
from ..train.config import PRECISIONS, parse_duration
from .output import console


def _command_line(argv: list[str] | None = None) -> str:
    """The command that reproduces this run, for its report: ``classicnets`` and its options, run as
    the console script or as ``python -m classicnets``, without ``--stop-after``, which only bounds
    one segment. Empty when classicnets was called from Python."""
    argv = sys.argv if argv is None else argv
    if not argv or Path(argv[0]).name not in ("classicnets", "__main__.py"):
        return ""
    words, rest = [], iter(argv[1:])
    for word in rest:
        if word == "--stop-after":
            next(rest, None)  # and its value
        elif not word.startswith("--stop-after="):
            words.append(word)
    return "classicnets " + shlex.join(words)


def cmd_degradation(args: argparse.Namespace) -> int:
    if args.seed is not None and args.seeds:
        raise ConfigError("give --seed N or --seeds N [N ...], not both")
    seeds = tuple(args.seeds) if args.seeds else (args.seed or 0,)
    cfg = DegradationConfig(
        out=args.out, dataset=args.dataset, depths=tuple(args.depths) if args.depths else None,
        budget=args.budget, seeds=seeds, data_dir=args.data_dir, subset=args.subset,
        iterations=args.iterations, device=args.device, progress=not args.no_progress,
        stop_after=args.stop_after, extra={"precision": args.precision},
    )  # fmt: skip
    if cfg.stop_after is not None:
        parse_duration(cfg.stop_after)  # a bad limit is refused before anything trains
    results = run_degradation(cfg, command=_command_line())
    if isinstance(results, Stopped):
        done = ", ".join(results.finished) or "none yet"
        print(f"stopped at the segment limit (--stop-after {args.stop_after}) in {results.network} (seed {results.seed}) "
              f"after step {results.step:,} of {results.total_steps:,}, its checkpoint saved; finished: {done}. "
              "Continue with the same command (a finished network is not trained again)")  # fmt: skip
        return 0
    for sentence in [*results["trend"]["sentences"], *results["verdict"]["sentences"]]:
        print(sentence)
    print(f"wrote {args.out}/results.json, report.md, degradation.png")
    return 0


def cmd_identity(args: argparse.Namespace) -> int:
    rows = run_identity(batch_norm=not args.no_bn)
    table = Table(title=escape("W[l+2] = 0 and b[l+2] = b: what does the block return?"))
    for col in ("block", "shortcut", "shape", "b", "max |a[l+2] - a[l]|", "max |a[l+2]|", "returns"):
        table.add_column(escape(col))
    for r in rows:
        diff = "n/a (shape differs)" if r.max_diff_from_input is None else f"{r.max_diff_from_input:.3g}"
        cells = (r.block, r.shortcut, r.shape, f"{r.last_bias:g}", diff, f"{r.max_abs_output:.3g}", r.returns)
        table.add_row(*map(escape, cells))
    console().print(table)
    return 0


def cmd_why(args: argparse.Namespace) -> int:
    from ..serve.why import WhyLab  # the explorer's cached measurements, the same numbers as its page

    lab = WhyLab(args.data_dir)
    g = lab.gradients()
    table = Table(title=f"||dL/dW|| at initialisation, {g['images']} CIFAR-10 test images (first, middle, last conv; spread)")
    for col in ("network", "first conv", "middle conv", "last conv", "max / min over the convs"):
        table.add_column(col)
    for name, rows in g["models"].items():
        convs = [r["norm"] for r in rows[:-1]]
        table.add_row(name, f"{convs[0]:.3g}", f"{convs[len(convs) // 2]:.3g}", f"{convs[-1]:.3g}", f"{max(convs) / min(convs):,.1f}")
    console().print(table)
    r, d = lab.ratios(), lab.removals()
    table = Table(title=f"shipped resnet20 ({r['weights']}): each block, {d['images']} test images for the accuracy")
    for col in ("block", "shortcut", "||F(x)|| / ||shortcut(x)||", "accuracy without it"):
        table.add_column(col)
    for ratio, removal in zip(r["blocks"], d["resnet"]["blocks"], strict=True):
        table.add_row(ratio["block"], ratio["shortcut"], f"{ratio['ratio']:.2f}", f"{removal['accuracy']:.1%}")
    console().print(table)
    print(f"whole network: {d['resnet']['accuracy']:.1%}; plain network: {d['plain_note'] or d['plain']['model']}")
    return 0


def cmd_lenet_ablation(args: argparse.Namespace) -> int:
    cfg = AblationConfig(out=args.out, dataset=args.dataset, seeds=tuple(args.seeds), epochs=args.epochs,
                         data_dir=args.data_dir, subset=args.subset, device=args.device,
                         progress=not args.no_progress)  # fmt: skip
    results = run_lenet_ablation(cfg, command=_command_line())
    table = Table(title=f"LeNet-5 on {cfg.dataset}: test error over {len(cfg.seeds)} seeds")
    for col in ("variant", "test error (mean +- std)", "val error"):
        table.add_column(col)
    for name, r in results["variants"].items():
        table.add_row(name, f"{r['test_error_mean']:.2%} +- {r['test_error_std']:.2%}", f"{r['val_error_mean']:.2%}")
    console().print(table)
    print(f"wrote {args.out}/results.json, report.md")
    return 0


def _common(p: argparse.ArgumentParser, out: str, dataset: str) -> None:
    p.add_argument("--out", default=out, help=f"output folder (default {out})")
    p.add_argument("--dataset", default=dataset, help=f"dataset name (default {dataset})")
    p.add_argument("--data-dir", help="where the dataset lives (see 'classicnets train --help')")
    p.add_argument("--subset", type=int, help="train on this many images only (quick checks)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def register(sub: argparse._SubParsersAction) -> None:
    exp = sub.add_parser("experiment", help="reproduce the case studies' claims")
    esub = exp.add_subparsers(dest="experiment", required=True, metavar="EXPERIMENT")

    p = esub.add_parser("degradation", help="plain vs residual nets at several depths (He et al. Fig. 6)")
    _common(p, "runs/degradation", "cifar10")
    p.add_argument("--depths", type=int, nargs="+", help="6n+2 depths (default: the budget's)")
    p.add_argument("--budget", choices=list(BUDGETS), default="quick", help=BUDGET_HELP)
    p.add_argument("--iterations", type=int, help="override the budget's iterations per network (the rate drops scale with it)")
    p.add_argument("--seed", type=int, help="the seed of a one-seed run (default 0)")
    p.add_argument("--seeds", type=int, nargs="+", metavar="N",
                   help="several seeds: each network trains once per seed, and the report measures the spread")
    p.add_argument("--precision", choices=PRECISIONS, default="auto",
                   help="auto: bf16 autocast where the CPU or GPU has bf16 units (as in train); fp32: the paper's arithmetic")
    p.add_argument("--stop-after", metavar="DURATION",
                   help="end this process cleanly after this much wall time (e.g. 150m, 2h): the network in training "
                   "stops at its next logging point with its checkpoint saved; the same command continues")
    p.set_defaults(func=cmd_degradation)

    p = esub.add_parser("identity", help="what a block returns when its last W and b are zero")
    p.add_argument("--no-bn", action="store_true", help="blocks without batch norm (zero the conv's W and b)")
    p.set_defaults(func=cmd_identity)

    p = esub.add_parser("why", help="why residual networks train: gradients, ||F(x)||/||x||, removing a block")
    p.add_argument("--data-dir", help="where CIFAR-10 lives (see 'classicnets train --help')")
    p.set_defaults(func=cmd_why)

    p = esub.add_parser("lenet-ablation", help="LeNet-5: average vs max pooling, tanh vs ReLU")
    _common(p, "runs/lenet-ablation", "mnist")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--epochs", type=int, default=3)
    p.set_defaults(func=cmd_lenet_ablation)
