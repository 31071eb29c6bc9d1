"""The degradation experiment of He et al. 2015 (Fig. 1 and Fig. 6): plain networks train worse as
they get deeper; residual networks of the same depths train better.

``run_degradation`` trains ``plainN`` and ``resnetN`` for each depth with one recipe and one seed
(He et al.'s CIFAR-10 recipe, ``resnet-cifar``), records training error (a running average over
each logging window, the paper's thin lines) and test error, and writes

    OUT/results.json      the curves and the verdict
    OUT/report.md         the verdict in words, with the final errors
    OUT/degradation.png   two panels like Fig. 6: plain nets left, ResNets right
    OUT/runs/<model>/     each model's training run (resumable; a finished one is not retrained)

Test error is only reported; nothing is chosen on it.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..train import TrainConfig, make_config, read_metrics, resume, train
from ..train.checkpoint import STATE, read_state
from ..train.config import RUNTIME_FIELDS

PAPER_ITERATIONS = 64_000


@dataclass(frozen=True)
class Budget:
    """How long each network trains. Everything else is the paper's recipe."""

    iterations: int
    milestones: tuple[int, int]  # lr / 10 at these iterations
    depths: tuple[int, ...]
    eval_every: int
    cuts: str  # what this budget cuts from the paper, in words


BUDGETS: dict[str, Budget] = {
    "paper": Budget(
        PAPER_ITERATIONS, (32_000, 48_000), (20, 32, 44, 56), 1_000,
        "nothing: the paper's 64k iterations (about 182 epochs) for depths 20, 32, 44, 56; meant for a GPU",
    ),
    "quick": Budget(
        2_800, (1_400, 2_100), (20, 32), 400,
        "iterations: 2,800 instead of 64,000 (lr / 10 at 1,400 and 2,100 instead of 32k and 48k: "
        "the same halfway and three-quarter points), and depths: 20 and 32 only; batch, lr, momentum, "
        "weight decay, augmentation and the 45k/5k split are the paper's",
    ),
}


@dataclass
class DegradationConfig:
    out: str
    dataset: str = "cifar10"
    depths: tuple[int, ...] | None = None  # None: the budget's
    budget: str = "quick"
    seed: int = 0
    data_dir: str | None = None
    subset: int | None = None  # train on a subset (tests)
    iterations: int | None = None  # override the budget's (tests)
    device: str = "auto"
    progress: bool = True
    extra: dict[str, Any] = field(default_factory=dict)  # further TrainConfig options

    def plan(self) -> tuple[Budget, tuple[int, ...], int]:
        if self.budget not in BUDGETS:
            raise ConfigError(f"unknown --budget {self.budget!r}; choose quick or paper")
        b = BUDGETS[self.budget]
        depths = tuple(self.depths or b.depths)
        bad = [d for d in depths if (d - 2) % 6 or d < 8]
        if bad:
            raise ConfigError(f"depths must be 6n+2 (20, 32, 44, 56, 110), got {bad}")
        if len(depths) < 2:
            raise ConfigError("give at least two depths to compare")
        return b, depths, self.iterations or b.iterations


# ---- curves and the verdict (pure functions, tested on synthetic curves) --------------------


@dataclass
class Curve:
    """One model's curves; errors are fractions in [0, 1]."""

    model: str
    steps: list[int]
    train_error: list[float]
    test_error: list[float | None]


def curve_from_metrics(model: str, records: list[dict[str, Any]]) -> Curve:
    """Keep one record per step (the last), in step order."""
    by_step = {int(r["step"]): r for r in records}
    steps = sorted(by_step)
    return Curve(
        model,
        steps,
        [float(by_step[s]["train_error"]) for s in steps],
        [by_step[s].get("test_error") for s in steps],
    )


def late_mean(curve: Curve, up_to: int, values: str = "train_error", tail: float = 0.25) -> float | None:
    """Mean of a curve over its last ``tail`` share of iterations up to ``up_to`` (inclusive)."""
    lo = up_to * (1 - tail)
    pts = [v for s, v in zip(curve.steps, getattr(curve, values)) if lo <= s <= up_to and v is not None]
    return sum(pts) / len(pts) if pts else None


@dataclass(frozen=True)
class Verdict:
    at_iteration: int
    shallow: int
    deep: int
    plain_train: tuple[float, float]  # shallow, deep
    resnet_train: tuple[float, float]
    plain_test: tuple[float | None, float | None]
    resnet_test: tuple[float | None, float | None]
    plain_degrades: bool  # deeper plain net has higher training error
    resnet_improves: bool  # deeper ResNet's training error is at or below the shallow one's
    reproduced: bool  # both of the above
    residual_fixes_deep: bool  # at the deeper depth, the ResNet trains better than the plain net

    def sentences(self) -> list[str]:
        s, d, it = self.shallow, self.deep, self.at_iteration
        ps, pd = self.plain_train
        rs, rd = self.resnet_train
        return [
            f"Plain nets: plain-{d} ends with {pd:.2%} training error against plain-{s}'s {ps:.2%} "
            f"(mean of the last quarter, up to iteration {it:,}): "
            + ("the deeper plain net trains WORSE - degradation reproduced." if self.plain_degrades
               else "the deeper plain net does not train worse - degradation NOT reproduced."),
            f"ResNets: resnet-{d} ends with {rd:.2%} training error against resnet-{s}'s {rs:.2%}: "
            + ("the deeper ResNet is at or below the shallow one - as the paper finds." if self.resnet_improves
               else "the deeper ResNet is ABOVE the shallow one - NOT as the paper finds."),
            f"Same depth: resnet-{d} {rd:.2%} against plain-{d} {pd:.2%} training error: "
            + ("the shortcuts make the deep network trainable." if self.residual_fixes_deep
               else "the shortcuts do NOT help the deep network here."),
        ]


def verdict(curves: dict[str, Curve], shallow: int, deep: int) -> Verdict:
    """Compare training error at equal iterations: the last iteration all four curves reached."""
    names = [f"plain{shallow}", f"plain{deep}", f"resnet{shallow}", f"resnet{deep}"]
    missing = [n for n in names if n not in curves or not curves[n].steps]
    if missing:
        raise ValueError(f"no curves for {', '.join(missing)}")
    at = min(max(curves[n].steps) for n in names)
    train = {n: late_mean(curves[n], at) for n in names}
    test = {n: late_mean(curves[n], at, "test_error") for n in names}
    p = (train[names[0]], train[names[1]])
    r = (train[names[2]], train[names[3]])
    assert None not in p and None not in r
    plain_degrades = p[1] > p[0]  # type: ignore[operator]
    resnet_improves = r[1] <= r[0]  # type: ignore[operator]
    return Verdict(
        at, shallow, deep, p, r,  # type: ignore[arg-type]
        (test[names[0]], test[names[1]]), (test[names[2]], test[names[3]]),
        plain_degrades, resnet_improves, plain_degrades and resnet_improves,
        r[1] < p[1],  # type: ignore[operator]
    )


# ---- figure and report ----------------------------------------------------------------------


def plot(curves: dict[str, Curve], depths: tuple[int, ...], path: Path, note: str = "") -> None:
    """Two panels like Fig. 6: training error dashed, test error bold, one colour per depth."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    colours = plt.get_cmap("viridis")
    for ax, kind, title in ((axes[0], "plain", "plain networks"), (axes[1], "resnet", "ResNets")):
        for i, d in enumerate(sorted(depths)):
            c = curves.get(f"{kind}{d}")
            if c is None:
                continue
            col = colours(0.85 * i / max(1, len(depths) - 1))
            label = f"{'plain' if kind == 'plain' else 'ResNet'}-{d}"
            ax.plot(c.steps, [100 * e for e in c.train_error], "--", color=col, lw=1.0)
            ts = [(s, 100 * e) for s, e in zip(c.steps, c.test_error) if e is not None]
            if ts:
                ax.plot(*zip(*ts), "-", color=col, lw=2.4, label=label)
        ax.set_title(title)
        ax.set_xlabel("iterations")
        ax.grid(alpha=0.3)
        ax.legend(title="bold: test, dashed: train", fontsize=8, title_fontsize=8)
    axes[0].set_ylabel("error (%)")
    if note:
        fig.suptitle(note, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def report_markdown(results: dict[str, Any]) -> str:
    v = results["verdict"]
    lines = [
        "# Degradation experiment",
        "",
        f"Command: `{results['command']}`",
        "",
        f"Dataset: {results['dataset']} (the CIFAR-10 copy here is JPEG-compressed, so errors run a "
        "little higher than on the original)" if results["dataset"] == "cifar10" else f"Dataset: {results['dataset']}",
        f"Budget: {results['budget']} - cuts {results['cuts']}.",
        f"Seed {results['seed']}; wall time {results['wall_time_s'] / 60:.1f} min.",
        "",
        "## Verdict",
        "",
        *[f"- {s}" for s in v["sentences"]],
        "",
        f"**Plain nets degrade with depth: {'yes' if v['plain_degrades'] else 'no'}. "
        f"The deeper ResNet trains at least as well as the shallower: {'yes' if v['resnet_improves'] else 'no'}. "
        f"The paper's claim is {'reproduced' if v['reproduced'] else 'NOT fully reproduced'} at this budget** "
        f"(compared at equal iterations: up to {v['at_iteration']:,}).",
        "",
        "## Final errors (mean over the last quarter of training)",
        "",
        "| model | training error | test error |",
        "| --- | --- | --- |",
    ]
    for name, row in results["final"].items():
        te = f"{row['test_error']:.2%}" if row["test_error"] is not None else "-"
        lines.append(f"| {name} | {row['train_error']:.2%} | {te} |")
    lines += ["", "![degradation](degradation.png)", ""]
    return "\n".join(lines)


# ---- the run --------------------------------------------------------------------------------


def _finished(run: Path, iterations: int) -> bool:
    log = run / "metrics.jsonl"
    return log.exists() and any(int(r["step"]) >= iterations for r in read_metrics(log))


def check_same_plan(run: Path, plan: TrainConfig) -> None:
    """Refuse to resume or reuse ``run`` if it was trained with another plan (budget, seed, ...).

    The plan is every option but the runtime ones (``RUNTIME_FIELDS``) and ``out``, except that
    the length counts here: the budget fixes it.
    """
    saved = TrainConfig.from_dict(read_state(run / STATE)["config"])
    ignored = (RUNTIME_FIELDS | {"out"}) - {"epochs", "iterations"}
    differ = [f.name for f in fields(TrainConfig) if f.name not in ignored and getattr(saved, f.name) != getattr(plan, f.name)]
    if differ:
        what = ", ".join(f"{k} {getattr(saved, k)} (now {getattr(plan, k)})" for k in differ)
        raise ConfigError(f"{run} was trained with another plan: {what}; give a new --out, or delete that folder")


def run_degradation(cfg: DegradationConfig, command: str = "") -> dict[str, Any]:
    """Train every plain/residual pair (resuming unfinished runs, skipping finished ones), then
    write results.json, report.md and degradation.png to ``cfg.out``."""
    budget, depths, iterations = cfg.plan()
    scale = iterations / budget.iterations
    milestones = tuple(max(1, round(m * scale)) for m in budget.milestones)
    eval_every = max(1, round(budget.eval_every * scale))
    out = Path(cfg.out)
    (out / "runs").mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    curves: dict[str, Curve] = {}
    train_time = 0.0
    for depth in sorted(depths):
        for kind in ("plain", "resnet"):
            name = f"{kind}{depth}"
            run = out / "runs" / name
            plan = make_config(
                name, cfg.dataset, str(run), recipe="resnet-cifar", iterations=iterations,
                milestones=milestones, eval_every=eval_every, seed=cfg.seed, data_dir=cfg.data_dir,
                subset=cfg.subset, device=cfg.device, progress=cfg.progress, **cfg.extra,
            )  # fmt: skip
            started_before = (run / STATE).exists()
            if started_before:
                check_same_plan(run, plan)
            if not _finished(run, iterations):
                if started_before:
                    resume(run, progress=cfg.progress, device=cfg.device)
                else:
                    train(plan)
            records = read_metrics(run / "metrics.jsonl")
            curves[name] = curve_from_metrics(name, records)
            train_time += float(records[-1]["wall_time"])  # the run's whole training, resumed sessions included
    v = verdict(curves, min(depths), max(depths))
    results: dict[str, Any] = {
        "command": command,
        "dataset": cfg.dataset,
        "budget": cfg.budget,
        "cuts": budget.cuts if iterations == budget.iterations else f"iterations: {iterations:,} (override)",
        "iterations": iterations,
        "milestones": list(milestones),
        "depths": list(depths),
        "seed": cfg.seed,
        "wall_time_s": train_time,  # training time of all runs, over all their sessions
        "this_invocation_s": time.perf_counter() - started,
        "curves": {n: asdict(c) for n, c in curves.items()},
        "final": {
            n: {"train_error": late_mean(c, v.at_iteration), "test_error": late_mean(c, v.at_iteration, "test_error")}
            for n, c in curves.items()
        },
        "verdict": {**asdict(v), "sentences": v.sentences()},
    }
    (out / "results.json").write_text(json.dumps(results, indent=2))
    (out / "report.md").write_text(report_markdown(results))
    plot(curves, depths, out / "degradation.png",
         note=f"{cfg.dataset}, {iterations:,} iterations per network, seed {cfg.seed}")
    return results
