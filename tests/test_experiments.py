"""The experiments: the identity table, the degradation verdict on synthetic curves, and tiny
end-to-end runs of degradation and the LeNet ablation on the bundled digits."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from classicnets.cli import main
from classicnets.experiments import (
    BUDGETS,
    DegradationConfig,
    Stopped,
    run_degradation,
    run_identity,
    trend,
    verdict,
)
from classicnets.experiments.degradation import ONE_SEED_SPREAD, Curve, plot
from classicnets.experiments.lenet_ablation import AblationConfig, run_lenet_ablation
from classicnets.errors import ConfigError
from classicnets.train import read_metrics


def test_identity_table_shows_the_lecture_claims():
    rows = {(r.block, r.shortcut, r.shape, r.last_bias): r for r in run_identity()}
    same = "same"
    assert rows[("basic", "A", same, 0.0)].max_diff_from_input == 0.0  # residual: returns a[l]
    assert rows[("basic", "B", same, 0.0)].max_diff_from_input == 0.0
    assert rows[("bottleneck", "B", same, 0.0)].max_diff_from_input == 0.0
    plain = rows[("basic", "none (plain)", same, 0.0)]
    assert plain.max_abs_output == 0.0 and plain.max_diff_from_input > 0  # plain: returns g(0) = 0
    assert rows[("basic", "none (plain)", same, 0.5)].max_abs_output == pytest.approx(0.5)  # g(b)
    assert rows[("basic", "C", same, 0.0)].max_diff_from_input > 0  # a projection is not identity
    changes = "16->32, stride 2"
    assert "no W_s" in rows[("basic", "A", changes, 0.0)].returns
    assert "W_s" in rows[("basic", "B", changes, 0.0)].returns


def test_identity_command_prints_table(capsys):
    assert main(["experiment", "identity"]) == 0
    out = capsys.readouterr().out
    assert "a[l]  (identity)" in out and "g(b) = 0 everywhere" in out


def _curve(name: str, start: float, end: float, n: int = 9) -> Curve:
    steps = [100 * (i + 1) for i in range(n)]
    train = [start + (end - start) * i / (n - 1) for i in range(n)]
    return Curve(name, steps, train, [t + 0.05 for t in train])


def test_verdict_reproduced_on_paper_like_curves():
    curves = {
        "plain20": _curve("plain20", 0.6, 0.10), "plain56": _curve("plain56", 0.7, 0.18),
        "resnet20": _curve("resnet20", 0.6, 0.10), "resnet56": _curve("resnet56", 0.6, 0.06),
    }  # fmt: skip
    v = verdict(curves, 20, 56)
    assert v.plain_degrades and v.resnet_improves and v.reproduced and v.residual_fixes_deep
    assert v.at_iteration == 900
    assert "reproduced" in v.sentences()[0] and "NOT" not in v.sentences()[0]


def test_verdict_not_reproduced_when_deep_plain_trains_better():
    curves = {
        "plain20": _curve("plain20", 0.6, 0.15), "plain56": _curve("plain56", 0.6, 0.10),
        "resnet20": _curve("resnet20", 0.6, 0.10), "resnet56": _curve("resnet56", 0.6, 0.12),
    }  # fmt: skip
    v = verdict(curves, 20, 56)
    assert not v.plain_degrades and not v.resnet_improves and not v.reproduced and not v.residual_fixes_deep
    assert "NOT reproduced" in v.sentences()[0] and "NOT as the paper" in v.sentences()[1]


def test_verdict_compares_at_equal_iterations():
    # plain56 ran longer and got better later; at the common iteration it is still worse
    long = _curve("plain56", 0.7, 0.0, n=18)
    long.train_error = [0.7] * 9 + [0.0] * 9
    curves = {"plain20": _curve("plain20", 0.6, 0.1), "plain56": long,
              "resnet20": _curve("resnet20", 0.6, 0.1), "resnet56": _curve("resnet56", 0.6, 0.05)}  # fmt: skip
    v = verdict(curves, 20, 56)
    assert v.at_iteration == 900 and v.plain_degrades


def test_degradation_config_rejects_bad_depths():
    with pytest.raises(ConfigError, match="6n\\+2"):
        DegradationConfig(out="x", depths=(20, 21)).plan()
    with pytest.raises(ConfigError, match="budget"):
        DegradationConfig(out="x", budget="huge").plan()


def test_tiny_degradation_end_to_end_and_resume(tmp_path):
    cfg = DegradationConfig(out=str(tmp_path), dataset="digits", depths=(20, 32), iterations=4,
                            progress=False, device="cpu")  # fmt: skip
    results = run_degradation(cfg)
    assert set(results) >= {"curves", "final", "verdict", "depths", "iterations", "cuts", "wall_time_s"}
    assert set(results["curves"]) == {"plain20", "resnet20", "plain32", "resnet32"}
    assert all(max(c["steps"]) == 4 for c in results["curves"].values())
    on_disk = json.loads((tmp_path / "results.json").read_text())
    assert on_disk["verdict"]["at_iteration"] == 4
    png = (tmp_path / "degradation.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert "Degradation" in (tmp_path / "report.md").read_text()
    # a second run finds every depth finished and trains nothing
    mtimes = {p: p.stat().st_mtime_ns for p in tmp_path.glob("runs/seed0/*/last.safetensors")}
    assert len(mtimes) == 4
    run_degradation(cfg)
    assert {p: p.stat().st_mtime_ns for p in tmp_path.glob("runs/seed0/*/last.safetensors")} == mtimes
    # another plan in the same folder (a new budget) is refused, not mixed in
    with pytest.raises(ConfigError, match="another plan: iterations 4 \\(now 6\\)"):
        run_degradation(replace(cfg, iterations=6))
    assert {p: p.stat().st_mtime_ns for p in tmp_path.glob("runs/seed0/*/last.safetensors")} == mtimes
    # a second seed trains beside the first (seed 0 is reused, not retrained) and the report has a spread
    two = run_degradation(replace(cfg, seeds=(0, 1)))
    assert {p: p.stat().st_mtime_ns for p in tmp_path.glob("runs/seed0/*/last.safetensors")} == mtimes
    assert len(list(tmp_path.glob("runs/seed1/*/last.safetensors"))) == 4
    assert all(len(f["train_error_by_seed"]) == 2 and f["train_error_std"] is not None for f in two["final"].values())
    assert "over 2 seeds" in two["trend"]["sentences"][1]
    # every seed's curves are kept: the first under "curves", the others by seed
    assert results["curves_of_other_seeds"] == {} and set(two["curves_of_other_seeds"]) == {"1"}
    seed1 = two["curves_of_other_seeds"]["1"]
    assert set(seed1) == set(two["curves"]) and seed1 != two["curves"]
    assert seed1["resnet32"]["steps"] == two["curves"]["resnet32"]["steps"]


def test_segment_limit_stops_mid_sweep_and_the_same_command_finishes_it(tmp_path, monkeypatch):
    """A sweep cut by its segment limit in the middle of its second network resumes there: every
    network is trained once, a finished one (kept as its metrics alone) is not trained again, and
    the figure has one point per depth."""
    from classicnets.train import loop

    cfg = DegradationConfig(out=str(tmp_path), dataset="digits", depths=(20, 32), iterations=8,
                            progress=False, device="cpu", stop_after="10h")  # fmt: skip
    calls = {"n": 0}

    def past_limit_at_the_11th_check(self):  # asked at every logging point but the last: 7 of plain20, 4 of resnet20
        calls["n"] += 1
        return calls["n"] >= 11

    with monkeypatch.context() as m:
        m.setattr(loop._Training, "_past_segment_limit", past_limit_at_the_11th_check)
        stopped = run_degradation(cfg)
    assert isinstance(stopped, Stopped)
    assert (stopped.network, stopped.seed, stopped.step, stopped.total_steps) == ("resnet20", 0, 4, 8)
    assert stopped.finished == ["seed0/plain20"] and not (tmp_path / "results.json").exists()
    plain20 = tmp_path / "runs" / "seed0" / "plain20"
    for heavy in ("last.safetensors", "best.safetensors", "last.state.pt"):
        (plain20 / heavy).unlink(missing_ok=True)  # a finished network travels as its metrics alone
    metrics_before = (plain20 / "metrics.jsonl").read_text()

    results = run_degradation(replace(cfg, stop_after=None))
    assert (plain20 / "metrics.jsonl").read_text() == metrics_before and not (plain20 / "last.safetensors").exists()
    for name in ("plain20", "resnet20", "plain32", "resnet32"):
        steps = [int(r["step"]) for r in read_metrics(tmp_path / "runs" / "seed0" / name / "metrics.jsonl")]
        assert steps == list(range(1, 9)), name  # each step trained and logged once
    assert [(g["from_step"], g["to_step"]) for g in results["segments"]["seed0/resnet20"]] == [(0, 4), (4, 8)]
    assert [(g["from_step"], g["to_step"]) for g in results["segments"]["seed0/plain32"]] == [(0, 8)]
    for family in results["trend"]["families"]:
        assert list(family["depths"]) == [20, 32] and len(family["errors"]) == 2


@pytest.mark.parametrize("name", sorted(BUDGETS))
def test_budgets_keep_the_papers_schedule_shape(name):
    """A budget cuts iterations (and depths), nothing else: lr / 10 at 1/2 and 3/4 of the run, as
    32k and 48k of 64k, and depths of the paper's 6n+2 family."""
    b = BUDGETS[name]
    assert tuple(m / b.iterations for m in b.milestones) == (0.5, 0.75)
    assert set(b.depths) <= {20, 32, 44, 56, 110} and len(b.depths) >= 2


def test_tiny_lenet_ablation(tmp_path):
    cfg = AblationConfig(out=str(tmp_path), dataset="digits", seeds=(0, 1), epochs=1, progress=False, device="cpu")
    results = run_lenet_ablation(cfg)
    assert len(results["variants"]) == 4
    for r in results["variants"].values():
        assert len(r["test_errors"]) == 2 and 0 <= r["test_error_mean"] < 0.9 and r["test_error_std"] >= 0
    assert "mean +- std" in (tmp_path / "report.md").read_text()


def test_degradation_cli_passes_precision_to_every_run(tmp_path, capsys):
    import torch

    out = tmp_path / "deg"
    args = ["experiment", "degradation", "--dataset", "digits", "--depths", "20", "32", "--iterations", "2",
            "--precision", "fp32", "--device", "cpu", "--no-progress", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    assert "degradation" in capsys.readouterr().out
    for name in ("plain20", "resnet20", "plain32", "resnet32"):
        saved = torch.load(out / "runs" / "seed0" / name / "last.state.pt", weights_only=True)["config"]
        assert saved["precision"] == "fp32" and saved["iterations"] == 2


def test_sweep_budget_plan_has_the_lectures_depths():
    sweep = BUDGETS["sweep"]
    assert sweep.depths == (20, 32, 44, 56) and sweep.resnet_only == ()
    assert (sweep.milestones[0] / sweep.iterations, sweep.milestones[1] / sweep.iterations) == (0.5, 0.75)
    networks = DegradationConfig(out="x", budget="sweep").networks()
    assert networks == [f"{k}{d}" for d in (20, 32, 44, 56) for k in ("plain", "resnet")]
    paper = DegradationConfig(out="x", budget="paper").networks()
    assert "resnet110" in paper and "plain110" not in paper and paper[-1] == "resnet110"
    assert BUDGETS["paper"].iterations == 64_000 and BUDGETS["paper"].milestones == (32_000, 48_000)


def _finals(family: str, errors: list[float]) -> dict[str, float]:
    return {f"{family}{d}": e for d, e in zip((20, 32, 44, 56), errors)}


def test_trend_words_a_monotone_rise():
    t = trend("plain", [_finals("plain", [0.25, 0.37, 0.45, 0.52])], (20, 32, 44, 56))
    assert [s.word for s in t.steps] == ["rises"] * 3 and t.everywhere == "rises"
    assert "RISES at every step of depth - as the paper finds" in t.sentence()
    assert "20->32: +12.00 points (rises: beyond the spread of 1.00)" in t.sentence()


def test_trend_words_a_monotone_fall():
    seeds = [_finals("resnet", [0.22, 0.19, 0.17, 0.15]), _finals("resnet", [0.225, 0.195, 0.172, 0.152])]
    t = trend("resnet", seeds, (20, 32, 44, 56))
    assert [s.word for s in t.steps] == ["falls"] * 3 and t.everywhere == "falls" and t.seeds == 2
    assert "FALLS at every step of depth - as the paper finds" in t.sentence()


def test_trend_never_rounds_a_tie_into_a_win():
    # ResNet-32 is 0.4 points below ResNet-20: a fall, if one ignored the seed-to-seed spread
    one_seed = trend("resnet", [_finals("resnet", [0.218, 0.214, 0.219, 0.224])], (20, 32, 44, 56))
    assert [s.word for s in one_seed.steps] == ["tie", "tie", "tie"] and one_seed.everywhere is None
    assert all(s.spread == ONE_SEED_SPREAD for s in one_seed.steps)
    sentence = one_seed.sentence()
    assert "does NOT fall at every step" in sentence and "NOT yet as the paper finds" in sentence
    assert "20->32: -0.40 points (a tie: within the spread of 1.00)" in sentence
    # two seeds that disagree by more than the step: still a tie
    noisy = [_finals("resnet", [0.220, 0.210, 0.20, 0.19]), _finals("resnet", [0.205, 0.215, 0.21, 0.20])]
    t = trend("resnet", noisy, (20, 32, 44, 56))
    assert t.steps[0].word == "tie" and t.steps[0].spread > abs(t.steps[0].delta)


def test_figure_has_one_point_per_depth(tmp_path):
    cfg = DegradationConfig(out=str(tmp_path), dataset="digits", depths=(20, 32, 44), iterations=2, subset=256,
                            progress=False, device="cpu")  # fmt: skip
    results = run_degradation(cfg)
    drawn_png = (tmp_path / "degradation.png").read_bytes()
    assert drawn_png[:4] == b"\x89PNG"
    curves = {n: Curve(**c) for n, c in results["curves"].items()}
    from classicnets.experiments.degradation import Step, Trend

    trends = [Trend(**{**t, "depths": tuple(t["depths"]), "errors": tuple(t["errors"]),
                       "steps": tuple(Step(**s) for s in t["steps"])}) for t in results["trend"]["families"]]  # fmt: skip
    drawn = plot(curves, trends, tmp_path / "again.png")
    assert [d for d, _ in drawn["plain"]] == [20, 32, 44] and [d for d, _ in drawn["resnet"]] == [20, 32, 44]
    assert [e for _, e in drawn["resnet"]] == pytest.approx([100 * results["final"][f"resnet{d}"]["train_error"] for d in (20, 32, 44)])


def test_experiment_why_prints_the_three_measurements(capsys):
    from pathlib import Path

    data = Path(__file__).resolve().parents[2] / "shared" / "data"
    if not (data / "cifar10" / "test").is_dir():
        pytest.skip(f"CIFAR-10 not found in {data}")
    assert main(["experiment", "why", "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out
    from classicnets.experiments.why import trained

    assert "plain56" in out and "resnet56" in out and "layer3.2" in out
    assert f"shipped {trained('resnet')}" in out  # the deepest shipped ResNet, block by block
    assert ("no trained plain network" in out) == (trained("plain") is None)  # a plain one's table once it ships


def test_published_results_name_their_data_without_this_machines_layout(tmp_path, monkeypatch):
    """results.json says where the data came from, relative to the working folder when it is near
    (``../shared/data/cifar10``), so a published file carries no home folder of the machine."""
    from pathlib import Path

    from classicnets.experiments.degradation import _shown_path

    (tmp_path / "shared" / "data" / "cifar10").mkdir(parents=True)
    (tmp_path / "project").mkdir()
    monkeypatch.chdir(tmp_path / "project")
    assert _shown_path((tmp_path / "shared" / "data" / "cifar10").resolve()) == "../shared/data/cifar10"
    assert _shown_path(Path("/opt/datasets")) == "/opt/datasets"  # far away: shown as it is
    assert _shown_path(None) == "an unknown place"


def test_report_command_reproduces_the_run_without_its_segment_limit():
    from classicnets.cli.experiments import _command_line

    sweep = ["experiment", "degradation", "--budget", "sweep", "--seeds", "0", "1"]
    expected = "classicnets experiment degradation --budget sweep --seeds 0 1"
    assert _command_line(["/venv/bin/classicnets", *sweep, "--stop-after", "75m"]) == expected
    assert _command_line(["/src/classicnets/__main__.py", "--stop-after=2h", *sweep]) == expected  # python -m
    assert _command_line(["-c", *sweep]) == ""  # called from Python: no command to show
