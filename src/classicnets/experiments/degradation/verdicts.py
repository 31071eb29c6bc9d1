"""Curves, the shallow-against-deep verdict and each family's trend with depth: pure functions,
tested on synthetic curves. A step of depth within the seed-to-seed spread is a tie, never a win."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any

# With one seed there is no spread of one's own. A step of depth must then exceed this many points of
# training error to count as a rise or a fall: about twice the seed-to-seed standard deviation of the
# ResNet-32 minus ResNet-20 difference over 3 seeds of the quick budget (0.45 points; docs/results.md).
ONE_SEED_SPREAD = 1.0
MIN_SPREAD = 0.25  # points: the least threshold even when a few seeds happen to agree closely


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
        """One sentence per family (what the paper finds, and whether these numbers show it), then
        the two deep networks side by side."""
        s, d, it = self.shallow, self.deep, self.at_iteration
        said = []
        for family, (shallow, deep), as_paper in (("plain", self.plain_train, self.plain_degrades),
                                                  ("resnet", self.resnet_train, self.resnet_improves)):  # fmt: skip
            name, found, not_found = FAMILY_WORDS[family]
            when = f" (mean of the last quarter, up to iteration {it:,})" if family == "plain" else ""
            said.append(f"{name}: {family}-{d} ends with {deep:.2%} training error against {family}-{s}'s "
                        f"{shallow:.2%}{when}: " + (found if as_paper else not_found))  # fmt: skip
        rd, pd = self.resnet_train[1], self.plain_train[1]
        said.append(f"Same depth: resnet-{d} {rd:.2%} against plain-{d} {pd:.2%} training error: "
                    + ("the shortcuts make the deep network trainable." if self.residual_fixes_deep
                       else "the shortcuts do NOT help the deep network here."))  # fmt: skip
        return said


# Each family's sentence: its name, then the words where the numbers show what the paper finds, and
# where they do not (plain nets: the deeper trains worse; ResNets: the deeper trains at least as well).
FAMILY_WORDS = {
    "plain": ("Plain nets", "the deeper plain net trains WORSE - degradation reproduced.",
              "the deeper plain net does not train worse - degradation NOT reproduced."),
    "resnet": ("ResNets", "the deeper ResNet is at or below the shallow one - as the paper finds.",
               "the deeper ResNet is ABOVE the shallow one - NOT as the paper finds."),
}


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
