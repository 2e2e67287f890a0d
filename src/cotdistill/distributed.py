"""The ``torch.distributed`` process group a launcher (torchrun, accelerate launch) may have started, and work
done once in it for every process."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def process_group() -> Any | None:
    """``torch.distributed`` when a process group is initialised, else ``None``."""
    import torch.distributed as dist

    return dist if dist.is_available() and dist.is_initialized() else None


def computed_once(compute: Callable[[], T]) -> T:
    """``compute()`` run by rank 0 only and its result sent to every process (``compute()`` itself without a
    process group). The other processes wait for it in the broadcast."""
    dist = process_group()
    if dist is None or dist.get_world_size() == 1:
        return compute()
    box = [compute() if dist.get_rank() == 0 else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def join_process_group(*, cpu: bool) -> None:
    """Under a launcher (torchrun / accelerate launch set ``WORLD_SIZE`` > 1) with no process group yet, start
    it as accelerate does for Trainer (gloo on the CPU, else NCCL with each rank on its local GPU), so that work
    outside training (``cotdistill eval``) is shared between the processes too."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or process_group() is not None:
        return
    from accelerate import PartialState

    PartialState(cpu=cpu)
