"""Grids of runs carried over sittings (``experiments.grid``), the LeNet ablation that now resumes,
and the lecture's figure at full length (``experiment full-length``) on a tiny budget."""

from __future__ import annotations

import json
import os
import signal
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from classicnets.cli import main
from classicnets.errors import ConfigError
from classicnets.experiments import (
    Cell,
    FullLengthConfig,
    GridStopped,
    run_full_length,
    run_grid,
)
from classicnets.experiments.full_length import (
    NETWORKS,
    depth_step,
    paper_claim,
    sampling_spread,
)
from classicnets.experiments.lenet_ablation import AblationConfig, run_lenet_ablation
from classicnets.train import loop, make_config, read_metrics, train


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def steps_of(run: Path) -> list[int]:
    return [int(r["step"]) for r in read_metrics(run / "metrics.jsonl")]


def spans(run: Path) -> list[tuple[int, int]]:
    return [(s["from_step"], s["to_step"]) for s in json.loads((run / "segments.json").read_text())]


def two_cells(tmp_path: Path) -> list[Cell]:
    return [Cell(name, make_config("lenet5_modern", "digits", str(tmp_path / name), iterations=8, eval_every=1,
                                   seed=seed, threads=1, progress=False, device="cpu"))  # fmt: skip
            for seed, name in enumerate(("first", "second"))]  # fmt: skip


def test_a_grid_cut_in_its_second_cell_trains_each_cell_once(tmp_path: Path, monkeypatch) -> None:
    cells = two_cells(tmp_path)
    checks = {"n": 0}

    def past_limit_at_the_11th_check(self):  # asked at every logging point but the last: 7 of the first, 4 of the second
        checks["n"] += 1
        return checks["n"] >= 11

    with monkeypatch.context() as m:
        m.setattr(loop._Training, "_past_segment_limit", past_limit_at_the_11th_check)
        stopped = run_grid(cells, stop_after_s=3600, keep="metrics")
    assert stopped == GridStopped("second", "lenet5_modern", 1, 4, 8, ["first"], None, 3600)
    assert not (tmp_path / "first" / "last.safetensors").exists()  # keep="metrics": the finished cell's curves only
    assert (tmp_path / "second" / "last.state.pt").exists()  # the cut one keeps what its resume needs
    before = (tmp_path / "first" / "metrics.jsonl").read_text()
    assert run_grid(cells, keep="metrics") is None
    assert (tmp_path / "first" / "metrics.jsonl").read_text() == before  # not trained again
    assert steps_of(tmp_path / "first") == steps_of(tmp_path / "second") == list(range(1, 9))
    assert spans(tmp_path / "second") == [(0, 4), (4, 8)]
    assert run_grid(cells) is None  # all finished: nothing to do


def test_a_grid_refuses_a_folder_of_another_plan(tmp_path: Path) -> None:
    cells = two_cells(tmp_path)
    train(replace(cells[0].plan, seed=5, iterations=2))
    with pytest.raises(ConfigError, match=r"first was trained with another plan: iterations 2 \(now 8\), seed 5 \(now 0\)"):
        run_grid(cells)


def test_the_lenet_ablation_resumes_a_cut_run(tmp_path: Path, monkeypatch) -> None:
    """SIGTERM in the middle of the ablation's second run: it saves there; the same call finishes
    the grid, each run trained once and logged once."""
    cfg = AblationConfig(out=str(tmp_path), dataset="digits", seeds=(0,), epochs=1, device="cpu", progress=False)
    original = loop._Training._step
    runs = {"n": 0}

    def step_then_signal(self, x, y, window):
        original(self, x, y, window)
        if self.step == 1:
            runs["n"] += 1
        if runs["n"] == 2 and self.step == 5:
            os.kill(os.getpid(), signal.SIGTERM)

    with monkeypatch.context() as m:
        m.setattr(loop._Training, "_step", step_then_signal)
        stopped = run_lenet_ablation(cfg)
    assert isinstance(stopped, GridStopped)
    assert (stopped.cell, stopped.step, stopped.signal) == ("max-tanh-seed0", 5, signal.SIGTERM)
    assert stopped.finished == ["avg-tanh-seed0"]
    results = run_lenet_ablation(cfg)
    assert set(results["variants"]) == {"avg pool + tanh", "max pool + tanh", "avg pool + ReLU", "max pool + ReLU"}
    cut = tmp_path / "runs" / "max-tanh-seed0"
    per_epoch = steps_of(tmp_path / "runs" / "avg-tanh-seed0")
    assert len(per_epoch) == 1 and steps_of(cut) == per_epoch  # one record, at the epoch's end
    assert spans(cut) == [(0, 5), (5, per_epoch[0])]


# ---- the figure at full length -----------------------------------------------------------------


def test_the_verdict_words_follow_the_numbers() -> None:
    """A step counts only beyond the sampling error of the difference; a tie is a tie."""
    n = 50_000
    assert sampling_spread(0.02, 0.02, n) == pytest.approx(200 * (2 * 0.02 * 0.98 / n) ** 0.5)
    assert depth_step("plain", "clean pass", 0.02, 0.05, n).word == "worse"
    assert depth_step("resnet", "clean pass", 0.02, 0.01, n).word == "better"
    assert depth_step("resnet", "clean pass", 0.0200, 0.0195, n).word == "tie"
    assert depth_step("resnet", "clean pass", 0.0200, 0.0195, 10_000_000).word == "better"  # more images, less noise
    assert "ties with ResNet-20" in depth_step("resnet", "clean pass", 0.0200, 0.0195, n).sentence()
    assert paper_claim([depth_step("plain", "clean pass", 0.02, 0.05, n), depth_step("resnet", "clean pass", 0.02, 0.01, n)]
                       ).startswith("Both halves")  # fmt: skip
    claim = paper_claim([depth_step("plain", "clean pass", 0.02, 0.05, n), depth_step("resnet", "clean pass", 0.02, 0.03, n)])
    assert claim.startswith("Not both") and "the deeper ResNet does NOT train better" in claim


def test_the_full_length_figure_draws_both_panels_from_run_folders(tmp_path: Path) -> None:
    """On a tiny budget (2 epochs of 256 digits): the four networks trained into their folders,
    curves against epochs and the final training error against depth, measured two ways."""
    cfg = FullLengthConfig(out=str(tmp_path / "fig"), dataset="digits", subset=256, epochs=2, device="cpu",
                           progress=False, compile=False)  # fmt: skip
    results = run_full_length(cfg)
    assert set(results["networks"]) == set(NETWORKS)
    figure = results["figure"]
    assert figure["curves"] == {n: {"train": 2, "test": 2} for n in NETWORKS}
    for family in ("plain", "resnet"):
        lines = figure["depth"][family]
        assert len(lines["clean pass"]) == len(lines["last epoch"]) == 2
    (lo, hi), other = figure["y_range"]
    assert other == [lo, hi]  # both curve panels on one scale, which holds every curve of both
    values = [100 * v for n in results["networks"].values() for v in n["train_error"] + [t for t in n["test_error"] if t]]
    assert lo <= min(values) and max(values) <= hi
    assert figure["y_labels"] and all(label.replace(".", "").isdigit() for label in figure["y_labels"])  # 20, not 2x10^1
    for name, n in results["networks"].items():
        assert n["clean_images"] == 256 and 0 <= n["clean_train_error"] <= 1, name
        assert n["epochs"] == [1.0, 2.0] and n["last_epoch_train_error"] == n["train_error"][-1]
    assert len(results["sentences"]) == 4 and results["claim"]
    assert (tmp_path / "fig" / "full-length.png").stat().st_size > 10_000
    assert "| resnet56 |" in (tmp_path / "fig" / "report.md").read_text()
    again = run_full_length(cfg)  # everything finished: read back, not trained again
    assert again["networks"] == results["networks"]


def test_the_full_length_figure_takes_a_folder_that_classicnets_train_made(tmp_path: Path) -> None:
    """The deep end trains each network with `classicnets train NAME --recipe resnet-cifar-fast` (issue
    #32, inflight/): such a folder is the figure's own plan, so `--run NAME=FOLDER` reads it back
    instead of refusing it; eager or compiled is the machine's choice, not the plan's."""
    from classicnets.experiments.grid import plan_differences, saved_config

    folder = tmp_path / "plain20-digits"
    assert main(["train", "plain20", "--dataset", "digits", "--recipe", "resnet-cifar-fast", "--subset", "256", "--epochs",
                 "2", "--out", str(folder), "--no-compile", "--device", "cpu", "--no-progress"]) == 0  # fmt: skip
    cfg = FullLengthConfig(dataset="digits", subset=256, epochs=2, compile=True, runs={"plain20": str(folder)})
    assert plan_differences(saved_config(folder), cfg.plan("plain20", folder)) == []
    other = FullLengthConfig(dataset="digits", subset=256, epochs=3)  # a longer plan is another plan
    assert plan_differences(saved_config(folder), other.plan("plain20", folder)) == ["epochs 2 (now 3)"]


def test_the_full_length_figure_refuses_a_run_of_another_recipe(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "other"
    train(make_config("plain20", "digits", str(other), recipe="resnet-cifar", iterations=2, threads=1, progress=False,
                      compile=False, device="cpu"))  # fmt: skip
    cfg = FullLengthConfig(out=str(tmp_path / "fig"), dataset="digits", subset=256, epochs=2, device="cpu",
                           progress=False, compile=False, runs={"plain20": str(other)})  # fmt: skip
    with pytest.raises(ConfigError, match="was not trained as this figure's plain20: recipe resnet-cifar"):
        run_full_length(cfg)
    assert not (tmp_path / "fig").exists()  # refused before anything trained
    assert main(["experiment", "full-length", "--out", str(tmp_path / "fig2"), "--run", f"plain20={other}"]) == 2
    line = [x for x in capsys.readouterr().err.splitlines() if x.strip()]
    assert len(line) == 1 and "was not trained as this figure's plain20: dataset digits (now cifar10)" in line[0]
    assert main(["experiment", "full-length", "--run", "plain21=x"]) == 2
    assert "the figure's networks are plain20, resnet20, plain56, resnet56" in capsys.readouterr().err


def test_the_full_length_help_names_the_time_per_network(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["experiment", "full-length", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert all(f"{n} about" in text for n in NETWORKS) and "AVX512-BF16" in text


# ---- every experiment's flags come from its config ---------------------------------------------


@pytest.mark.parametrize(("command", "config"), [("degradation", "DegradationConfig"), ("lenet-ablation", "AblationConfig"),
                                                 ("full-length", "FullLengthConfig"), ("live-budget", "LiveBudgetConfig")])  # fmt: skip
def test_each_experiments_flags_are_its_configs_fields(command: str, config: str, capsys: pytest.CaptureFixture[str]) -> None:
    import argparse
    from dataclasses import dataclass, field, fields

    import classicnets.experiments as ex
    from classicnets.cli.experiments import GROUPS
    from classicnets.cli.options import add_config_options
    from classicnets.train.config import option

    cls = getattr(ex, config)
    with pytest.raises(SystemExit):
        main(["experiment", command, "--help"])
    text = capsys.readouterr().out
    documented = [f for f in fields(cls) if "help" in f.metadata]
    assert len(documented) >= 8
    for f in documented:
        assert f.metadata.get("flag", "--" + f.name.replace("_", "-")) in text, f.name

    @dataclass
    class Extended(cls):  # type: ignore[misc, valid-type]
        new_knob: int = field(default=3, metadata=option("a knob added to the config", "run"))

    parser = argparse.ArgumentParser()
    add_config_options(parser, Extended, GROUPS)
    assert "--new-knob" in parser.format_help() and "a knob added to the config (default 3)" in parser.format_help()


def test_an_experiments_duration_is_parsed_once_at_the_edge(capsys: pytest.CaptureFixture[str]) -> None:
    from classicnets.cli import build_parser
    from classicnets.cli.options import given
    from classicnets.experiments import DegradationConfig

    args = build_parser().parse_args(["experiment", "degradation", "--stop-after", "1h30m", "--seeds", "0", "1"])
    assert given(args, DegradationConfig)["stop_after"] == 5400.0  # seconds from here on
    assert DegradationConfig(**given(args, DegradationConfig)).seeds == (0, 1)
    assert main(["experiment", "degradation", "--stop-after", "5x"]) == 2
    err = [x for x in capsys.readouterr().err.splitlines() if x.strip()]
    assert len(err) == 1 and "--stop-after wants a duration such as 150m" in err[0]
    assert main(["experiment", "degradation", "--seed", "3", "--seeds", "0", "1"]) == 2
    assert "give --seed N or --seeds N [N ...], not both" in capsys.readouterr().err


def test_trains_segment_limit_is_seconds_from_the_edge_on(capsys: pytest.CaptureFixture[str]) -> None:
    """`classicnets train --stop-after` is parsed once, into seconds; a run configuration saved when
    limits were text ("0.001s") still loads, as seconds; the stop message writes it back as a duration."""
    from classicnets.cli import build_parser
    from classicnets.cli.options import given
    from classicnets.train import TrainConfig
    from classicnets.train.config import format_duration

    args = build_parser().parse_args(["train", "lenet5", "--dataset", "digits", "--out", "o", "--stop-after", "2h30m"])
    assert given(args, TrainConfig)["stop_after"] == 9000.0
    old = TrainConfig.from_dict({"model": "lenet5", "dataset": "digits", "out": "o", "stop_after": "0.001s"})
    assert old.stop_after == 0.001 and old.validate().to_dict()["stop_after"] == 0.001
    assert [format_duration(s) for s in (0.001, 90, 2700, 9000, 3605)] == ["0.001s", "1m30s", "45m", "2h30m", "1h5s"]
    assert main(["train", "lenet5", "--dataset", "digits", "--out", "o", "--stop-after", "soon"]) == 2
    assert "--stop-after wants a duration" in capsys.readouterr().err
