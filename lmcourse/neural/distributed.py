"""Running the trainer on several processes with ``torchrun`` and DistributedDataParallel (DDP).

    torchrun --nproc_per_node=2 -m lmcourse train lstm --corpus brown ...

``torchrun`` starts the processes and sets RANK, WORLD_SIZE and LOCAL_RANK; :func:`setup` joins them into
one process group (gloo on CPU, NCCL on CUDA). Each rank trains on its own columns of the stream; DDP
averages the gradients, so a step is the same step as one process would take on the whole batch. Only rank 0
writes logs and checkpoints. Launched as a plain ``python`` or ``lmcourse`` command, everything here is a no-op.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from lmcourse.errors import UserError


@dataclass(frozen=True)
class Process:
    """Where this process stands: its rank among ``world_size`` processes and its device."""

    rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def resolve_device(name: str) -> torch.device:
    """``auto``: CUDA when present, else the CPU; or ``cpu``, ``cuda``, ``cuda:1``."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UserError(f"unknown --device {name!r}: use auto, cpu or cuda") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"--device {name}: no CUDA device here; use --device cpu (or auto)")
    return device


def setup(device_name: str = "auto") -> Process:
    """Join the process group that ``torchrun`` set up (if any) and pick this process's device."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    device = resolve_device(device_name)
    if world_size == 1:
        return Process(device=device)
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return Process(rank=dist.get_rank(), world_size=dist.get_world_size(), device=device)


def wrap(model: torch.nn.Module, process: Process) -> torch.nn.Module:
    """The model DDP-wrapped when there are several processes (it averages gradients in backward)."""
    if process.world_size == 1:
        return model
    device_ids = [process.device.index] if process.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=device_ids)


def broadcast_flag(flag: bool, process: Process) -> bool:
    """Rank 0's decision (stop now?) for every rank, so that all ranks leave the loop together."""
    if process.world_size == 1:
        return flag
    value = torch.tensor([1.0 if flag else 0.0], device=process.device)
    dist.broadcast(value, src=0)
    return bool(value.item())
