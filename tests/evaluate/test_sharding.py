"""Sharded evaluation without processes: which batches each rank takes, and that the ranks' records put
together are the records of one process, in input order."""

from __future__ import annotations

import pytest
import torch
from eval_helpers import make_examples

from cotdistill.distributed import computed_once
from cotdistill.evaluate import EvalConfig
from cotdistill.evaluate.label_first import evaluate_label_first
from cotdistill.evaluate.reasoning_first import evaluate_reasoning_first
from cotdistill.evaluate.runtime import length_sorted_batches
from cotdistill.evaluate.sharding import OTHER_SHARD, WHOLE, Shard, gather_records, merge_shards, own_records
from cotdistill.prompting import PromptFormat
from cotdistill.variants import make_variant


@pytest.mark.parametrize("world_size", [1, 2, 3, 5])
@pytest.mark.parametrize("batch_size", [1, 2, 4])
def test_ranks_take_whole_batches_round_robin(world_size, batch_size):
    lengths = [5, 9, 2, 9, 7, 1, 3, 8, 2, 6, 4]
    one_process = length_sorted_batches(lengths, batch_size)
    per_rank = [Shard(rank, world_size).batches(lengths, batch_size) for rank in range(world_size)]
    # Batch j is rank j % world_size's, unchanged: every example is padded as in one process.
    assert [per_rank[j % world_size][j // world_size] for j in range(len(one_process))] == one_process
    assert sum(len(batches) for batches in per_rank) == len(one_process)
    for batches in per_rank:  # each rank still goes longest first
        firsts = [lengths[batch[0]] for batch in batches]
        assert firsts == sorted(firsts, reverse=True)


def test_merge_restores_input_order_and_refuses_gaps_and_overlaps():
    records = [{"id": f"q{i}"} for i in range(5)]
    rank0 = [records[0], OTHER_SHARD, records[2], OTHER_SHARD, records[4]]
    rank1 = [OTHER_SHARD, records[1], OTHER_SHARD, records[3], OTHER_SHARD]
    assert own_records(rank1) == [(1, records[1]), (3, records[3])]
    assert merge_shards([own_records(rank1), own_records(rank0)], 5) == records
    assert gather_records(records, WHOLE) == records
    with pytest.raises(RuntimeError, match="no process"):
        merge_shards([own_records(rank0)], 5)
    with pytest.raises(RuntimeError, match="two processes"):
        merge_shards([own_records(rank0), own_records(records)], 5)


@pytest.mark.parametrize("mode", ["label_first", "reasoning_first"])
def test_two_shards_together_give_the_one_process_records(tiny_tokenizer, tiny_model, mode):
    examples = make_examples(5)  # 3 batches of 2: rank 0 takes two, rank 1 one
    variant_name = "label_only" if mode == "label_first" else "cot_before_label"
    variant, fmt = make_variant(variant_name), PromptFormat(label_style="text")
    prompts = [variant.eval_prompt(ex, fmt) for ex in examples]
    config = EvalConfig(mode=mode, batch_size=2, max_new_tokens=3, dtype="fp32")

    def evaluate(shard):
        with torch.inference_mode():
            if mode == "label_first":
                return evaluate_label_first(tiny_model.eval(), tiny_tokenizer, examples, prompts,
                                            prompt_format=fmt, config=config, shard=shard)
            return evaluate_reasoning_first(tiny_model.eval(), tiny_tokenizer, examples, prompts, config=config,
                                            shard=shard)

    whole, whole_details = evaluate(WHOLE)
    parts = [evaluate(Shard(rank, 2)) for rank in range(2)]
    assert all(details == whole_details for _, details in parts)
    assert all(any(r is OTHER_SHARD for r in records) for records, _ in parts)  # really split
    assert merge_shards([own_records(records) for records, _ in parts], len(examples)) == whole


def test_computed_once_without_a_process_group_just_computes():
    assert computed_once(lambda: {"q0": [1.0, 0.5]}) == {"q0": [1.0, 0.5]}
