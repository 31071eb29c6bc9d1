"""Where a training step spends its time (ResNet-20 by default), measured with ``torch.profiler``.

It builds the real training run (``classicnets.train``'s own loop object, CIFAR-10 from the
tensor cache, the default fast path) and profiles ``--steps`` of its optimizer steps, batch
fetching included. Every profiled operator's *self* time is put in one bucket:

  convolutions forward / backward, batch norm forward / backward, ReLU forward / backward,
  additions (the shortcuts' ``+ a[l]`` and autograd's gradient sums), fused elementwise kernels
  (torch.compile's generated code: batch norm, ReLU and additions fused), casts (autocast's bf16
  copies), the optimizer, data (gathering, augmenting and normalising the batch), host syncs
  (``item``/``tolist``: reading a value back from the device), and the rest.

Run it on an idle machine, once eager and once compiled:

    python benchmarks/profile_step.py --data-dir ../shared/data
    python benchmarks/profile_step.py --data-dir ../shared/data --compile
    python benchmarks/profile_step.py --data-dir ../shared/data --model lenet5_modern --dataset mnist

To see a CPU without bf16 units on one that has them, cap the kernels' instructions (oneDNN's
convolutions and ATen's vectorised loops): ``--precision auto`` then picks fp32, as it would there.
It approximates such a CPU (same cores, caches and clock), it does not replace one:

    ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2 python benchmarks/profile_step.py --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from collections import defaultdict

import torch
from torch.profiler import ProfilerActivity, profile, record_function

from classicnets.train import make_config
from classicnets.train.device import cpu_description
from classicnets.train.distributed import DistContext
from classicnets.train import loop
from classicnets.train.loop import _Training
from classicnets.train.metrics import Window

BUCKETS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("convolution forward", ("aten::mkldnn_convolution", "aten::_convolution", "aten::convolution", "aten::conv2d")),
    ("convolution backward", ("aten::convolution_backward", "aten::mkldnn_convolution_backward")),
    ("batch norm forward", ("aten::native_batch_norm", "aten::_batch_norm_impl_index", "aten::batch_norm",
                            "aten::_native_batch_norm_legit", "aten::_native_batch_norm_legit_no_training")),
    ("batch norm backward", ("aten::native_batch_norm_backward",)),
    ("ReLU forward", ("aten::relu_", "aten::relu", "aten::clamp_min_", "aten::clamp_min")),
    ("ReLU backward", ("aten::threshold_backward",)),
    ("additions", ("aten::add", "aten::add_")),
    ("fused elementwise (compiled)", ("## Call CompiledFxGraph",)),
    ("casts", ("aten::_to_copy", "aten::to", "aten::copy_")),
    ("optimizer", ("aten::_fused_sgd", "aten::_foreach_", "Optimizer.")),
    ("host syncs", ("aten::item", "aten::_local_scalar_dense")),
)  # fmt: skip


PREFIXES = ("## Call CompiledFxGraph", "Optimizer.", "aten::_foreach_", "aten::_fused_sgd")  # the rest match exactly


def bucket(key: str) -> str:
    """The bucket of an operator (by its profiler name)."""
    for name, keys in BUCKETS:
        if key in keys or any(key.startswith(k) for k in keys if k in PREFIXES):
            return name
    return "other (pooling, loss, autograd bookkeeping, allocation)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default="../shared/data")
    ap.add_argument("--model", default="resnet20")
    ap.add_argument("--dataset", default="cifar10", choices=["cifar10", "mnist"],
                    help="cifar10 trains with crop and flip, mnist (for the LeNets) without augmentation")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--compile", action="store_true", help="profile the torch.compile'd step")
    ap.add_argument("--default-malloc", action="store_true",
                    help="leave glibc's malloc as it is (training normally keeps freed memory: train/device.py)")
    args = ap.parse_args()
    if args.default_malloc:
        loop.keep_freed_memory = lambda: False
    with tempfile.TemporaryDirectory() as tmp:
        augment = {"crop_padding": 4, "hflip": True} if args.dataset == "cifar10" else {}
        config = make_config(args.model, args.dataset, tmp, data_dir=args.data_dir, batch_size=args.batch_size,
                             compile=args.compile, progress=False, **augment).validate()  # fmt: skip
        run = _Training(config, DistContext(0, 1, torch.device("cpu")), None)
        batches = run.loader.epoch(0)
        window = Window()

        def step() -> None:
            with record_function("data"):
                x, y = next(batches)
            run._step(x, y, window)

        for _ in range(10):  # warm-up (and compilation)
            step()
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        start = time.perf_counter()
        for _ in range(args.steps):
            step()
        unprofiled = (time.perf_counter() - start) / args.steps
        faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / args.steps
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(args.steps):
                step()
    events = prof.key_averages()
    times: dict[str, float] = defaultdict(float)
    for e in events:
        times[bucket(e.key)] += e.self_cpu_time_total
    data = next((e.cpu_time_total for e in events if e.key == "data"), 0.0)
    times["data"] = data
    data_ops = _self_time_under(prof, "data")  # counted in "data" already
    for name, t in data_ops.items():
        times[name] -= t
    total = sum(times.values())
    mode = "torch.compile" if args.compile else "eager"
    malloc = "glibc default" if args.default_malloc else "freed memory kept"
    print(f"machine: {cpu_description()}; ATen kernels: {torch.backends.cpu.get_cpu_capability()}")
    print(f"{args.model} on {args.dataset}, batch {args.batch_size}, {mode}, {run.precision}, channels_last {run.channels_last}, "
          f"malloc {malloc}, {torch.get_num_threads()} threads, torch {torch.__version__}")  # fmt: skip
    print(f"step time without the profiler: {1000 * unprofiled:.1f} ms ({args.batch_size / unprofiled:,.0f} img/s), "
          f"{faults:,.0f} page faults per step; profiled self time: {total / args.steps / 1000:.1f} ms per step")  # fmt: skip
    print("| part | ms per step | share |\n| --- | --- | --- |")
    for name, t in sorted(times.items(), key=lambda kv: -kv[1]):
        if t > 0:
            print(f"| {name} | {t / args.steps / 1000:.2f} | {t / total:.1%} |")


def _self_time_under(prof: profile, region: str) -> dict[str, float]:
    """The self time of the operators that ran inside ``record_function(region)``, by bucket."""
    out: dict[str, float] = defaultdict(float)
    spans = [(e.time_range.start, e.time_range.end) for e in prof.events() if e.name == region]
    for e in prof.events():
        if e.name != region and any(a <= e.time_range.start and e.time_range.end <= b for a, b in spans):
            out[bucket(e.name)] += e.self_cpu_time_total
    return out


if __name__ == "__main__":
    main()
