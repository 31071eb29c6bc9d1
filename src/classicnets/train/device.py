"""Device and numeric precision: which hardware runs the model and in which float format."""

from __future__ import annotations

import contextlib
import ctypes
import sys
from functools import cache
from pathlib import Path

import torch

from ..errors import ConfigError

CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # /proc/cpuinfo flags of CPUs with bf16 matrix units


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
    if not torch.backends.mkldnn.is_available():
        return False
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False
    return any(f in flags for f in CPU_BF16_FLAGS)


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
