"""Evaluation over the processes of a ``torch.distributed`` group (torchrun, accelerate launch).

The examples are split by batch: one process forms its length-sorted batches (:func:`length_sorted_batches`)
and process ``rank`` of ``world_size`` evaluates batches ``rank``, ``rank + world_size``, ... Every example is
therefore scored in exactly the batch, with exactly the padding, one process would use, so the gathered records
are the records of one process, and the long batches (at the front) are spread over all processes. Each process
returns its records at their input positions; :func:`gather_records` collects them on every process, in input
order. Without a process group (or with one process) there is a single shard and nothing is exchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cotdistill.distributed import process_group
from cotdistill.evaluate.runtime import length_sorted_batches

#: What a process returns for an example another process evaluates.
OTHER_SHARD = None


@dataclass(frozen=True)
class Shard:
    """The part of an evaluation one process does: batches ``rank``, ``rank + world_size``, ..."""

    rank: int = 0
    world_size: int = 1

    def batches(self, lengths: Sequence[int], batch_size: int) -> list[list[int]]:
        """This process's batches of example indices, longest first, each as one process would form it."""
        return length_sorted_batches(lengths, batch_size)[self.rank::self.world_size]


#: One process evaluates everything.
WHOLE = Shard()


def process_shard() -> Shard:
    """This process's shard of the initialised process group (:data:`WHOLE` without one)."""
    dist = process_group()
    return WHOLE if dist is None else Shard(dist.get_rank(), dist.get_world_size())


def merge_shards(parts: Sequence[Sequence[tuple[int, dict]]], n: int) -> list[dict]:
    """The records of all shards (``(input index, record)`` pairs, one list per process) in input order; an
    index given twice or missing is a bug in the sharding, not bad input."""
    merged: list[dict | None] = [OTHER_SHARD] * n
    for part in parts:
        for index, record in part:
            if merged[index] is not OTHER_SHARD:
                raise RuntimeError(f"example {index} was evaluated by two processes")
            merged[index] = record
    missing = [i for i, record in enumerate(merged) if record is OTHER_SHARD]
    if missing:
        raise RuntimeError(f"{len(missing)} example(s) evaluated by no process, e.g. {missing[0]}")
    return merged  # type: ignore[return-value]


def own_records(records: Sequence[dict | None]) -> list[tuple[int, dict]]:
    """This process's records with their input indices (what it sends to the others)."""
    return [(i, record) for i, record in enumerate(records) if record is not OTHER_SHARD]


def gather_records(records: Sequence[dict | None], shard: Shard) -> list[dict]:
    """Every example's record, in input order, on every process: each process gives the records of its own
    examples at their input positions (:data:`OTHER_SHARD` elsewhere)."""
    if shard.world_size == 1:
        return merge_shards([own_records(records)], len(records))
    dist = process_group()
    parts: list[Any] = [None] * shard.world_size
    dist.all_gather_object(parts, own_records(records))
    return merge_shards(parts, len(records))
