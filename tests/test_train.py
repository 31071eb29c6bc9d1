"""Training for real: learning on MNIST, exact resume after SIGKILL, atomic checkpoints, divergence,
eval/predict, config errors, unsafe state files, and a 2-process DDP run.

MNIST comes from ../shared/data (relative to the repository root); tests that need it skip with
the reason when it is missing. ``digits`` (bundled with scikit-learn) is used everywhere else.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
from PIL import Image
from torch import nn

from classicnets import registry
from classicnets.models import ClassicNet
from classicnets.cli import main
from classicnets.data import load_dataset
from classicnets.errors import CheckpointError, ConfigError, UnknownNameError
from classicnets.train import (
    checkpoint,
    evaluate,
    load_run,
    load_weights,
    loop,
    make_config,
    predict,
    read_meta,
    read_metrics,
    read_weights,
    resume,
    train,
)
from classicnets.train.checkpoint import LAST, PENDING, STATE, read_state
from classicnets.train.schedules import LRController

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
# One thread everywhere: on 2 shared cores, 2 OpenMP threads per process slowed training ~80x
# under contention from other processes; one thread per process keeps the tests steady.
ENV = {**os.environ, "PYTHONPATH": str(REPO / "src"), "OMP_NUM_THREADS": "1"}
MNIST_TEST_ACCURACY = 0.95  # lenet5_modern, 10k MNIST images, 2 epochs: measured ~0.97-0.98
DDP_VAL_TOLERANCE = 0.02  # |val error (2 processes) - val error (1 process)|: 2 points, ~3 of 144 images
DDP_WEIGHT_TOLERANCE = 1e-3  # max |weight difference| after 100 steps (measured: ~1e-7)
QUICK = ["--dataset", "digits", "--no-progress", "--threads", "1"]


def need_mnist() -> str:
    if not (SHARED_DATA / "mnist").is_dir():
        pytest.skip(f"real MNIST not available: {SHARED_DATA / 'mnist'} is missing")
    return str(SHARED_DATA)


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python -m classicnets ARGS`` in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "classicnets", *args], capture_output=True, text=True, env=ENV, cwd=REPO, timeout=timeout
    )


def one_line_error(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def tensors(path: Path) -> dict[str, torch.Tensor]:
    return read_weights(path)[0]


def assert_bit_identical(a: Path, b: Path) -> None:
    ta, tb = tensors(a), tensors(b)
    assert ta.keys() == tb.keys()
    for k in ta:
        assert torch.equal(ta[k], tb[k]), f"{k} differs"


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    """Train in-process with one thread (``threads=1``), and give other tests their threads back."""
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def mnist_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, loop.TrainResult, float]:
    """lenet5_modern trained on 10k MNIST images for 2 epochs with the default (fast) recipe."""
    data_dir = need_mnist()
    out = tmp_path_factory.mktemp("mnist") / "run"
    start = time.perf_counter()
    result = train(
        make_config(
            "lenet5_modern", "mnist", str(out), data_dir=data_dir, subset=10_000, epochs=2, threads=1, progress=False
        )
    )
    return out, result, time.perf_counter() - start


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A quick run on digits, for the tests that need any checkpoint."""
    out = tmp_path_factory.mktemp("digits") / "run"
    train(make_config("lenet5_modern", "digits", str(out), epochs=1, threads=1, progress=False))
    return out


# --- learning ------------------------------------------------------------------------------------


def test_lenet5_modern_learns_mnist(mnist_run: tuple[Path, loop.TrainResult, float]) -> None:
    out, result, seconds = mnist_run
    print(f"lenet5_modern, 10k MNIST, 2 epochs: test accuracy {1 - result.test_error:.4f}, {seconds:.1f}s")
    assert result.test_error is not None and 1 - result.test_error >= MNIST_TEST_ACCURACY
    assert result.best_val_error is not None and result.best_val_error < 0.06
    records = read_metrics(out)
    assert [r["step"] for r in records] == [156, 312]  # 10000 // 64 steps per epoch, logged at epoch ends
    assert set(records[0]) >= {
        "step",
        "epoch",
        "train_loss",
        "train_error",
        "val_error",
        "test_error",
        "lr",
        "images_per_s",
        "wall_time",
    }
    meta = read_meta(out / "best.safetensors")
    assert (meta.model, meta.input_size, meta.data_size, meta.dataset) == (
        "lenet5_modern",
        (1, 32, 32),
        (28, 28),
        "mnist",
    )
    assert meta.classes == tuple("0123456789") and len(meta.mean) == 1 and meta.step == result.best_step
    # the loop and `evaluate` share evaluate_split: the same weights give the same test error
    assert evaluate(out / LAST, device="cpu").error == result.test_error


def test_eval_and_predict(
    mnist_run: tuple[Path, loop.TrainResult, float], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = mnist_run[0]
    assert main(["eval", str(out), "--device", "cpu"]) == 0
    printed = capsys.readouterr().out
    assert "test error" in printed and "confusion matrix" in printed
    assert (out / "confusion.png").read_bytes()[:4] == b"\x89PNG"

    test = load_dataset("mnist", need_mnist()).test
    png = tmp_path / "seven.png"
    Image.fromarray(test.images[0, 0].numpy()).save(png)  # the first MNIST test image, a clear 7
    assert int(test.labels[0]) == 7
    top = predict(out, [png], topk=3, device="cpu")[0]
    assert top[0][0] == "7" and top[0][1] > 0.5 and len(top) == 3
    proc = cli("predict", str(out / "best.safetensors"), str(png), "--topk", "2", "--device", "cpu")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[1].split()[-1] == "7"


# --- resume and checkpoints ------------------------------------------------------------------------


def test_resume_after_sigkill_is_bit_identical(tmp_path: Path) -> None:
    args = ["train", "lenet5_modern", *QUICK, "--epochs", "4", "--batch-size", "32", "--eval-every", "10"]
    ref, victim = tmp_path / "ref", tmp_path / "victim"
    reference = subprocess.Popen(
        [sys.executable, "-m", "classicnets", *args, "--out", str(ref)],
        env=ENV,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "classicnets", *args, "--out", str(victim)],
        env=ENV,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    reads, deadline = 0, time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if (victim / LAST).exists():
            reads += 1  # every read must succeed: no half-written file is ever visible
            if read_meta(victim / LAST).step >= 60:
                break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL, "the run finished before it could be killed"
    assert reads > 0
    killed_at = read_state(victim / STATE)["step"]
    assert 60 <= killed_at < 160  # 4 epochs x 40 steps
    read_weights(victim / "best.safetensors")  # every file loads after the kill

    resumed = cli("train", "--resume", str(victim), "--no-progress")
    assert resumed.returncode == 0, resumed.stderr
    assert reference.wait(timeout=120) == 0, reference.stderr.read() if reference.stderr else ""
    assert_bit_identical(ref / LAST, victim / LAST)
    assert_bit_identical(ref / "best.safetensors", victim / "best.safetensors")
    strip = [{k: v for k, v in r.items() if k not in ("images_per_s", "wall_time")} for r in read_metrics(ref)]
    assert strip == [
        {k: v for k, v in r.items() if k not in ("images_per_s", "wall_time")} for r in read_metrics(victim)
    ]


class TinyDropoutNet(ClassicNet):
    """A small model with dropout, so that an exact resume needs the saved RNG state."""

    first_conv_name, classifier_name = "net.0", "net.4"

    def __init__(self, num_classes: int = 10, in_chans: int = 1) -> None:
        super().__init__()
        self.num_classes, self.in_chans = num_classes, in_chans
        self.net = nn.Sequential(
            nn.Conv2d(in_chans, 8, 3, stride=2),
            nn.ReLU(),
            nn.Flatten(),
            nn.Dropout(0.5),
            nn.Linear(8 * 13 * 13, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def test_resume_restores_dropout_rng(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    info = registry.ModelInfo(
        name="tiny_dropout",
        family="test",
        paper="-",
        year=2024,
        input_size=(1, 28, 28),
        num_classes=10,
        dataset="digits",
        depth=2,
        params=registry.Published(0, "-"),
    )
    monkeypatch.setitem(registry._BUILDERS, "tiny_dropout", TinyDropoutNet)
    monkeypatch.setitem(registry._INFO, "tiny_dropout", info)
    options = {"epochs": 2, "batch_size": 32, "eval_every": 10, "threads": 1, "progress": False}
    train(make_config("tiny_dropout", "digits", str(tmp_path / "ref"), **options))

    real_step = loop._Training._step

    def crash_at_step_27(self: loop._Training, *args: object) -> None:
        if self.step == 27:
            raise KeyboardInterrupt  # an interruption 7 steps after the checkpoint at step 20
        real_step(self, *args)

    monkeypatch.setattr(loop._Training, "_step", crash_at_step_27)
    with pytest.raises(KeyboardInterrupt):
        train(make_config("tiny_dropout", "digits", str(tmp_path / "cut"), **options))
    monkeypatch.setattr(loop._Training, "_step", real_step)
    torch.manual_seed(12345)  # a different global RNG state: resume must restore the saved one
    resume(tmp_path / "cut")
    assert_bit_identical(tmp_path / "ref" / LAST, tmp_path / "cut" / LAST)


def test_atomic_write_keeps_old_file_on_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "f.bin"
    checkpoint.atomic_write(target, b"old")

    def fail(*_: object) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(checkpoint.os, "replace", fail)
    with pytest.raises(OSError):
        checkpoint.atomic_write(target, b"new")
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def test_kill_between_state_and_weights_rolls_forward(
    digits_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = tmp_path / "run"
    shutil.copytree(digits_run, run)
    loaded = load_run(run / LAST)
    state = {k: v for k, v in read_state(run / STATE).items() if k != "save_id"}
    meta = loaded.meta.with_step(loaded.meta.step, loaded.meta.epoch, loaded.meta.val_error)
    real_replace = os.replace

    def die_before_weights(src: str | Path, dst: str | Path) -> None:
        if str(src).endswith(PENDING):
            raise KeyboardInterrupt  # killed after the state was replaced, before the weights
        real_replace(src, dst)

    monkeypatch.setattr(checkpoint.os, "replace", die_before_weights)
    with pytest.raises(KeyboardInterrupt):
        checkpoint.save_last(run, loaded.model, meta, state)
    monkeypatch.undo()
    assert read_meta(run / LAST).save_id != meta.save_id  # the old weights are still in place...
    new_state, weights = checkpoint.load_training_state(run)  # ...and loading finishes the save
    assert new_state["save_id"] == read_meta(weights).save_id == meta.save_id
    assert not (run / PENDING).exists()


def test_checkpoint_for_another_model_or_malformed(
    digits_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from classicnets import create_model

    weights = digits_run / LAST
    with pytest.raises(CheckpointError, match="for model 'lenet5_modern', not 'lenet5'"):
        load_weights(create_model("lenet5"), weights, "lenet5")
    with pytest.raises(CheckpointError, match="num_classes=10"):
        load_weights(create_model("lenet5_modern", num_classes=5), weights, "lenet5_modern")
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(weights.read_bytes()[:-100])
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"not a checkpoint at all")
    for bad in (truncated, garbage):
        with pytest.raises(CheckpointError) as e:
            load_run(bad)
        assert "\n" not in str(e.value)
        assert main(["eval", str(bad)]) == 2
        one_line_error(capsys.readouterr().err)
    broken_state = tmp_path / "state.pt"
    broken_state.write_bytes((digits_run / STATE).read_bytes()[:500])
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        read_state(broken_state)


class Evil:
    """Unpickling this writes a marker file: a state file carrying it must never be unpickled."""

    marker = ""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return exec, (f"open({self.marker!r}, 'w').write('pwned')",)


def test_resume_refuses_state_that_would_run_code(
    digits_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    shutil.copytree(digits_run, run)
    marker = tmp_path / "marker"
    evil = Evil()
    evil.marker = str(marker)
    torch.save({"format": 1, "config": read_state(run / STATE)["config"], "payload": evil}, run / STATE)
    assert main(["train", "--resume", str(run)]) == 2
    assert "refusing" in one_line_error(capsys.readouterr().err)
    assert not marker.exists()


# --- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--lr", "-1", "--lr must be positive"),
        ("--batch-size", "0", "--batch-size must be positive"),
        ("--momentum", "1.5", "--momentum must be in"),
        ("--epochs", "0", "--epochs must be positive"),
    ],
)
def test_invalid_hyperparameters_exit_2_with_one_line(
    flag: str, value: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", "lenet5", "--dataset", "digits", "--out", str(tmp_path / "r"), flag, value]) == 2
    assert message in one_line_error(capsys.readouterr().err)
    assert not (tmp_path / "r").exists()


def test_run_folder_rules(digits_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "lenet5_modern", *QUICK, "--out", str(digits_run)]) == 2
    assert "already holds a run" in one_line_error(capsys.readouterr().err)
    assert main(["train", "--resume", str(digits_run), "--lr", "0.5"]) == 2
    assert "cannot change --lr 0.5 (the run has 0.05) when resuming" in one_line_error(capsys.readouterr().err)
    assert main(["train", "--resume", str(digits_run)]) == 2
    assert "already finished" in one_line_error(capsys.readouterr().err)


def test_the_same_command_with_resume_added_continues_the_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """As with timm's and Lightning's scripts: re-run the command, add --resume; only what differs is refused."""
    out = tmp_path / "run"
    command = ["train", "lenet5_modern", "--dataset", "digits", "--out", str(out), "--lr", "0.02", "--threads", "1",
               "--no-progress", "--batch-size", "32"]  # fmt: skip
    assert main([*command, "--iterations", "10"]) == 0
    assert main([*command, "--iterations", "20", "--resume", str(out)]) == 0  # same options, a longer run
    assert read_state(out / STATE)["step"] == 20
    capsys.readouterr()
    assert main([*command[:-2], "--batch-size", "64", "--weight-decay", "0", "--iterations", "30", "--resume", str(out)]) == 2
    message = one_line_error(capsys.readouterr().err)
    assert "--batch-size 64 (the run has 32)" in message and "--weight-decay 0.0 (the run has 0.0005)" in message
    assert main(["train", "--resume", str(out), "--out", str(tmp_path / "elsewhere")]) == 2
    assert "is not the run folder being resumed" in one_line_error(capsys.readouterr().err)


def test_segment_limit_stops_at_a_checkpoint_and_resume_finishes_the_same_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--stop-after ends the process at the first logging point past the limit; resuming (in as many
    segments as it takes) trains exactly the steps an uninterrupted run trains, to the same weights."""
    command = ["train", "lenet5_modern", *QUICK, "--iterations", "40", "--eval-every", "5", "--batch-size", "32"]
    assert main([*command, "--out", str(tmp_path / "whole")]) == 0
    capsys.readouterr()
    segmented = tmp_path / "segmented"
    assert main([*command, "--out", str(segmented), "--stop-after", "0.001s"]) == 0
    said = capsys.readouterr().out
    assert "stopped at the segment limit (--stop-after 0.001s) after step 5 of 40" in said
    assert f"Continue with: classicnets train --resume {segmented}" in said
    assert read_state(segmented / STATE)["step"] == 5 and [r["step"] for r in read_metrics(segmented / "metrics.jsonl")] == [5]
    assert main(["train", "--resume", str(segmented), "--stop-after", "0.001s"]) == 0  # a second short segment
    assert read_state(segmented / STATE)["step"] == 10
    assert main(["train", "--resume", str(segmented)]) == 0  # no limit: the limit is not inherited
    assert "done: 40 steps" in capsys.readouterr().out
    assert [r["step"] for r in read_metrics(segmented / "metrics.jsonl")] == list(range(5, 45, 5))
    assert_bit_identical(segmented / LAST, tmp_path / "whole" / LAST)
    segments = json.loads((segmented / "segments.json").read_text())
    assert [(s["from_step"], s["to_step"]) for s in segments] == [(0, 5), (5, 10), (10, 40)]
    assert all(s["cpu"] and s["precision"] in ("bf16", "fp32") and s["train_wall_s"] >= 0 for s in segments)
    assert read_state(segmented / STATE)["segments"] == segments  # the state carries them to the next segment


@pytest.mark.parametrize("text", ["5x", "m", "1h1h", "-3m", "0s", "inf"])
def test_bad_segment_limit_is_one_line(text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "lenet5_modern", *QUICK, "--out", str(tmp_path / "r"), f"--stop-after={text}"]) == 2
    assert "--stop-after" in one_line_error(capsys.readouterr().err)
    assert not (tmp_path / "r").exists()


def test_durations() -> None:
    from classicnets.train.config import parse_duration

    assert [parse_duration(t) for t in ("150m", "2h", "1h30m", "90s", "45", "0.5h", "1h2m3s")] == [
        9000, 7200, 5400, 90, 45, 1800, 3723
    ]


def test_divergence_stops_at_once_and_keeps_last_good_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    assert main(["train", "lenet5_modern", *QUICK, "--out", str(out), "--lr", "1e6", "--eval-every", "1"]) == 2
    message = one_line_error(capsys.readouterr().err)
    assert "diverged" in message and "lower the learning rate" in message
    tensors_, meta = read_weights(out / LAST)
    state = read_state(out / STATE)
    assert meta.save_id == state["save_id"] and meta.step == state["step"] >= 1
    assert all(torch.isfinite(t).all() for t in tensors_.values() if t.is_floating_point())
    steps = [r["step"] for r in read_metrics(out)]
    assert steps == list(range(1, meta.step + 1))  # stopped at the first bad step: 1 per step logged


def test_divergence_between_logging_points_names_the_first_bad_step(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Losses stay on the device between logging points; the check there still finds the step."""
    out = tmp_path / "run"
    assert main(["train", "lenet5_modern", *QUICK, "--out", str(out), "--lr", "1e6", "--eval-every", "5",
                 "--iterations", "10"]) == 2  # fmt: skip
    message = one_line_error(capsys.readouterr().err)
    step = int(message.split("training diverged at step ")[1].split()[0])
    assert 1 <= step <= 5 and ("the loss is nan" in message or "the loss is inf" in message)
    assert not (out / LAST).exists()  # nothing saved from a state after the loss went bad


def test_logging_only_every_n_steps_when_epochs_are_not_logged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    # digits: 1,293 training images, 40 steps of 32 per epoch; 100 steps cross two epoch ends
    assert main(["train", "lenet5_modern", *QUICK, "--out", str(out), "--batch-size", "32", "--iterations", "100",
                 "--eval-every", "30", "--no-log-epochs", "--test-eval", "end"]) == 0  # fmt: skip
    records = read_metrics(out)
    assert [r["step"] for r in records] == [30, 60, 90, 100]
    assert [r["test_error"] is not None for r in records] == [False, False, False, True]
    assert main(["train", "lenet5_modern", *QUICK, "--out", str(tmp_path / "x"), "--no-log-epochs"]) == 2
    assert "--no-log-epochs needs --eval-every N" in one_line_error(capsys.readouterr().err)


def test_logged_speed_is_training_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """images_per_s counts the training steps of the window, not the evaluation after them."""
    real = loop.evaluate_split

    def slow(*args, **kwargs):  # an evaluation that takes half a second
        time.sleep(0.5)
        return real(*args, **kwargs)

    monkeypatch.setattr(loop, "evaluate_split", slow)
    train(make_config("lenet5_modern", "digits", str(tmp_path / "r"), batch_size=32, iterations=10, eval_every=5,
                      threads=1, progress=False))  # fmt: skip
    rates = [r["images_per_s"] for r in read_metrics(tmp_path / "r")]
    assert len(rates) == 2 and min(rates) > 1000  # 160 images per window; with the evaluation it would be < 320


def test_model_args_input_size_and_recipe_reach_the_model(tmp_path: Path) -> None:
    vgg = train(
        make_config(
            "vgg11",
            "digits",
            str(tmp_path / "vgg"),
            model_args={"head": "cifar"},
            input_size=32,
            iterations=2,
            subset=128,
            batch_size=64,
            val_size=32,
            threads=1,
            progress=False,
        )
    )
    meta = read_meta(vgg.out / LAST)
    assert (meta.model_args, meta.input_size, meta.data_size) == ({"head": "cifar"}, (1, 32, 32), (28, 28))
    assert evaluate(vgg.out, device="cpu").count == 359  # load_run rebuilds vgg11(head="cifar") from the file
    res = train(
        make_config(
            "resnet20",
            "digits",
            str(tmp_path / "resnet"),
            recipe="resnet-cifar",
            iterations=2,
            batch_size=64,
            threads=1,
            progress=False,
        )
    )
    meta = read_meta(res.out / LAST)
    assert (meta.recipe, meta.input_size, meta.config["milestones"], meta.config["crop_padding"]) == (
        "resnet-cifar",
        (1, 32, 32),
        [32_000, 48_000],
        4,
    )


@pytest.mark.skipif(importlib.util.find_spec("tensorboard") is not None, reason="tensorboard is installed")
def test_tensorboard_missing_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "lenet5_modern", *QUICK, "--out", str(tmp_path / "r"), "--tensorboard"]) == 2
    assert "pip install tensorboard" in one_line_error(capsys.readouterr().err)


# --- recipes and schedules -------------------------------------------------------------------------


def test_recipes_and_user_overrides() -> None:
    cfg = make_config("resnet20", "cifar10", "x", recipe="resnet-cifar")
    assert (cfg.batch_size, cfg.lr, cfg.momentum, cfg.weight_decay, cfg.iterations) == (128, 0.1, 0.9, 1e-4, 64_000)
    lr = LRController(cfg, steps_per_epoch=352, total_steps=64_000)
    assert [lr.lr(s) for s in (0, 31_999, 32_000, 47_999, 48_000)] == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001])
    assert cfg.warmup_lr is None and (cfg.crop_padding, cfg.hflip) == (4, True)

    deep = make_config("resnet110", "cifar10", "x", recipe="resnet-cifar")
    warm = LRController(deep, steps_per_epoch=352, total_steps=64_000)
    assert warm.lr(0) == 0.01
    for _ in range(100):
        warm.observe_batch(0.5)  # the running training error falls below 80%
    assert warm.lr(1) == 0.1

    user = make_config("resnet20", "cifar10", "x", recipe="resnet-cifar", lr=0.05, epochs=2)
    assert (user.lr, user.epochs, user.iterations, user.batch_size) == (0.05, 2, None, 128)

    lenet = make_config("lenet5", "mnist", "x", recipe="lenet5")
    ctl = LRController(lenet, steps_per_epoch=100, total_steps=2000)
    rates = [ctl.lr(epoch * 100) / lenet.lr for epoch in (0, 1, 2, 4, 5, 8, 12, 19)]
    assert rates == pytest.approx([1, 1, 0.4, 0.4, 0.2, 0.1, 0.02, 0.02])  # LeCun's 5e-4 ... 1e-5 shape

    vgg = make_config("vgg16", "cifar10", "x", recipe="vgg")
    plateau = LRController(vgg, steps_per_epoch=10, total_steps=740)
    for err in (0.5,) + (0.4,) * 7:  # an improvement, then 6 epochs without one
        plateau.observe_epoch(err)
    assert plateau.lr(0) == pytest.approx(0.001)  # 6 epochs without improvement > patience 5: /10
    with pytest.raises(UnknownNameError, match="resnet-cifar"):
        make_config("resnet20", "cifar10", "x", recipe="resnet-cifr")
    with pytest.raises(ConfigError, match="piecewise"):
        make_config("lenet5", "mnist", "x", recipe="lenet5", lr_factors=(1.0,))


# --- distributed -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.skipif(
    not dist.is_available() or not dist.is_gloo_available(), reason="torch.distributed with gloo is not available"
)
def test_ddp_two_processes_match_one(tmp_path: Path) -> None:
    """2 CPU processes (gloo, loopback) with the same GLOBAL batch as one process: both see the same
    images per step and average the same gradient, so the weights agree to DDP_WEIGHT_TOLERANCE and
    the validation errors within DDP_VAL_TOLERANCE (fp32; only the summation order differs).

    The rate is kept low (0.01): at 0.05 this net's escape from its initial plateau is chaotic and
    amplifies 1e-7 rounding differences into a few points of validation error."""
    options = ["--epochs", "5", "--batch-size", "64", "--lr", "0.01", "--schedule", "cosine", "--precision", "fp32"]
    ddp = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node=2",
            "--master_addr=127.0.0.1",
            f"--master_port={free_port()}",
            "-m",
            "classicnets",
            "train",
            "lenet5_modern",
            "--dataset",
            "digits",
            "--no-progress",
            "--out",
            str(tmp_path / "ddp"),
            *options,
        ],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=REPO,
        timeout=240,
    )
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    assert ddp.stdout.count("done:") == 1  # only rank 0 reports
    records = read_metrics(tmp_path / "ddp")
    assert [r["step"] for r in records] == [20, 40, 60, 80, 100]  # 1293 // 64 steps per epoch, one writer
    state = read_state(tmp_path / "ddp" / STATE)
    assert state["world_size"] == 2 and len(state["rng"]) == 2
    model = load_run(tmp_path / "ddp").model
    assert isinstance(model, nn.Module)

    single = cli("train", "lenet5_modern", *QUICK, "--out", str(tmp_path / "one"), *options)
    assert single.returncode == 0, single.stderr
    ddp_val, one_val = records[-1]["val_error"], read_metrics(tmp_path / "one")[-1]["val_error"]
    print(f"val error: 2 processes {ddp_val:.4f}, 1 process {one_val:.4f}")
    assert ddp_val < 0.5  # chance is 0.9
    assert abs(ddp_val - one_val) <= DDP_VAL_TOLERANCE
    ddp_w, one_w = tensors(tmp_path / "ddp" / LAST), tensors(tmp_path / "one" / LAST)
    assert max(float((ddp_w[k] - one_w[k]).abs().max()) for k in ddp_w) <= DDP_WEIGHT_TOLERANCE
    assert json.loads((tmp_path / "ddp" / "config.json").read_text())["model"] == "lenet5_modern"


def test_flip_tta_averages_each_image_with_its_mirror() -> None:
    """``tta="flip"``: the probabilities are the mean of the softmax over an image and its mirror;
    on images that are their own mirror it changes nothing; an unknown kind is a one-line error."""
    import torch.nn.functional as F

    from classicnets import create_model
    from classicnets.data import TensorSplit, preprocess
    from classicnets.errors import UserError
    from classicnets.train.evaluate import evaluate_split

    torch.manual_seed(0)
    model = create_model("resnet20").eval()
    images = torch.randint(0, 256, (6, 3, 32, 32), dtype=torch.uint8)
    labels = torch.arange(6) % 10
    mean, std = (0.5, 0.4, 0.45), (0.25, 0.24, 0.26)
    kw = dict(mean=mean, std=std, device=torch.device("cpu"), precision="fp32", num_classes=10, batch_size=4)
    flipped = evaluate_split(model, TensorSplit(images, labels), tta="flip", **kw)
    x = preprocess(images, mean, std)
    with torch.no_grad():
        probs = (model(x).softmax(1) + model(x.flip(3)).softmax(1)) / 2
    assert flipped.error == pytest.approx((probs.argmax(1) != labels).float().mean().item())
    assert flipped.loss == pytest.approx(F.nll_loss(probs.log(), labels).item(), rel=1e-4)
    assert flipped.loss != pytest.approx(evaluate_split(model, TensorSplit(images, labels), **kw).loss, rel=1e-4)

    symmetric = TensorSplit(torch.cat([images[..., :16], images[..., :16].flip(3)], 3), labels)
    one_view = evaluate_split(model, symmetric, **kw)
    assert evaluate_split(model, symmetric, tta="flip", **kw).loss == pytest.approx(one_view.loss, rel=1e-5)
    with pytest.raises(UserError, match="tta must be one of none, flip"):
        evaluate_split(model, symmetric, tta="ten-crop", **kw)
