"""The CPU fast path gives the answers of the slow path: bf16 autocast and channels_last against
NCHW fp32, on trained models (the weights classicnets ships) and their real test images."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import classicnets as cn
from classicnets.data import BatchLoader, load_dataset
from classicnets.train import choose_precision, load_run
from classicnets.weights import shipped

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _logits(model: torch.nn.Module, x: torch.Tensor, bf16: bool, channels_last: bool) -> torch.Tensor:
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        return model(x.contiguous(memory_format=fmt)).float()


@pytest.mark.parametrize("name", sorted(shipped()))
def test_bf16_and_channels_last_predict_like_fp32(name):
    run = load_run(name)
    meta = run.meta
    if not (DATA / meta.dataset).exists():
        pytest.skip(f"{meta.dataset} not found in {DATA}")
    data = load_dataset(meta.dataset, DATA).fit_to(meta.input_size[1:], meta.in_chans)
    x, y = next(iter(BatchLoader(data.test.subset(1000), 1000, mean=meta.mean, std=meta.std)))
    ref = _logits(run.model, x, bf16=False, channels_last=False)
    for bf16, cl in [(False, True), (True, False), (True, True)]:
        out = _logits(run.model, x, bf16=bf16, channels_last=cl)
        agree = (out.argmax(1) == ref.argmax(1)).float().mean().item()
        assert agree >= (0.99 if bf16 else 1.0), (bf16, cl, agree)
        acc_ref = (ref.argmax(1) == y).float().mean().item()
        acc = (out.argmax(1) == y).float().mean().item()
        assert abs(acc - acc_ref) <= 0.005
        if not bf16:
            torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    ("flags", "kind", "precision"),
    [
        ("fpu avx2 avx512f avx512_bf16 amx_bf16 amx_tile", "amx", "bf16"),  # Intel Xeon (Sapphire Rapids on)
        ("fpu avx2 avx512f avx512_bf16", "avx512-bf16", "bf16"),  # AMD EPYC (Zen 4)
        ("fpu avx2 avx512f avx512bw", "avx512", "fp32"),  # AVX-512 without bf16 (Skylake-SP)
        ("fpu sse4_2 avx avx2 fma", "avx2", "fp32"),  # most laptops, AMD EPYC before Zen 4
        ("fp asimd", "other", "fp32"),  # an Arm CPU's Features line
    ],
)
def test_precision_choice_follows_the_cpu_kind(flags: str, kind: str, precision: str) -> None:
    from classicnets.train.device import cpu_kind, cpu_precision

    assert cpu_kind(flags.split()) == kind and cpu_precision(kind) == precision


@pytest.mark.parametrize(
    ("flags", "max_isa", "kind"),
    [
        ("fpu avx2 avx512f avx512_bf16 amx_bf16", "AVX2", "avx2"),  # oneDNN held to AVX2 on a Xeon with AMX
        ("fpu avx2 avx512f avx512_bf16", "avx512_core", "avx512"),  # bf16 units switched off, AVX-512 kept
        ("fpu avx2 avx512f avx512_bf16 amx_bf16", "AVX512_CORE_BF16", "avx512-bf16"),  # AMX off
        ("fpu avx2 fma", "AVX512_CORE_AMX", "avx2"),  # a cap above the CPU changes nothing
        ("fpu avx2 avx512f avx512_bf16", "ALL", "avx512-bf16"),
        ("fpu avx2 avx512f avx512_bf16", "no-such-isa", "avx512-bf16"),  # oneDNN ignores an unknown name
        ("fpu avx2 avx512f avx512_bf16", "", "avx512-bf16"),
    ],
)
def test_a_onednn_isa_cap_lowers_the_cpu_kind_and_its_precision(flags: str, max_isa: str, kind: str) -> None:
    """ONEDNN_MAX_CPU_ISA makes the convolutions run as on a lesser CPU; ``--precision auto``
    must then follow the lesser kind (bf16 without bf16 units is emulated, far slower)."""
    from classicnets.train.device import cpu_kind, cpu_precision

    assert cpu_kind(flags.split(), max_isa) == kind
    assert cpu_precision(cpu_kind(flags.split(), max_isa)) == ("bf16" if kind in ("amx", "avx512-bf16") else "fp32")


def test_this_cpu_is_described_and_its_choice_made_from_its_flags(monkeypatch) -> None:
    from classicnets.train import device

    expected = device.cpu_precision(device.this_cpu_kind()) if torch.backends.mkldnn.is_available() else "fp32"
    assert choose_precision(torch.device("cpu")) == expected
    assert "cores" in device.cpu_description()
    monkeypatch.setattr(device, "_cpuinfo_flags", lambda: {"avx2", "avx512f", "avx512_bf16"})
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    assert device.this_cpu_kind() == "avx2"
    assert device.cpu_description().endswith(
        "AVX2, no bf16 units (capped by ONEDNN_MAX_CPU_ISA=AVX2 on a CPU with AVX512-BF16)")


def test_untrained_bf16_is_close_to_fp32():
    torch.manual_seed(0)
    model = cn.create_model("resnet20").eval()
    x = torch.randn(8, 3, 32, 32)
    torch.testing.assert_close(_logits(model, x, True, True), _logits(model, x, False, False), rtol=0.1, atol=0.1)


LONG_RUN = 64_000 * 128 * 0.25e9  # the paper's ResNet-20 schedule: 64k steps of 128 images, ~0.25 GFLOP each
SHORT_RUN = 390 * 128 * 0.25e9  # one CIFAR-10 epoch of ResNet-20


@pytest.mark.parametrize(
    ("flags", "compiles"),
    [
        ("fpu avx2 avx512f avx512_bf16 amx_bf16 amx_tile", True),  # measured: 1.32x the eager step (machine A)
        ("fpu avx2 avx512f avx512_bf16", True),  # the sweep and the fast recipe ran compiled here (machine B)
        ("fpu avx2 avx512f avx512bw", True),
        ("fpu sse4_2 avx avx2 fma", True),  # measured on machine B held to AVX2: 1.35x
        ("fp asimd", False),  # not measured: stays eager
    ],
)
def test_compile_choice_follows_the_cpu_kind_and_the_work_left(flags: str, compiles: bool) -> None:
    from classicnets.train.device import COMPILE_MIN_FLOPS, choose_compile, cpu_kind

    kind = cpu_kind(flags.split())
    assert SHORT_RUN < COMPILE_MIN_FLOPS < LONG_RUN
    assert choose_compile("cpu", kind, LONG_RUN, has_compiler=True) is compiles
    assert choose_compile("cpu", kind, COMPILE_MIN_FLOPS, has_compiler=True) is compiles
    assert choose_compile("cpu", kind, SHORT_RUN, has_compiler=True) is False  # the minute is not repaid
    assert choose_compile("cpu", kind, LONG_RUN, has_compiler=False) is False  # inductor could not build
    assert choose_compile("cuda", kind, LONG_RUN, has_compiler=True) is False  # not measured on a GPU here


@pytest.mark.parametrize(("name", "shape"), [("resnet20", (3, 32, 32)), ("lenet5", (1, 32, 32))])
def test_training_flops_counted_on_meta_equal_a_real_pass(name: str, shape: tuple[int, int, int]) -> None:
    from torch.utils.flop_counter import FlopCounterMode

    from classicnets.train.loop import training_flops_per_image

    model = cn.create_model(name, num_classes=10, in_chans=shape[0])
    with FlopCounterMode(display=False) as counter:
        torch.nn.functional.cross_entropy(model(torch.randn(1, *shape)), torch.zeros(1, dtype=torch.long)).backward()
    real = counter.get_total_flops()
    assert real > 0 and training_flops_per_image(name, shape[0], shape[1:], num_classes=10) == real
    # ResNet-20: 40.6M multiply-adds forward (He et al. 2016 Table 6's 0.27M-parameter net), about 3x that to train
    if name == "resnet20":
        assert 3 * 2 * 40e6 < real < 3 * 2 * 42e6
    # the biggest models are counted without allocating their weights (VGG-16: 15.5G multiply-adds)
    assert training_flops_per_image("vgg16", 3, (224, 224), num_classes=1000) > 3 * 2 * 15e9


def test_a_run_without_compile_chooses_by_its_work_and_says_so(tmp_path: Path, monkeypatch, capsys) -> None:
    from classicnets.train import loop, make_config, train

    compiled: list[torch.nn.Module] = []
    monkeypatch.setattr(loop, "this_cpu_kind", lambda: "avx2")
    monkeypatch.setattr(loop, "has_cpp_compiler", lambda: True)
    monkeypatch.setattr(torch, "compile", lambda m: compiled.append(m) or m)  # what was compiled, not compiling it
    before = torch.get_num_threads()
    try:
        short = make_config("lenet5_modern", "digits", str(tmp_path / "short"), iterations=4, threads=1, progress=False)
        assert short.compile is None
        train(short)
        assert "eager (auto)" in capsys.readouterr().out and not compiled
        long = make_config("resnet20", "digits", str(tmp_path / "long"), iterations=20_000, eval_every=2,
                           stop_after="0.001s", threads=1, progress=False)  # fmt: skip
        train(long)  # 20,000 x 64 images x 0.24 GFLOP: past the threshold; stops at step 2
        assert "compiled (auto)" in capsys.readouterr().out and len(compiled) == 1
        train(make_config("resnet20", "digits", str(tmp_path / "asked"), iterations=20_000, eval_every=2,
                          stop_after="0.001s", threads=1, progress=False, compile=False))  # fmt: skip
        assert ", eager," in capsys.readouterr().out and len(compiled) == 1  # an explicit choice wins
    finally:
        torch.set_num_threads(before)


@pytest.mark.slow
def test_the_compiled_step_trains_like_the_eager_one(tmp_path: Path) -> None:
    """torch.compile fuses batch norm, ReLU and the additions and may sum in another order; it must
    not change what is learned: over 12 real steps of ResNet-20 on the bundled digits, in fp32, every
    logged training loss is within 2% (relative) of the eager run's, and the final test error
    within 2 points. (One step's gradients differ by about 1e-3 relative, measured: inductor's
    fused batch norm rounds differently; 4 to 12 steps at lr 0.05 grow that to 0.3-0.5% of the loss.)"""
    from classicnets.train import make_config, read_metrics, train
    from classicnets.train.device import has_cpp_compiler

    if not has_cpp_compiler():
        pytest.skip("no C++ compiler for torch.compile's CPU kernels")
    before = torch.get_num_threads()
    logs, errors = {}, {}
    try:
        for compiled in (False, True):
            out = tmp_path / ("compiled" if compiled else "eager")
            result = train(make_config("resnet20", "digits", str(out), iterations=12, eval_every=4, batch_size=64,
                                       precision="fp32", compile=compiled, threads=1, progress=False))  # fmt: skip
            logs[compiled], errors[compiled] = read_metrics(out / "metrics.jsonl"), result.test_error
    finally:
        torch.set_num_threads(before)
    assert [r["step"] for r in logs[True]] == [r["step"] for r in logs[False]] == [4, 8, 12]
    for eager, compiled in zip(logs[False], logs[True]):
        print(f"step {eager['step']}: loss eager {eager['train_loss']:.5f}, compiled {compiled['train_loss']:.5f}")
        assert compiled["train_loss"] == pytest.approx(eager["train_loss"], rel=0.02)
    assert logs[True][-1]["train_loss"] < logs[True][0]["train_loss"]  # and it learns
    assert errors[True] == pytest.approx(errors[False], abs=0.02)


def test_counting_the_training_flops_leaves_the_random_stream_alone() -> None:
    """The count runs at the start of every run whose ``compile`` is unset, after a resume has
    restored the RNG states: it must not draw from them (LeNet-5 is built on the CPU, AlexNet's
    dropout draws masks)."""
    from classicnets.train.loop import training_flops_per_image

    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    assert training_flops_per_image("lenet5", 1, (32, 32), num_classes=10) > 0
    assert training_flops_per_image("alexnet", 3, (227, 227), num_classes=10) > 0
    assert torch.equal(torch.rand(3), expected)
