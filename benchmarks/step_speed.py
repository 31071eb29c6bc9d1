"""Training-step throughput of one model under each fast-path setting: NCHW or channels_last,
fp32 or bf16 autocast (fp32 master weights), and optionally torch.compile. No data loading:
random batches, so only the step itself is measured. The default precision and memory format in
``classicnets.train`` are chosen from these numbers.

    python benchmarks/step_speed.py [--models lenet5_modern resnet20] [--batch 64 128 256] [--compile] [--backends]
    python benchmarks/step_speed.py --convs [--batch 128]

Where the CPU has no bf16 units only fp32 is timed (bf16 is emulated there, hundreds of times
slower). ``--backends`` also times fp32 with oneDNN switched off, so that ATen's own convolutions
(im2col and the BLAS matrix product) run instead. ``--convs`` times, instead of models, the 3x3
convolution of each stage of a CIFAR ResNet (16 channels at 32x32, 32 at 16x16, 64 at 8x8),
forward and forward with backward, in fp32 in both memory formats, against the fp32 matrix-product
rate measured in the same run: how near each convolution comes to the machine's arithmetic.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import classicnets as cn
from classicnets.train.device import choose_precision, cpu_description


def step_rate(name: str, bf16: bool, channels_last: bool, batch: int, compile_: bool, reps: int = 3) -> float:
    """Median images/s over ``reps`` timings of 10 steps, after 3 warm-up steps."""
    torch.manual_seed(0)
    c, h, w = cn.model_info(name).input_size
    model = cn.create_model(name, num_classes=10)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    fwd = torch.compile(model) if compile_ else model
    x = torch.randn(batch, c, h, w).contiguous(memory_format=fmt)
    y = torch.randint(0, 10, (batch,))

    def step() -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = torch.nn.functional.cross_entropy(fwd(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(3):
        step()
    rates = []
    for _ in range(reps):
        start = time.perf_counter()
        for _ in range(10):
            step()
        rates.append(10 * batch / (time.perf_counter() - start))
    return statistics.median(rates)


def conv_rates(channels: int, size: int, batch: int, channels_last: bool, reps: int = 20) -> tuple[float, float]:
    """FLOP/s of one fp32 3x3 convolution (``channels`` to ``channels``, padding 1) on a batch of
    ``size`` x ``size`` inputs: forward alone, and forward with backward (input and weight
    gradients, three times the forward's FLOPs)."""
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    x = torch.randn(batch, channels, size, size).contiguous(memory_format=fmt).requires_grad_()
    conv = torch.nn.Conv2d(channels, channels, 3, padding=1, bias=False).to(memory_format=fmt)
    flops = 2 * batch * channels * channels * 9 * size * size
    rates = []
    for backward in (False, True):
        for i in range(reps + 3):
            if i == 3:
                start = time.perf_counter()
            y = conv(x)
            if backward:
                y.backward(torch.ones_like(y))
        rates.append(flops * (3 if backward else 1) * reps / (time.perf_counter() - start))
    return rates[0], rates[1]


def print_conv_rates(batch: int) -> None:
    from train_speed import matmul_peak  # a sibling script: benchmarks/ is on the path when run as one

    peak = matmul_peak(torch.float32)
    print(f"fp32 matmul rate (2048 x 2048): {peak / 1e9:.0f} GFLOP/s")
    for channels, size in ((16, 32), (32, 16), (64, 8)):
        for cl in (True, False):
            fwd, both = conv_rates(channels, size, batch, cl)
            print(f"3x3 conv {channels} channels at {size}x{size}, batch {batch}, {'channels_last' if cl else 'NCHW'}: "
                  f"forward {fwd / 1e9:.0f} GFLOP/s ({fwd / peak:.0%} of the matmul rate), forward and backward "
                  f"{both / 1e9:.0f} GFLOP/s ({both / peak:.0%})")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["lenet5_modern", "lenet5", "resnet20"])
    ap.add_argument("--batch", type=int, nargs="+", default=[128], help="one or more batch sizes")
    ap.add_argument("--compile", action="store_true", help="also time torch.compile (slow to compile)")
    ap.add_argument("--backends", action="store_true",
                    help="also time fp32 without oneDNN (ATen's own convolutions over BLAS)")
    ap.add_argument("--convs", action="store_true", help="time each CIFAR ResNet stage's 3x3 convolution instead")
    args = ap.parse_args()
    print(f"machine: {cpu_description()}; torch {torch.__version__}, {torch.get_num_threads()} threads")
    if args.convs:
        for batch in args.batch:
            print_conv_rates(batch)
        return
    # bf16 is emulated where the CPU has no bf16 units, hundreds of times slower: not timed there
    bf16s = (False, True) if choose_precision(torch.device("cpu")) == "bf16" else (False,)
    for batch in args.batch:
        for name in args.models:
            rates = {(b, cl): step_rate(name, b, cl, batch, False) for b in bf16s for cl in (False, True)}
            base = rates[(False, False)]
            cells = [f"{'bf16' if b else 'fp32'}{'+CL' if cl else ''} {r:,.0f} ({r / base:.2f}x)" for (b, cl), r in rates.items()]
            print(f"{name}, batch {batch}: " + ", ".join(cells))
            if args.backends:
                with torch.backends.mkldnn.flags(enabled=False):
                    off = {cl: step_rate(name, False, cl, batch, False) for cl in (False, True)}
                print(f"{name}, batch {batch}, fp32 without oneDNN: " +
                      ", ".join(f"{'CL' if cl else 'NCHW'} {r:,.0f} ({r / base:.2f}x)" for cl, r in off.items()))
            if args.compile:
                best = max(rates, key=rates.get)
                start = time.perf_counter()
                r = step_rate(name, *best, batch, True)
                print(f"{name}, batch {batch}: torch.compile with {best}: {r:,.0f} img/s ({r / rates[best]:.2f}x the "
                      f"eager step); whole measurement incl. compile {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
