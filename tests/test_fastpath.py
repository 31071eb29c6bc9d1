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
