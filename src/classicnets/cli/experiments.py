"""`classicnets experiment degradation | full-length | live-budget | identity | why | lenet-ablation`. The options of
the experiments that train are generated from their configs' fields (``cli/options.py``)."""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from ..experiments import (
    FULL_LENGTH_TIME,
    AblationConfig,
    DegradationConfig,
    FullLengthConfig,
    LiveBudgetConfig,
    Stopped,
    run_degradation,
    run_full_length,
    run_identity,
    run_lenet_ablation,
    run_live_budget,
)
from ..experiments.why import WhyLab
from ..train.config import format_duration
from ..train.signals import signal_name
from .options import add_config_options, given
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


Report = Callable[[Any, dict[str, Any]], None]  # an experiment's config and results -> what it prints


def _trains(config: type, run: Callable[..., Any], report: Report) -> Callable[[argparse.Namespace], int]:
    """The command of an experiment that trains: its config from the options, the run (what is
    missing of its grid), then ``report`` of the results, or the line saying where the segment
    stopped."""

    def command(args: argparse.Namespace) -> int:
        cfg = config(**given(args, config))
        results = run(cfg, command=_command_line())
        if isinstance(results, Stopped):
            return print_grid_stopped(results)
        report(cfg, results)
        return 0

    return command


def report_degradation(cfg: DegradationConfig, results: dict[str, Any]) -> None:
    for sentence in [*results["trend"]["sentences"], *results["verdict"]["sentences"]]:
        print(sentence)
    print(f"wrote {cfg.out}/results.json, report.md, degradation.png")


def print_grid_stopped(stopped: Stopped) -> int:
    """The line a grid experiment prints when its segment limit or a signal ended this process, and
    its exit status: 0 at the limit, 128 + the signal's number."""
    done = ", ".join(stopped.finished) or "none yet"
    limit = f" (--stop-after {format_duration(stopped.limit_s)})" if stopped.limit_s is not None else ""
    why = f"at the segment limit{limit}" if stopped.signal is None else f"by {signal_name(stopped.signal)}"
    print(f"stopped {why} in {stopped.network} (seed {stopped.seed}) after step {stopped.step:,} of "
          f"{stopped.total_steps:,}, its checkpoint saved; finished: {done}. "
          "Continue with the same command (a finished network is not trained again)")  # fmt: skip
    return 0 if stopped.signal is None else 128 + stopped.signal


def report_full_length(cfg: FullLengthConfig, results: dict[str, Any]) -> None:
    print(results["claim"])
    for sentence in results["sentences"]:
        print(sentence)
    print(f"wrote {cfg.out}/results.json, report.md, full-length.png")


def report_live_budget(cfg: LiveBudgetConfig, results: dict[str, Any]) -> None:
    table = Table(title=f"{cfg.deep} minus {cfg.shallow}: training error over {len(cfg.seeds)} seeds (points)")
    for col in ("iteration", "gap of the means", "spread of the seeds", "visible"):
        table.add_column(col)
    for p in results["points"]:
        table.add_row(f"{p['step']:,}", f"{100 * p['gap']:+.1f}", f"{100 * p['spread']:.1f}", "yes" if p["visible"] else "no")
    console().print(table)
    print(results["sentence"])
    print(f"wrote {cfg.out}/results.json")


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
    lab = WhyLab(args.data_dir)  # the same measurements as the explorer's page
    g = lab.gradients()
    table = Table(title=f"||dL/dW|| at initialisation, {g['images']} CIFAR-10 test images (first, middle, last conv; spread)")
    for col in ("network", "first conv", "middle conv", "last conv", "max / min over the convs"):
        table.add_column(col)
    for name, rows in g["models"].items():
        convs = [r["norm"] for r in rows[:-1]]
        table.add_row(name, f"{convs[0]:.3g}", f"{convs[len(convs) // 2]:.3g}", f"{convs[-1]:.3g}", f"{max(convs) / min(convs):,.1f}")
    console().print(table)
    r, d = lab.ratios(), lab.removals()
    table = Table(title=f"{r['weights']}: each block, {d['images']} test images for the accuracy")
    for col in ("block", "shortcut", "||F(x)|| / ||shortcut(x)||", "accuracy without it"):
        table.add_column(col)
    for ratio, removal in zip(r["blocks"], d["resnet"]["blocks"], strict=True):
        table.add_row(ratio["block"], ratio["shortcut"], f"{ratio['ratio']:.2f}", f"{removal['accuracy']:.1%}")
    console().print(table)
    plain = d["plain"]
    if plain is not None:
        table = Table(title=f"{plain['weights']}: each block passed around, {d['images']} test images")
        for col in ("block", "passed around by", "accuracy without it"):
            table.add_column(col)
        for removal in plain["blocks"]:
            table.add_row(removal["block"], removal["shortcut"], f"{removal['accuracy']:.1%}")
        console().print(table)
    for sentence in d["sentences"]:
        print(sentence)
    return 0


def report_lenet_ablation(cfg: AblationConfig, results: dict[str, Any]) -> None:
    table = Table(title=f"LeNet-5 on {cfg.dataset}: test error over {len(cfg.seeds)} seeds")
    for col in ("variant", "test error (mean +- std)", "val error"):
        table.add_column(col)
    for name, r in results["variants"].items():
        table.add_row(name, f"{r['test_error_mean']:.2%} +- {r['test_error_std']:.2%}", f"{r['val_error_mean']:.2%}")
    console().print(table)
    print(f"wrote {cfg.out}/results.json, report.md")


GROUPS = {"plan": "what to train", "data": "data", "run": "run"}


def _experiment(esub: argparse._SubParsersAction, name: str, config: type, **kwargs: str) -> argparse.ArgumentParser:
    """An experiment's command, its options generated from its config's fields."""
    p = esub.add_parser(name, argument_default=argparse.SUPPRESS, **kwargs)
    add_config_options(p, config, GROUPS)
    return p


def register(sub: argparse._SubParsersAction) -> None:
    exp = sub.add_parser("experiment", help="reproduce the case studies' claims")
    esub = exp.add_subparsers(dest="experiment", required=True, metavar="EXPERIMENT")

    p = _experiment(esub, "degradation", DegradationConfig, help="plain vs residual nets at several depths (He et al. Fig. 6)")
    p.set_defaults(func=_trains(DegradationConfig, run_degradation, report_degradation))

    p = _experiment(
        esub, "full-length", FullLengthConfig,
        help="plain vs residual, 20 and 56 layers, each trained to the end (the lecture's figure)",
        description="Train plain20, resnet20, plain56 and resnet56 to the end of the resnet-cifar-fast recipe (what is "
        "missing, resumably) and draw the lecture's figure at full length: error against epochs, and the final "
        f"training error against depth. Time on 2 CPU cores with AVX512-BF16: {FULL_LENGTH_TIME}; about three "
        "times as long without bf16 units. Carry it over sittings with --stop-after.",
    )  # fmt: skip
    p.set_defaults(func=_trains(FullLengthConfig, run_full_length, report_full_length))

    p = _experiment(
        esub, "live-budget", LiveBudgetConfig,
        help="the smallest live-training budget at which a deep plain net's higher training error shows",
        description="Train a shallow and a deep network (plain20 and plain56 by default) with several seeds, each "
        "with the explorer's live plan (the paper's recipe at rate 0.1, so every shorter budget is a prefix), and "
        "find the first iteration from which the deep one's training error stays above the shallow one's beyond "
        "the seed-to-seed spread. About 9 min at the defaults on 2 CPU cores with AVX512-BF16 "
        "(measured 2026-12-07).",
    )  # fmt: skip
    p.set_defaults(func=_trains(LiveBudgetConfig, run_live_budget, report_live_budget))

    p = esub.add_parser("identity", help="what a block returns when its last W and b are zero")
    p.add_argument("--no-bn", action="store_true", help="blocks without batch norm (zero the conv's W and b)")
    p.set_defaults(func=cmd_identity)

    p = esub.add_parser("why", help="why residual networks train: gradients, ||F(x)||/||x||, removing a block")
    p.add_argument("--data-dir", help="where CIFAR-10 lives (see 'classicnets train --help')")
    p.set_defaults(func=cmd_why)

    p = _experiment(esub, "lenet-ablation", AblationConfig, help="LeNet-5: average vs max pooling, tanh vs ReLU")
    p.set_defaults(func=_trains(AblationConfig, run_lenet_ablation, report_lenet_ablation))
