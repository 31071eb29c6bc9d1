"""The lecture's figure at the end of training: plain and residual networks of 20 and 56 layers,
each trained to the end of one recipe (He et al. 2015, Fig. 1 and Fig. 6, at full length).

``run_full_length`` takes the four networks' run folders (``OUT/<network>`` unless a folder of
one's own is given, or for a network whose weights ship, its published training log), trains what
is missing with ``grid.run_grid`` (resumably, under one segment limit), and writes

    OUT/results.json      each network's curves against epochs, its final errors, the two verdicts
    OUT/report.md         the verdicts in words, with the numbers
    OUT/full-length.png   (a) training and test error against epochs, plain nets and ResNets;
                          (b) the final training error against depth, one line per family

Every network trains with the same recipe, ``resnet-cifar-fast`` (130 epochs of one-cycle on all
50,000 CIFAR-10 training images, the last weights, nothing chosen on the test set): a folder
trained otherwise is refused. The final training error is measured two ways: the last epoch's
running figure (over augmented batches, while the weights still move, as the paper plots it),
and one clean pass over the training images in eval mode with the last weights. One seed per
network: the seed-to-seed spread is not measured at this length, so a difference counts as a
rise or a fall only beyond the sampling error of the two measurements (twice the standard error
of the difference of two error rates over the same number of images), and the report says that
this is a statement about these runs.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..train import TrainConfig, evaluate, make_config, read_metrics
from ..train.checkpoint import LAST, read_meta, weights_path
from ..train.config import option, seconds
from ..train.recipes import FAST_EPOCHS
from .grid import (
    Cell,
    GridStopped,
    data_dir_option,
    device_option,
    network_and_path,
    plan_differences,
    progress_option,
    run_grid,
    saved_config,
    stop_after_option,
    subset_option,
)
from .plots import depth_axis, log_percent_axis, save, three_panels

RECIPE = "resnet-cifar-fast"
DATASET = "cifar10"
DEPTHS = (20, 56)
NETWORKS = tuple(f"{kind}{d}" for d in DEPTHS for kind in ("plain", "resnet"))
# Training time of each network with RECIPE on 2 CPU cores with AVX512-BF16 (about three times as
# long without bf16 units): ResNet-20 and ResNet-56 as measured for the shipped runs; the plain ones
# from the sweep's rates on that CPU (docs/results.md, section 1b), until their runs end.
HOURS = {"plain20": 2.4, "resnet20": 2.5, "plain56": 5.8, "resnet56": 5.8}
TIME_HELP = ", ".join(f"{n} about {h:g} h" for n, h in HOURS.items())


@dataclass
class FullLengthConfig:
    """The experiment's options; ``classicnets experiment full-length``'s flags are generated from
    these fields (``cli/options.py``)."""

    out: str = field(default="runs/full-length", metadata=option("output folder: OUT/<network> for each run", "run"))
    runs: dict[str, str] = field(default_factory=dict, metadata=option(
        "use this run folder for NETWORK instead of OUT/NETWORK (repeatable); for a network whose weights ship, "
        "its published log also works: resnet20=docs/data/resnet20-cifar10-training.json", "plan",
        metavar="NETWORK=PATH", flag="--run", type=network_and_path))
    data_dir: str | None = data_dir_option()
    subset: int | None = subset_option()
    epochs: int | None = field(default=None, metadata=option("fewer epochs than the recipe's 130 (quick checks only)", "plan"))
    device: str = device_option()
    progress: bool = progress_option()
    compile: bool | None = field(default=None, metadata=option(
        "torch.compile each network (unset: the recipe's, compiled); a runtime choice, not part of the plan", "run"))
    stop_after: float | None = stop_after_option()
    dataset: str = DATASET  # tests only (digits): the figure is CIFAR-10's, so no flag

    def __post_init__(self) -> None:
        self.stop_after = seconds(self.stop_after)  # from Python, "150m" as on the command line works too

    def plan(self, network: str, folder: Path) -> TrainConfig:
        """The plan every network of the figure shares: the recipe, seed 0, at ``folder``."""
        options: dict[str, Any] = {"data_dir": self.data_dir, "device": self.device, "progress": self.progress}
        for name in ("subset", "epochs", "compile"):
            if getattr(self, name) is not None:
                options[name] = getattr(self, name)
        return make_config(network, self.dataset, str(folder), recipe=RECIPE, **options)

    def sources(self) -> dict[str, Path]:
        unknown = sorted(set(self.runs) - set(NETWORKS))
        if unknown:
            raise ConfigError(f"--run names {', '.join(unknown)}; the figure's networks are {', '.join(NETWORKS)}")
        return {n: Path(self.runs.get(n, Path(self.out) / n)) for n in NETWORKS}


# ---- what one network gives the figure --------------------------------------------------------


@dataclass(frozen=True)
class Network:
    """One network's curves against epochs and its final errors (fractions)."""

    name: str
    depth: int
    family: str  # "plain" or "resnet"
    epochs: list[float]
    train_error: list[float]  # each epoch's running figure (augmented batches)
    test_error: list[float | None]
    last_epoch_train_error: float
    clean_train_error: float  # one pass over the training images in eval mode, last weights
    clean_images: int
    test: float | None  # the last logged test error (all 10,000 test images, one view)
    train_hours: float
    source: str  # the run folder, or the published log


def network_name(name: str) -> tuple[str, int]:
    family = "plain" if name.startswith("plain") else "resnet"
    return family, int(name[len(family):])


def read_source(name: str, path: Path, plan: TrainConfig) -> tuple[list[dict[str, Any]], Path]:
    """A network's metrics records and its last weights, from a run folder or from a published
    training log whose weights ship (docs/data/<model>-cifar10-training.json); refused in one line
    when it was not trained with the figure's plan."""
    if path.suffix == ".json":
        published = json.loads(path.read_text())
        weights = weights_path(name)  # the shipped weights, checked against the manifest
        if published.get("sha256") != hashlib.sha256(weights.read_bytes()).hexdigest():
            raise ConfigError(f"{path} is not the published log of {name}'s shipped weights")
        records = list(published["metrics"])
    else:
        weights, records = path / LAST, read_metrics(path / "metrics.jsonl")
    refuse_another_plan(name, path, TrainConfig.from_dict(read_meta(weights).config), plan)
    return records, weights


def refuse_another_plan(name: str, path: Path, saved: TrainConfig | None, plan: TrainConfig) -> None:
    """One line, when ``path`` (a run folder or a published log) was trained with another plan."""
    differ = plan_differences(saved, plan) if saved is not None else []
    if differ:
        raise ConfigError(f"{path} was not trained as this figure's {name}: {', '.join(differ)}; "
                          f"all four networks share one plan ({RECIPE}, seed 0)")  # fmt: skip


def measure(name: str, path: Path, plan: TrainConfig, data_dir: str | None, device: str) -> Network:
    """The curves and final errors of one finished network, with its clean pass over the training images."""
    records, weights = read_source(name, path, plan)
    clean = evaluate(weights, data_dir=data_dir, split="train", device=device, subset=plan.subset, subset_seed=plan.seed)
    last = records[-1]
    family, depth = network_name(name)
    return Network(
        name, depth, family,
        epochs=[float(r["epoch"]) for r in records],
        train_error=[float(r["train_error"]) for r in records],
        test_error=[r.get("test_error") for r in records],
        last_epoch_train_error=float(last["train_error"]),
        clean_train_error=clean.error,
        clean_images=clean.count,
        test=last.get("test_error"),
        train_hours=float(last["wall_time"]) / 3600,
        source=str(path),
    )  # fmt: skip


# ---- the verdicts (pure functions, tested on numbers on both sides) ---------------------------


def sampling_spread(a: float, b: float, n: int) -> float:
    """Twice the standard error, in points, of the difference of two error rates each measured
    over ``n`` images: below it, a difference is within the measurement's own noise."""
    return 200 * math.sqrt((a * (1 - a) + b * (1 - b)) / max(n, 1))


@dataclass(frozen=True)
class DepthStep:
    """One family from 20 to 56 layers, by one measure of the final training error."""

    family: str
    measure: str  # "clean pass" or "last epoch"
    shallow: float  # fraction
    deep: float
    spread: float  # points
    word: str  # "worse", "better" or "tie" (the deeper network against the shallower)

    @property
    def delta(self) -> float:
        """Points, deeper minus shallower."""
        return 100 * (self.deep - self.shallow)

    def sentence(self) -> str:
        name = "plain" if self.family == "plain" else "ResNet"
        lo, hi = DEPTHS
        said = {"worse": "trains worse than", "better": "trains better than", "tie": "ties with"}[self.word]
        return (f"{name}-{hi} {said} {name}-{lo} by the {self.measure}: {self.deep:.2%} against {self.shallow:.2%} "
                f"training error ({self.delta:+.2f} points; the sampling error of the difference is "
                f"{self.spread:.2f})")  # fmt: skip


def depth_step(family: str, measure: str, shallow: float, deep: float, images: int) -> DepthStep:
    spread = sampling_spread(shallow, deep, images)
    delta = 100 * (deep - shallow)
    word = "worse" if delta > spread else "better" if delta < -spread else "tie"
    return DepthStep(family, measure, shallow, deep, spread, word)


def verdicts(networks: dict[str, Network]) -> list[DepthStep]:
    """For each family and each measure, the deeper network against the shallower."""
    lo, hi = DEPTHS
    steps = []
    for family in ("plain", "resnet"):
        a, b = networks[f"{family}{lo}"], networks[f"{family}{hi}"]
        steps.append(depth_step(family, "clean pass", a.clean_train_error, b.clean_train_error,
                                min(a.clean_images, b.clean_images)))  # fmt: skip
        steps.append(depth_step(family, "last epoch", a.last_epoch_train_error, b.last_epoch_train_error,
                                min(a.clean_images, b.clean_images)))  # fmt: skip
    return steps


def paper_claim(steps: list[DepthStep]) -> str:
    """The lecture's claim against these runs, in one sentence, by the clean pass."""
    clean = {s.family: s for s in steps if s.measure == "clean pass"}
    plain, res = clean["plain"].word == "worse", clean["resnet"].word == "better"
    if plain and res:
        return "Both halves of the paper's claim hold at the end of training: the deeper plain net trains worse, the deeper ResNet better."
    parts = [f"the deeper plain net {'trains worse' if plain else 'does NOT train worse'}",
             f"the deeper ResNet {'trains better' if res else 'does NOT train better'}"]  # fmt: skip
    return f"Not both halves of the paper's claim hold at the end of training: {parts[0]}, and {parts[1]}."


# ---- figure and report ------------------------------------------------------------------------


def plot(networks: dict[str, Network], path: Path, note: str) -> dict[str, Any]:
    """(a) error against epochs for each family (training dashed, test bold), (b) the final
    training error against depth, one line per family (solid: clean pass; dotted: last epoch).
    Returns what was drawn: the points of each curve of (a), the lines of (b) in %, each curve
    panel's y range (one, shared) and its tick labels."""
    plt, fig, axes = three_panels(share_curves_y=True)
    colours = {DEPTHS[0]: "#e08214", DEPTHS[1]: "#542788"}
    drawn: dict[str, Any] = {"curves": {}, "depth": {}}
    for ax, family, title in ((axes[0], "plain", "(a) plain networks"), (axes[1], "resnet", "(a) ResNets")):
        for d in DEPTHS:
            n = networks[f"{family}{d}"]
            label = f"{'plain' if family == 'plain' else 'ResNet'}-{d}"
            ax.plot(n.epochs, [100 * e for e in n.train_error], "--", color=colours[d], lw=1.0)
            ts = [(e, 100 * t) for e, t in zip(n.epochs, n.test_error, strict=True) if t is not None]
            drawn["curves"][n.name] = {"train": len(n.epochs), "test": len(ts)}
            if ts:
                ax.plot(*zip(*ts, strict=True), "-", color=colours[d], lw=2.2, label=label)
        ax.set_title(title)
        ax.set_xlabel("epochs")
        log_percent_axis(ax)
        ax.grid(alpha=0.3)
        ax.legend(title="bold: test, dashed: train", fontsize=8, title_fontsize=8)
    axes[0].set_ylabel("error (%)")
    ax = axes[2]
    for family, colour, marker in (("plain", "#c0392b", "s"), ("resnet", "#1f4e9c", "o")):
        name = "plain" if family == "plain" else "ResNet"
        ns = [networks[f"{family}{d}"] for d in DEPTHS]
        drawn["depth"][family] = {"clean pass": [100 * n.clean_train_error for n in ns],
                                  "last epoch": [100 * n.last_epoch_train_error for n in ns]}  # fmt: skip
        ax.plot(DEPTHS, [100 * n.clean_train_error for n in ns], "-", marker=marker, color=colour, lw=2,
                label=f"{name}, clean pass")  # fmt: skip
        ax.plot(DEPTHS, [100 * n.last_epoch_train_error for n in ns], ":", marker=marker, color=colour, lw=1.5,
                mfc="white", label=f"{name}, last epoch (augmented)")  # fmt: skip
    depth_axis(ax, DEPTHS, "(b) final training error against depth", legend_size=8)
    save(plt, fig, path, note)
    drawn["y_range"] = [list(axes[i].get_ylim()) for i in (0, 1)]
    drawn["y_labels"] = [t.get_text() for t in axes[0].get_yticklabels() if t.get_text()]
    return drawn


def report_markdown(results: dict[str, Any]) -> str:
    lines = [
        "# Plain against residual at the end of training",
        "",
        f"Command: `{results['command']}`",
        "",
        f"Every network: recipe `{RECIPE}`, {results['epochs']} epochs, seed 0, {results['dataset']} ({results['train_images']:,} "
        "training images); one seed each, so the seed-to-seed spread is not measured at this length.",
        "",
        f"**{results['claim']}**",
        "",
        *[f"- {s}" for s in results["sentences"]],
        "",
        "| network | last epoch's training error (augmented) | clean pass over the training images | test error | training time |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name in NETWORKS:
        n = results["networks"][name]
        test = f"{n['test']:.2%}" if n["test"] is not None else "-"
        lines.append(f"| {name} | {n['last_epoch_train_error']:.2%} | {n['clean_train_error']:.2%} | {test} | "
                     f"{n['train_hours']:.1f} h |")  # fmt: skip
    lines += ["", "![the figure](full-length.png)", ""]
    return "\n".join(lines)


# ---- the run ----------------------------------------------------------------------------------


def run_full_length(cfg: FullLengthConfig, command: str = "") -> dict[str, Any] | GridStopped:
    """Train what is missing of the four networks (resumably), measure them, and write the figure,
    results.json and report.md to ``cfg.out``; ``GridStopped`` when a limit or a signal cut it."""
    sources = cfg.sources()
    plans = {n: cfg.plan(n, p) for n, p in sources.items()}
    for name, path in sources.items():  # a folder of another plan is refused before anything trains
        if path.suffix != ".json" and path.is_dir():
            refuse_another_plan(name, path, saved_config(path), plans[name])
    cells = [Cell(n, plans[n]) for n, p in sources.items() if p.suffix != ".json"]
    stopped = run_grid(cells, stop_after_s=cfg.stop_after)
    if stopped is not None:
        return stopped
    networks = {n: measure(n, p, plans[n], cfg.data_dir, cfg.device) for n, p in sources.items()}
    steps = verdicts(networks)
    epochs = cfg.epochs or FAST_EPOCHS
    results = {
        "command": command,
        "dataset": cfg.dataset,
        "recipe": RECIPE,
        "epochs": epochs,
        "train_images": networks[NETWORKS[0]].clean_images,
        "networks": {n: asdict(v) for n, v in networks.items()},
        "steps": [asdict(s) | {"delta": s.delta} for s in steps],
        "sentences": [s.sentence() for s in steps],
        "claim": paper_claim(steps),
    }
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.md").write_text(report_markdown(results))
    results["figure"] = plot(networks, out / "full-length.png",
                             f"{cfg.dataset}, {RECIPE}: {epochs} epochs per network, seed 0, the last weights")  # fmt: skip
    (out / "results.json").write_text(json.dumps(results, indent=2))
    return results
