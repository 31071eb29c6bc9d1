"""Training-step throughput of one model under each fast-path setting: NCHW or channels_last,
fp32 or bf16 autocast (fp32 master weights), and optionally torch.compile. No data loading:
random batches, so only the step itself is measured. The default precision and memory format in
``classicnets.train`` are chosen from these numbers.

    python benchmarks/step_speed.py [--models lenet5_modern resnet20] [--batch 128] [--compile]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import classicnets as cn


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["lenet5_modern", "lenet5", "resnet20"])
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--compile", action="store_true", help="also time torch.compile (slow to compile)")
    args = ap.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch}")
    settings = [(False, False), (False, True), (True, False), (True, True)]
    for name in args.models:
        rates = {(b, cl): step_rate(name, b, cl, args.batch, False) for b, cl in settings}
        base = rates[(False, False)]
        cells = [f"{'bf16' if b else 'fp32'}{'+CL' if cl else ''} {r:,.0f} ({r / base:.2f}x)" for (b, cl), r in rates.items()]
        print(f"{name}: " + ", ".join(cells))
        if args.compile:
            best = max(rates, key=rates.get)
            start = time.perf_counter()
            r = step_rate(name, *best, args.batch, True)
            print(f"{name}: torch.compile with {best}: {r:,.0f} img/s; whole measurement incl. compile {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
