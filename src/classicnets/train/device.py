"""Device and numeric precision: which hardware runs the model and in which float format."""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import sys
from functools import cache
from pathlib import Path

import torch

from ..errors import ConfigError



def resolve_device(spec: str, local_rank: int = 0) -> torch.device:
    """``auto`` -> CUDA if available else CPU; ``cuda`` -> the process's local GPU."""
    if spec == "auto":
        spec = "cuda" if torch.cuda.is_available() else "cpu"
    if spec.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ConfigError(f"--device {spec}: CUDA is not available here; use --device cpu")
        return torch.device(spec if ":" in spec else f"cuda:{local_rank}")
    return torch.device(spec)


def choose_precision(device: torch.device) -> str:
    """The precision ``--precision auto`` picks: "bf16" (autocast, fp32 master weights) on a GPU
    with bf16 support or a CPU with bf16 matrix instructions (AVX512-BF16 or AMX), else "fp32"."""
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if device.type == "cpu" and _cpu_has_bf16() else "fp32"


@cache
def _cpu_has_bf16() -> bool:
    return torch.backends.mkldnn.is_available() and cpu_precision(this_cpu_kind()) == "bf16"


def cpu_precision(kind: str) -> str:
    """What ``--precision auto`` trains in on a CPU of ``kind`` (``cpu_kind``): bf16 autocast where
    it has bf16 matrix units (AMX, AVX512-BF16), fp32 elsewhere, where bf16 is emulated and hundreds
    of times slower (docs/benchmarks.md, machine C)."""
    return "bf16" if kind in ("amx", "avx512-bf16") else "fp32"


CPU_KINDS = {
    "amx": "AMX-BF16 matrix units",
    "avx512-bf16": "AVX512-BF16",
    "avx512": "AVX-512, no bf16 units",
    "avx2": "AVX2, no bf16 units",
    "other": "no AVX2",
}


# From the least capable kind to the most: a cap can only move a CPU down this list.
_KIND_ORDER = ("other", "avx2", "avx512", "avx512-bf16", "amx")

# oneDNN's ISA names (ONEDNN_MAX_CPU_ISA, lower-cased) and the kind each leaves a CPU at most.
_ONEDNN_ISA_KIND = {
    "sse41": "other", "avx": "other",
    "avx2": "avx2", "avx2_vnni": "avx2", "avx2_vnni_2": "avx2",
    "avx512_core": "avx512", "avx512_core_vnni": "avx512",
    "avx512_core_bf16": "avx512-bf16", "avx512_core_fp16": "avx512-bf16", "avx10_1_512": "avx512-bf16",
    "avx512_core_amx": "amx", "avx512_core_amx_fp16": "amx", "avx10_1_512_amx": "amx",
    "avx10_1_512_amx_fp16": "amx", "all": "amx",
}


def cpu_kind(flags: set[str] | list[str] | tuple[str, ...], max_isa: str | None = None) -> str:
    """The kind of CPU that decides what runs fast, from its ``/proc/cpuinfo`` flags: "amx",
    "avx512-bf16", "avx512", "avx2" or "other" (a key of ``CPU_KINDS``).

    ``max_isa`` is oneDNN's cap on the instructions its kernels use (the ``ONEDNN_MAX_CPU_ISA``
    environment variable, e.g. "AVX2"): the convolutions and matrix products then run as on a CPU
    of that kind, so the kind is lowered to it. An unknown name caps nothing, as in oneDNN."""
    flags = set(flags)
    if "amx_bf16" in flags:
        kind = "amx"
    elif "avx512_bf16" in flags:
        kind = "avx512-bf16"
    elif "avx512f" in flags:
        kind = "avx512"
    else:
        kind = "avx2" if "avx2" in flags else "other"
    cap = _ONEDNN_ISA_KIND.get((max_isa or "").strip().lower())
    if cap is not None and _KIND_ORDER.index(cap) < _KIND_ORDER.index(kind):
        return cap
    return kind


def _max_isa() -> str | None:
    """oneDNN's ISA cap from the environment (``ONEDNN_MAX_CPU_ISA``, or its older name)."""
    return os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA")


def this_cpu_kind() -> str:
    """``cpu_kind`` of this machine: its flags, capped by ``ONEDNN_MAX_CPU_ISA`` if set."""
    return cpu_kind(_cpuinfo_flags(), _max_isa())


@cache
def _cpuinfo() -> str:
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""


def _cpuinfo_flags() -> set[str]:
    line = next((ln for ln in _cpuinfo().splitlines() if ln.startswith(("flags", "Features"))), "")
    return set(line.partition(":")[2].split())


def cpu_description() -> str:
    """This CPU in one line, as the docs name machines: model, cores, and its kind
    (e.g. "AMD EPYC, 2 cores, AVX512-BF16"); a kind lowered by ``ONEDNN_MAX_CPU_ISA`` says so."""
    model = next((ln.partition(":")[2].strip() for ln in _cpuinfo().splitlines() if ln.startswith("model name")), "")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    flags, cap = _cpuinfo_flags(), _max_isa()
    kind, native = cpu_kind(flags, cap), cpu_kind(flags)
    lowered = f" (capped by ONEDNN_MAX_CPU_ISA={cap} on a CPU with {CPU_KINDS[native]})" if kind != native else ""
    return f"{model or 'unknown CPU'}, {cores} cores, {CPU_KINDS[kind]}{lowered}"


# torch.compile on a CPU (docs/benchmarks.md): compiling a ResNet's training step costs 30-60 s on
# 2 cores, and the compiled step ran 1.32 times the eager one on machine A (AMX, bf16) and 1.35 times
# on machine B held to AVX2 (fp32). A run whose training work is below this many FLOPs (about four
# CIFAR-10 epochs of ResNet-20) does not earn its compilation back, so it stays eager.
COMPILE_MIN_FLOPS = 50e12

# The kinds where the compiled step was measured faster. Without AVX2, inductor's generated C++ has
# no vector instructions to fuse with; it was not measured there, and those runs stay eager.
_COMPILE_KINDS = ("amx", "avx512-bf16", "avx512", "avx2")


def choose_compile(device_type: str, kind: str, training_flops: float, has_compiler: bool) -> bool:
    """What ``compile`` left unset decides: compile the training step on a CPU of ``kind``
    (``cpu_kind``) with a C++ compiler for inductor, when the run still has at least
    ``COMPILE_MIN_FLOPS`` of training work (steps x batch x training FLOPs of one image). GPUs stay
    eager unless asked: compiling was not measured on one here."""
    return device_type == "cpu" and has_compiler and kind in _COMPILE_KINDS and training_flops >= COMPILE_MIN_FLOPS


def has_cpp_compiler() -> bool:
    """Whether inductor can build its CPU kernels here: ``$CXX``, g++, c++ or clang++ on the PATH."""
    return any(shutil.which(c) for c in (os.environ.get("CXX") or "g++", "c++", "clang++"))


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager[None]:
    """The forward-pass context for ``precision``: bf16 autocast, or nothing for fp32."""
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


# glibc mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


@cache
def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed memory for reuse instead of returning it to the system.

    By default glibc serves large blocks with ``mmap`` and unmaps them when freed, so a training
    step that allocates and frees the same activation buffers every time pays for fresh, zeroed
    pages on each step. Under ``torch.compile`` on a CPU that was 23,000 page faults per ResNet-20
    step here, and a third of its time (``benchmarks/profile_step.py``; docs/benchmarks.md). This is
    what preloading jemalloc or tcmalloc buys, done in-process. Returns whether it applied (glibc
    on Linux only; elsewhere it does nothing). Called once per process, before training.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (e.g. musl)
        return False
    mmap_ok = libc.mallopt(_M_MMAP_THRESHOLD, 1 << 30)  # blocks up to 1 GiB come from the heap
    trim_ok = libc.mallopt(_M_TRIM_THRESHOLD, (1 << 31) - 1)  # and freed heap memory is kept
    return bool(mmap_ok and trim_ok)
