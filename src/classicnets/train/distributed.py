"""One process or many: the device, the process group, and the few collectives training needs.

Under ``torchrun`` (``WORLD_SIZE`` > 1 in the environment) every process joins a process group
(gloo on CPU, nccl on CUDA), the model is wrapped in ``DistributedDataParallel``, each rank reads
its own shard of every batch, and only rank 0 writes logs and checkpoints. ``--batch-size`` stays
the GLOBAL batch: each of N ranks takes ``batch_size / N`` images per step, and DDP averages the
gradients, so a step sees the same images and the same mean gradient as one process would.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from .device import resolve_device


@dataclass(frozen=True)
class DistContext:
    """Where this process runs: its rank among ``world_size`` processes and its device."""

    rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that writes files and prints."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """More than one process."""
        return self.world_size > 1


def setup(device: str) -> DistContext:
    """Join the process group if launched by torchrun, and choose this process's device."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size == 1:
        return DistContext(0, 1, resolve_device(device))
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    dev = resolve_device(device, local_rank)
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo", rank=rank, world_size=world_size)
    return DistContext(rank, world_size, dev)


def teardown(ctx: DistContext) -> None:
    """Leave the process group (if any)."""
    if ctx.distributed and dist.is_initialized():
        dist.destroy_process_group()


def wrap(model: nn.Module, ctx: DistContext) -> nn.Module:
    """``model`` wrapped for data-parallel training when there are several processes."""
    if not ctx.distributed:
        return model
    ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids)


def all_reduce_sum(t: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """The sum of ``t`` over all processes (``t`` itself with one process)."""
    if ctx.distributed:
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t


def all_gather(t: torch.Tensor, ctx: DistContext) -> list[torch.Tensor]:
    """Every process's ``t`` (same shape everywhere), on the CPU, in rank order."""
    if not ctx.distributed:
        return [t.cpu()]
    local = t.to(ctx.device)
    out = [torch.empty_like(local) for _ in range(ctx.world_size)]
    dist.all_gather(out, local)
    return [x.cpu() for x in out]


def barrier(ctx: DistContext) -> None:
    """Wait until every process gets here."""
    if ctx.distributed:
        dist.barrier()


def is_main_process() -> bool:
    """Whether this process is rank 0 (or the only one), from torchrun's environment."""
    return int(os.environ.get("RANK", "0")) == 0
