"""Runs that survive preemption and machine changes: a graceful stop on SIGTERM and SIGINT at the
step the run is on, a resume in another precision than the one that started the run, and run
folders that arrive damaged or incomplete."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from classicnets.cli import main
from classicnets.train import loop, make_config, read_metrics, resume, train
from classicnets.train.checkpoint import LAST, STATE, read_state
from classicnets.train.signals import GracefulStop, StopNow

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
ENV = {**os.environ, "PYTHONPATH": str(REPO / "src"), "OMP_NUM_THREADS": "1"}
# A resume in the other precision continues the same schedule from the same weights; only the
# rounding differs. Its windows' mean training loss stays within this share of an uninterrupted
# run's at the same steps (measured on digits, AMD EPYC with AVX512-BF16: at most 0.30% from bf16 to fp32 and
# 0.41% from fp32 to bf16, docs/reliability.md).
PRECISION_LOSS_TOLERANCE = 0.05


def one_line_error(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def stripped(records: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in ("images_per_s", "wall_time")} for r in records]


@pytest.fixture
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# ---- the graceful stop -----------------------------------------------------------------------


def test_sigterm_between_logging_points_saves_that_step_and_the_resume_finishes_the_same_run(tmp_path: Path) -> None:
    """A real LeNet-5 run on MNIST, sent SIGTERM between logging points: it saves a checkpoint at the
    step it is on, says how to continue, exits 143; the resume trains exactly the remaining steps,
    to the weights and the metrics log of an uninterrupted run."""
    if not (SHARED_DATA / "mnist").is_dir():
        pytest.skip(f"real MNIST not available: {SHARED_DATA / 'mnist'} is missing")
    total, every = 3000, 1000
    args = ["train", "lenet5_modern", "--dataset", "mnist", "--data-dir", str(SHARED_DATA), "--iterations", str(total),
            "--eval-every", str(every), "--no-log-epochs", "--threads", "1", "--no-progress"]  # fmt: skip
    ref, victim = tmp_path / "ref", tmp_path / "victim"
    reference = subprocess.run([sys.executable, "-m", "classicnets", *args, "--out", str(ref)],
                               env=ENV, cwd=REPO, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert reference.returncode == 0, reference.stderr
    proc = subprocess.Popen([sys.executable, "-m", "classicnets", *args, "--out", str(victim)],
                            env=ENV, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if (victim / STATE).exists() and read_state(victim / STATE)["step"] >= every:
            break
        time.sleep(0.02)
    time.sleep(0.3)  # into the steps between the first and the second logging point
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    took = time.monotonic() - sent
    assert proc.returncode == 128 + signal.SIGTERM, err
    step = read_state(victim / STATE)["step"]
    assert every < step < 2 * every, f"stopped at step {step}: not between the first two logging points"
    assert "SIGTERM received: saving a checkpoint at the current step" in err
    assert f"stopped by SIGTERM at step {step:,} of {total:,}, its checkpoint saved. " in out
    assert f"Continue with: classicnets train --resume {victim}" in out
    assert took < 10, f"the stop took {took:.1f} s"
    assert [r["step"] for r in read_metrics(victim)] == [every]  # nothing logged for the unfinished window

    resumed = subprocess.run([sys.executable, "-m", "classicnets", "train", "--resume", str(victim), "--no-progress"],
                             env=ENV, cwd=REPO, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert f"done: {total} steps" in resumed.stdout
    assert stripped(read_metrics(victim)) == stripped(read_metrics(ref))  # no gap, no duplicate, same averages
    a, b = (torch.load(p / STATE, weights_only=True) for p in (ref, victim))
    assert a["step"] == b["step"] == total
    from safetensors.torch import load_file

    ref_w, victim_w = load_file(ref / LAST), load_file(victim / LAST)
    assert all(torch.equal(ref_w[k], victim_w[k]) for k in ref_w)
    segments = json.loads((victim / "segments.json").read_text())
    assert [(s["from_step"], s["to_step"]) for s in segments] == [(0, step), (step, total)]


def test_a_signal_with_nothing_unsaved_stops_at_once_and_a_second_signal_too() -> None:
    """The handler: with nothing trained since the last save the first signal ends the run where it
    is (StopNow); otherwise it only asks, and a second SIGINT interrupts at once."""
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    with GracefulStop(lambda: False, announce=False) as stop:
        with pytest.raises(StopNow) as caught:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)
    assert caught.value.signum == signal.SIGTERM and stop.requested == signal.SIGTERM
    with GracefulStop(lambda: True, announce=False) as stop:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
        assert stop.requested == signal.SIGINT  # asked, not yet stopped
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before  # the previous handlers are back


def test_signal_in_process_stops_at_the_step_and_a_second_run_continues(tmp_path: Path, one_thread, monkeypatch) -> None:
    """In-process, SIGINT after step 7 of 20: the run returns stopped at step 7 with the signal, and
    the resumed run logs exactly the uninterrupted run's records."""
    plan = make_config("lenet5_modern", "digits", str(tmp_path / "cut"), iterations=20, eval_every=5, threads=1,
                       progress=False, device="cpu")  # fmt: skip
    whole = train(make_config("lenet5_modern", "digits", str(tmp_path / "whole"), iterations=20, eval_every=5,
                              threads=1, progress=False, device="cpu"))  # fmt: skip
    original = loop._Training._step

    def step_then_signal(self, x, y, window):
        original(self, x, y, window)
        if self.step == 7:
            os.kill(os.getpid(), signal.SIGINT)

    with monkeypatch.context() as m:
        m.setattr(loop._Training, "_step", step_then_signal)
        cut = train(plan)
    assert (cut.stopped, cut.signal, cut.steps) == (True, signal.SIGINT, 7)
    assert read_state(tmp_path / "cut" / STATE)["step"] == 7
    done = resume(tmp_path / "cut")
    assert done.steps == whole.steps == 20 and not done.stopped
    assert stripped(read_metrics(tmp_path / "cut")) == stripped(read_metrics(tmp_path / "whole"))


def test_a_signal_during_a_logging_points_evaluation_cuts_it_short(tmp_path: Path, one_thread, monkeypatch) -> None:
    """SIGTERM while step 10's logging point evaluates: the evaluation stops at once, step 10 is saved
    without its record, and the resumed run logs step 10 first: the log equals an uninterrupted run's."""
    options = {"iterations": 20, "eval_every": 10, "threads": 1, "progress": False, "device": "cpu"}
    train(make_config("lenet5_modern", "digits", str(tmp_path / "whole"), **options))
    original = loop._Training._evaluate

    def evaluate_then_signal(self, split_name):
        if self.step == 10 and split_name == "val":
            os.kill(os.getpid(), signal.SIGTERM)
        return original(self, split_name)

    with monkeypatch.context() as m:
        m.setattr(loop._Training, "_evaluate", evaluate_then_signal)
        cut = train(make_config("lenet5_modern", "digits", str(tmp_path / "cut"), **options))
    assert (cut.steps, cut.signal) == (10, signal.SIGTERM)
    assert read_state(tmp_path / "cut" / STATE)["step"] == 10 and not read_metrics(tmp_path / "cut")
    assert resume(tmp_path / "cut").steps == 20
    assert stripped(read_metrics(tmp_path / "cut")) == stripped(read_metrics(tmp_path / "whole"))


# ---- a resume in the other precision ---------------------------------------------------------


@pytest.mark.parametrize(("first", "then"), [("bf16", "fp32"), ("fp32", "bf16")])
def test_resume_in_the_other_precision_continues_the_schedule(first: str, then: str, tmp_path: Path, one_thread,
                                                               monkeypatch) -> None:  # fmt: skip
    """A run started in one precision and resumed in the other (bf16 units, then none, or the other
    way round): the same steps, the loss within PRECISION_LOSS_TOLERANCE of an uninterrupted run's,
    and the segments record which precision trained each part."""
    options = {"iterations": 60, "eval_every": 10, "threads": 1, "progress": False, "device": "cpu"}
    whole = tmp_path / "whole"
    train(make_config("lenet5_modern", "digits", str(whole), precision=first, **options))
    mixed = tmp_path / "mixed"
    def past_limit_at_step_30(self):
        return self.step == 30

    with monkeypatch.context() as m:
        m.setattr(loop._Training, "_past_segment_limit", past_limit_at_step_30)
        assert train(make_config("lenet5_modern", "digits", str(mixed), precision=first, **options)).steps == 30
    assert resume(mixed, precision=then).steps == 60
    a, b = read_metrics(whole), read_metrics(mixed)
    assert [r["step"] for r in a] == [r["step"] for r in b] == list(range(10, 70, 10))
    assert stripped(a[:3]) == stripped(b[:3])  # the same first segment, bit for bit
    for ra, rb in zip(a[3:], b[3:], strict=True):
        assert abs(rb["train_loss"] - ra["train_loss"]) <= PRECISION_LOSS_TOLERANCE * ra["train_loss"], (ra, rb)
    segments = json.loads((mixed / "segments.json").read_text())
    assert [(s["from_step"], s["to_step"], s["precision"]) for s in segments] == [(0, 30, first), (30, 60, then)]


# ---- damaged or missing state ------------------------------------------------------------------


def _truncate_state(run: Path) -> None:
    data = (run / STATE).read_bytes()
    (run / STATE).write_bytes(data[: len(data) // 2])


def _change_weights(run: Path) -> None:
    data = bytearray((run / LAST).read_bytes())
    data[-1] ^= 0xFF  # the last byte of the last tensor: still a readable safetensors file
    (run / LAST).write_bytes(bytes(data))


DAMAGE = {
    "truncated-state": (_truncate_state, "last.state.pt: corrupt or truncated training state"),
    "changed-weights": (_change_weights, "last.safetensors: its bytes changed since it was saved"),
    "missing-weights": (lambda run: (run / LAST).unlink(), "last.safetensors is missing (the weights of step 20)"),
    "missing-state": (lambda run: (run / STATE).unlink(), "last.state.pt is missing"),
    "missing-metrics": (lambda run: (run / "metrics.jsonl").unlink(), "metrics.jsonl is missing (the run's log up to step 20)"),
}


@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_damaged_or_missing_state_is_one_line_and_nothing_is_overwritten(
    case: str, tmp_path: Path, one_thread, capsys: pytest.CaptureFixture[str]
) -> None:  # fmt: skip
    run = tmp_path / "run"
    train(make_config("lenet5_modern", "digits", str(run), iterations=40, eval_every=10, threads=1, progress=False,
                      device="cpu", stop_after="0.001s"))  # fmt: skip
    assert main(["train", "--resume", str(run), "--stop-after", "0.001s", "--no-progress"]) == 0  # step 20
    damage, said = DAMAGE[case]
    damage(run)
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    capsys.readouterr()
    assert main(["train", "--resume", str(run), "--no-progress"]) == 2
    line = one_line_error(capsys.readouterr().err)
    assert said in line and "restore the run folder from a copy" in line, line
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before  # nothing written, nothing renamed


# ---- a run state written before these changes still resumes ------------------------------------

OLD_RUN = Path(__file__).resolve().parent / "data" / "run-state-2026-12-06"


def test_a_run_state_written_by_the_code_before_this_change_resumes(tmp_path: Path, one_thread) -> None:
    """tests/data/run-state-2026-12-06: lenet5_modern on digits, stopped at step 10 of 20 by
    ``--stop-after`` with the code of commit d947216 (before the graceful stop, the window in the
    state and the weights' sha256), as inflight/resnet56-cifar10 was. It resumes and finishes."""
    import shutil

    run = tmp_path / "run"
    shutil.copytree(OLD_RUN, run)
    state = read_state(run / STATE)
    assert state["step"] == 10 and "window" not in state and "weights_sha256" not in state
    done = resume(run)
    assert (done.steps, done.stopped) == (20, False)
    assert [r["step"] for r in read_metrics(run)] == [5, 10, 15, 20]
    assert "weights_sha256" in read_state(run / STATE)
