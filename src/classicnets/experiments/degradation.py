"""The degradation experiment of He et al. 2015 (Fig. 1 and Fig. 6): plain networks train worse as
they get deeper; residual networks of the same depths train better.

``run_degradation`` trains ``plainN`` and ``resnetN`` for each depth of a budget, with the paper's
CIFAR-10 recipe (``resnet-cifar``: batch 128, lr 0.1 divided by 10 at 50% and 75% of the
iterations, weight decay 1e-4, momentum 0.9, option A, the 45k/5k split), for one seed or
several. It records training error (a running average over each logging window, the paper's thin
lines) and test error, and writes

    OUT/results.json      the curves, the final errors, the verdict and the depth trend
    OUT/report.md         the verdict in words, with the final errors
    OUT/degradation.png   plain nets, ResNets (Fig. 6), and final training error against depth
    OUT/runs/seed<N>/<model>/   each model's training run (resumable; a finished one is not retrained)

The lecture's picture is the third panel: training error against the number of layers. The
report says, for each family, whether the error rises or falls at every step of depth, and how
big each step is against the seed-to-seed spread; a step within the spread is a tie, never a win.
Test error is only reported; nothing is chosen on it.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import time
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from ..data import find_data
from ..errors import ConfigError
from ..train import TrainConfig, make_config, read_metrics, resume, train
from ..train.checkpoint import STATE, read_state
from ..train.config import RUNTIME_FIELDS, parse_duration
from ..train.loop import SEGMENTS

PAPER_ITERATIONS = 64_000
# With one seed there is no spread of one's own. A step of depth must then exceed this many points of
# training error to count as a rise or a fall: about twice the seed-to-seed standard deviation of the
# ResNet-32 minus ResNet-20 difference over 3 seeds of the quick budget (0.45 points; docs/results.md).
ONE_SEED_SPREAD = 1.0
MIN_SPREAD = 0.25  # points: the least threshold even when a few seeds happen to agree closely


@dataclass(frozen=True)
class Budget:
    """How long each network trains. Everything else is the paper's recipe."""

    iterations: int
    milestones: tuple[int, int]  # lr / 10 at these iterations
    depths: tuple[int, ...]
    eval_every: int
    cuts: str  # what this budget cuts from the paper, in words
    resnet_only: tuple[int, ...] = ()  # depths trained as ResNets only (Fig. 6 has no plain-110)
    compile: bool = False  # torch.compile each network (pays off on long runs)
    log_epochs: bool = True  # also evaluate at each epoch's end (off: only every eval_every iterations)


SWEEP_ITERATIONS = 4_600  # as many as fit in 120 minutes on 2 CPU cores with AMX bf16: docs/results.md
BUDGETS: dict[str, Budget] = {
    "quick": Budget(
        2_800, (1_400, 2_100), (20, 32), 400,
        "iterations: 2,800 instead of 64,000 (lr / 10 at 1,400 and 2,100 instead of 32k and 48k: "
        "the same halfway and three-quarter points), and depths: 20 and 32 only; batch, lr, momentum, "
        "weight decay, augmentation and the 45k/5k split are the paper's",
    ),
    "sweep": Budget(
        SWEEP_ITERATIONS, (SWEEP_ITERATIONS // 2, SWEEP_ITERATIONS * 3 // 4), (20, 32, 44, 56), SWEEP_ITERATIONS // 10,
        f"iterations: {SWEEP_ITERATIONS:,} instead of 64,000 (lr / 10 at 50% and 75%, as 32k and 48k of 64k), "
        "and depth 110 left out; depths 20, 32, 44, 56, batch, lr, momentum, weight decay, augmentation and "
        "the 45k/5k split are the paper's",
        compile=True,
        log_epochs=False,
    ),
    "paper": Budget(
        PAPER_ITERATIONS, (32_000, 48_000), (20, 32, 44, 56, 110), 1_000,
        "nothing: the paper's 64k iterations (about 182 epochs) for plain-20 to 56 and ResNet-20 to 110, "
        "with ResNet-110's warm-up; meant for a GPU",
        resnet_only=(110,),
        compile=True,
        log_epochs=False,
    ),
}
BUDGET_HELP = (
    "quick: depths 20 and 32, 2,800 iterations, about 40 min on 2 CPU cores with AVX512-BF16; "
    f"sweep: depths 20, 32, 44 and 56, {SWEEP_ITERATIONS:,} iterations, about 120 min on 2 CPU cores with "
    "bf16 units (AMX), about 12 h on 2 cores without them (fp32); "
    "paper: plain-20 to 56 and ResNet-20 to 110, 64k iterations (for a GPU: --device cuda)"
)


@dataclass
class DegradationConfig:
    out: str
    dataset: str = "cifar10"
    depths: tuple[int, ...] | None = None  # None: the budget's
    budget: str = "quick"
    seeds: tuple[int, ...] = (0,)
    data_dir: str | None = None
    subset: int | None = None  # train on a subset (tests)
    iterations: int | None = None  # override the budget's (tests)
    device: str = "auto"
    progress: bool = True
    stop_after: str | None = None  # a segment limit for this process (e.g. "150m"): see run_degradation
    extra: dict[str, Any] = field(default_factory=dict)  # further TrainConfig options

    def plan(self) -> tuple[Budget, tuple[int, ...], int]:
        if self.budget not in BUDGETS:
            raise ConfigError(f"unknown --budget {self.budget!r}; choose {', '.join(BUDGETS)}")
        b = BUDGETS[self.budget]
        depths = tuple(sorted(self.depths or b.depths))
        bad = [d for d in depths if (d - 2) % 6 or d < 8]
        if bad:
            raise ConfigError(f"depths must be 6n+2 (20, 32, 44, 56, 110), got {bad}")
        if len(depths) < 2:
            raise ConfigError("give at least two depths to compare")
        if not self.seeds or len(set(self.seeds)) != len(self.seeds) or min(self.seeds) < 0:
            raise ConfigError(f"--seeds must be distinct numbers >= 0, got {list(self.seeds)}")
        return b, depths, self.iterations or b.iterations

    def networks(self) -> list[str]:
        """The networks of the plan, shallowest first, the plain twin before the ResNet."""
        budget, depths, _ = self.plan()
        return [f"{kind}{d}" for d in depths for kind in ("plain", "resnet")
                if not (kind == "plain" and d in budget.resnet_only)]  # fmt: skip


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


def common_iteration(curves: dict[str, Curve]) -> int:
    """The last iteration that every curve reached: where networks are compared."""
    if not curves or not all(c.steps for c in curves.values()):
        raise ValueError("no curves to compare")
    return min(max(c.steps) for c in curves.values())


def verdict_from_finals(finals: dict[str, dict[str, float | None]], shallow: int, deep: int, at: int) -> Verdict:
    """The shallow-against-deep verdict from final errors (``{"train_error", "test_error"}`` per model)."""
    names = [f"plain{shallow}", f"plain{deep}", f"resnet{shallow}", f"resnet{deep}"]
    missing = [n for n in names if finals.get(n, {}).get("train_error") is None]
    if missing:
        raise ValueError(f"no curves for {', '.join(missing)}")
    train = {n: float(finals[n]["train_error"]) for n in names}  # type: ignore[arg-type]
    test = {n: finals[n].get("test_error") for n in names}
    p, r = (train[names[0]], train[names[1]]), (train[names[2]], train[names[3]])
    plain_degrades, resnet_improves = p[1] > p[0], r[1] <= r[0]
    return Verdict(
        at, shallow, deep, p, r, (test[names[0]], test[names[1]]), (test[names[2]], test[names[3]]),
        plain_degrades, resnet_improves, plain_degrades and resnet_improves, r[1] < p[1],
    )  # fmt: skip


def verdict(curves: dict[str, Curve], shallow: int, deep: int) -> Verdict:
    """Compare training error at equal iterations: the last iteration all four curves reached."""
    names = [f"plain{shallow}", f"plain{deep}", f"resnet{shallow}", f"resnet{deep}"]
    missing = [n for n in names if n not in curves or not curves[n].steps]
    if missing:
        raise ValueError(f"no curves for {', '.join(missing)}")
    at = common_iteration({n: curves[n] for n in names})
    finals = {n: {"train_error": late_mean(curves[n], at), "test_error": late_mean(curves[n], at, "test_error")}
              for n in names}  # fmt: skip
    return verdict_from_finals(finals, shallow, deep, at)


@dataclass(frozen=True)
class Step:
    """One step of depth in one family: the change of final training error, in points."""

    shallow: int
    deep: int
    delta: float  # points (deeper minus shallower)
    spread: float  # points: a step must be larger than this to count as a rise or a fall
    word: str  # "rises", "falls" or "tie"


@dataclass(frozen=True)
class Trend:
    """How a family's final training error moves with depth, step by step."""

    family: str  # "plain" or "resnet"
    depths: tuple[int, ...]
    errors: tuple[float, ...]  # mean final training error (fraction) at each depth
    steps: tuple[Step, ...]
    seeds: int
    spread_source: str

    @property
    def everywhere(self) -> str | None:
        """"rises" or "falls" when every step does; None otherwise."""
        words = {s.word for s in self.steps}
        return words.pop() if len(words) == 1 and words != {"tie"} else None

    @property
    def expected(self) -> str:
        """What the paper finds: plain nets rise with depth (degradation), ResNets fall."""
        return "rises" if self.family == "plain" else "falls"

    def sentence(self) -> str:
        name = "Plain nets" if self.family == "plain" else "ResNets"
        path = " -> ".join(f"{e:.2%}" for e in self.errors)
        layers = " -> ".join(map(str, self.depths))
        steps = "; ".join(
            f"{s.shallow}->{s.deep}: {s.delta:+.2f} points ("
            + ("a tie: within" if s.word == "tie" else f"{s.word}: beyond") + f" the spread of {s.spread:.2f})"
            for s in self.steps
        )
        if self.everywhere:
            how = f"the training error {self.everywhere.upper()} at every step of depth"
        else:
            counts = {w: sum(s.word == w for s in self.steps) for w in ("rises", "falls", "tie")}
            how = (f"the training error does NOT {self.expected[:-1]} at every step of depth "
                   f"({counts['rises']} rise(s), {counts['falls']} fall(s), {counts['tie']} tie(s))")  # fmt: skip
        paper = "as the paper finds" if self.everywhere == self.expected else "NOT yet as the paper finds"
        return f"{name}, {layers} layers: {path} training error; {how} - {paper}. Steps: {steps}. Spread: {self.spread_source}."


def trend(family: str, finals_by_seed: list[dict[str, float]], depths: tuple[int, ...]) -> Trend:
    """The family's depth trend from each seed's final training errors (fractions, by model name).

    With several seeds a step's spread is twice the standard deviation of the difference of two
    networks' errors across seeds (at least ``MIN_SPREAD``); with one seed it is ``ONE_SEED_SPREAD``.
    """
    names = [f"{family}{d}" for d in depths]
    per_seed = [[f[n] for n in names] for f in finals_by_seed]
    means = tuple(statistics.fmean(col) for col in zip(*per_seed, strict=True))
    if len(per_seed) > 1:
        stds = [statistics.stdev(col) for col in zip(*per_seed, strict=True)]
        source = f"twice the standard deviation over {len(per_seed)} seeds of a step's two networks (at least {MIN_SPREAD} points)"
    else:
        stds = None
        source = (f"one seed, so a fixed {ONE_SEED_SPREAD} point (about twice the seed-to-seed spread of the quick budget); "
                  "more seeds (--seeds 0 1) measure it")  # fmt: skip
    steps = []
    for i in range(len(depths) - 1):
        delta = 100 * (means[i + 1] - means[i])
        spread = ONE_SEED_SPREAD if stds is None else max(MIN_SPREAD, 200 * math.hypot(stds[i], stds[i + 1]))
        word = "rises" if delta > spread else "falls" if delta < -spread else "tie"
        steps.append(Step(depths[i], depths[i + 1], delta, spread, word))
    return Trend(family, depths, means, tuple(steps), len(per_seed), source)


# ---- figure and report ----------------------------------------------------------------------


def plot(curves: dict[str, Curve], trends: list[Trend], path: Path, note: str = "",
         finals_by_seed: list[dict[str, float]] | None = None) -> dict[str, list[tuple[int, float]]]:  # fmt: skip
    """Three panels: plain nets and ResNets as in Fig. 6 (training error dashed, test error bold,
    one colour per depth), and the lecture's picture: final training error against depth. Returns
    the points of that last panel, (depth, error in %) per family, as drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    depths = sorted({d for t in trends for d in t.depths})
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.6), gridspec_kw={"width_ratios": [1, 1, 0.8]})
    colours = plt.get_cmap("viridis")
    for ax, kind, title in ((axes[0], "plain", "plain networks"), (axes[1], "resnet", "ResNets")):
        for i, d in enumerate(depths):
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
    axes[1].sharey(axes[0])
    axes[0].set_ylabel("error (%)")
    ax = axes[2]
    drawn: dict[str, list[tuple[int, float]]] = {}
    for t, colour, marker in zip(trends, ("#c0392b", "#1f4e9c"), ("s", "o")):
        errs = [100 * e for e in t.errors]
        spread = None
        if finals_by_seed and len(finals_by_seed) > 1:
            spread = [100 * statistics.stdev([f[f"{t.family}{d}"] for f in finals_by_seed]) for d in t.depths]
        line = ax.errorbar(t.depths, errs, yerr=spread, marker=marker, color=colour, lw=2, capsize=4,
                           label="plain" if t.family == "plain" else "ResNet")  # fmt: skip
        drawn[t.family] = list(zip(*(a.tolist() for a in line.lines[0].get_data()), strict=True))
    ax.set_xticks(depths)
    ax.set_xlabel("number of layers")
    ax.set_ylabel("final training error (%)")
    ax.set_title("training error against depth")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9)
    if note:
        fig.suptitle(note, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return drawn


def report_markdown(results: dict[str, Any]) -> str:
    v = results["verdict"]
    seeds = results["seeds"]
    lines = [
        "# Degradation experiment",
        "",
        f"Command: `{results['command']}`",
        "",
        f"Dataset: {results['dataset']}.",
        f"Budget: {results['budget']} - cuts {results['cuts']}.",
        f"Seeds {', '.join(map(str, seeds))}; training time {results['wall_time_s'] / 60:.1f} min.",
        "",
        "## Training error against depth",
        "",
        *[f"- {s}" for s in results["trend"]["sentences"]],
        "",
        "## Shallowest against deepest",
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
        "| model | training error" + "".join(f" | seed {s}" for s in seeds) + " | test error |",
        "| --- | ---" + " | ---" * len(seeds) + " | --- |",
    ]
    for name, row in results["final"].items():
        te = f"{row['test_error']:.2%}" if row["test_error"] is not None else "-"
        by_seed = "".join(f" | {e:.2%}" for e in row["train_error_by_seed"])
        spread = f" +- {row['train_error_std']:.2%}" if row.get("train_error_std") is not None else ""
        lines.append(f"| {name} | {row['train_error']:.2%}{spread}{by_seed} | {te} |")
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


def run_folder(out: str | Path, seed: int, model: str) -> Path:
    """Where one network of one seed trains."""
    return Path(out) / "runs" / f"seed{seed}" / model


@dataclass(frozen=True)
class Stopped:
    """The segment limit ended this process before the plan was trained: run the same command again."""

    network: str  # the network in training when the limit came
    seed: int
    step: int
    total_steps: int
    finished: list[str]  # "seed<N>/<model>" of every finished network


def run_degradation(cfg: DegradationConfig, command: str = "") -> dict[str, Any] | Stopped:
    """Train every network of the plan for every seed (resuming unfinished runs, skipping finished
    ones), then write results.json, report.md and degradation.png to ``cfg.out``.

    With ``cfg.stop_after`` the whole process is a segment: the network in training stops at its
    first logging point past the limit (its checkpoint saved), and ``Stopped`` says where; the same
    command continues from there. A finished network needs only its ``metrics.jsonl``.
    """
    budget, depths, iterations = cfg.plan()
    limit = parse_duration(cfg.stop_after) if cfg.stop_after is not None else None
    scale = iterations / budget.iterations
    milestones = tuple(max(1, round(m * scale)) for m in budget.milestones)
    eval_every = max(1, round(budget.eval_every * scale))
    extra = {"compile": budget.compile, "log_epochs": budget.log_epochs, **cfg.extra}
    started = time.perf_counter()
    curves: list[dict[str, Curve]] = []
    segments: dict[str, list[dict[str, Any]]] = {}
    train_time = 0.0
    for seed in cfg.seeds:
        curves.append({})
        for name in cfg.networks():
            run = run_folder(cfg.out, seed, name)
            run.parent.mkdir(parents=True, exist_ok=True)
            plan = make_config(
                name, cfg.dataset, str(run), recipe="resnet-cifar", iterations=iterations,
                milestones=milestones, eval_every=eval_every, seed=seed, data_dir=cfg.data_dir,
                subset=cfg.subset, device=cfg.device, progress=cfg.progress, **extra,
            )  # fmt: skip
            started_before = (run / STATE).exists()
            if started_before:
                check_same_plan(run, plan)
            if not _finished(run, iterations):
                left = None if limit is None else f"{max(1e-3, limit - (time.perf_counter() - started)):.3f}s"
                if started_before:
                    result = resume(run, progress=cfg.progress, device=cfg.device, stop_after=left)
                else:
                    result = train(replace(plan, stop_after=left))
                if result.stopped:
                    return Stopped(name, seed, result.steps, result.total_steps, _finished_names(cfg, iterations))
            records = read_metrics(run / "metrics.jsonl")
            curves[-1][name] = curve_from_metrics(name, records)
            train_time += float(records[-1]["wall_time"])  # the run's whole training, resumed sessions included
            if (run / SEGMENTS).is_file():
                segments[f"seed{seed}/{name}"] = json.loads((run / SEGMENTS).read_text())
    results, trends = summarise(cfg, curves, budget, iterations, milestones)
    found = find_data(cfg.dataset, cfg.data_dir)
    results.update(command=command, wall_time_s=train_time, this_invocation_s=time.perf_counter() - started,
                   segments=segments, data=f"{cfg.dataset} from {_shown_path(found)}")  # fmt: skip
    out = Path(cfg.out)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    (out / "report.md").write_text(report_markdown(results))
    plot(curves[0], trends, out / "degradation.png", finals_by_seed=_finals_by_seed(curves, results["at_iteration"]),
         note=_figure_note(cfg.dataset, iterations, cfg.seeds))
    return results


def _figure_note(dataset: str, iterations: int, seeds: tuple[int, ...]) -> str:
    """The figure's title line: with several seeds, the curves are the first seed's and the depth
    panel is the mean over all of them, its bars one standard deviation."""
    if len(seeds) == 1:
        return f"{dataset}, {iterations:,} iterations per network, seed {seeds[0]}"
    return (f"{dataset}, {iterations:,} iterations per network; curves: seed {seeds[0]}; "
            f"against depth: mean and standard deviation over seeds {', '.join(map(str, seeds))}")


def _shown_path(path: Path | None) -> str:
    """A data path as results.json records it: relative to the working folder where it is near
    (``../shared/data/cifar10``), so that published results do not carry one machine's layout."""
    if path is None:
        return "an unknown place"
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return str(path)
    return rel if rel.count("..") <= 2 else str(path)


def _finished_names(cfg: DegradationConfig, iterations: int) -> list[str]:
    return [f"seed{seed}/{name}" for seed in cfg.seeds for name in cfg.networks()
            if _finished(run_folder(cfg.out, seed, name), iterations)]  # fmt: skip


def _finals_by_seed(curves: list[dict[str, Curve]], at: int) -> list[dict[str, float]]:
    return [{n: late_mean(c, at) for n, c in seed.items()} for seed in curves]  # type: ignore[misc]


def summarise(cfg: DegradationConfig, curves: list[dict[str, Curve]], budget: Budget, iterations: int,
              milestones: tuple[int, ...]) -> tuple[dict[str, Any], list[Trend]]:  # fmt: skip
    """results.json's content (the first seed's curves, those of the other seeds by seed, every
    network's final errors, mean and per seed, the shallowest-against-deepest verdict, each
    family's depth trend) and the trends."""
    _, depths, _ = cfg.plan()
    at = min(common_iteration(seed) for seed in curves)
    finals_by_seed = _finals_by_seed(curves, at)
    final: dict[str, dict[str, Any]] = {}
    for name in curves[0]:
        train_errors = [f[name] for f in finals_by_seed]
        tests = [late_mean(seed[name], at, "test_error") for seed in curves]
        known = [t for t in tests if t is not None]
        final[name] = {
            "train_error": statistics.fmean(train_errors),
            "train_error_std": statistics.stdev(train_errors) if len(train_errors) > 1 else None,
            "train_error_by_seed": train_errors,
            "test_error": statistics.fmean(known) if known else None,
        }
    plain_depths = tuple(d for d in depths if d not in budget.resnet_only)
    v = verdict_from_finals(final, min(plain_depths), max(plain_depths), at)
    trends = [trend("plain", finals_by_seed, plain_depths), trend("resnet", finals_by_seed, depths)]
    results = {
        "dataset": cfg.dataset,
        "budget": cfg.budget,
        "cuts": budget.cuts if iterations == budget.iterations else f"iterations: {iterations:,} (override)",
        "iterations": iterations,
        "milestones": list(milestones),
        "depths": list(depths),
        "seeds": list(cfg.seeds),
        "seed": cfg.seeds[0],
        "at_iteration": at,
        "curves": {n: asdict(c) for n, c in curves[0].items()},
        "curves_of_other_seeds": {str(seed): {n: asdict(c) for n, c in by_name.items()}
                                  for seed, by_name in zip(cfg.seeds[1:], curves[1:], strict=True)},
        "final": final,
        "verdict": {**asdict(v), "sentences": v.sentences()},
        "trend": {"families": [asdict(t) for t in trends], "sentences": [t.sentence() for t in trends]},
    }
    return results, trends
