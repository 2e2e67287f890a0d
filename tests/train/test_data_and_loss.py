"""Loss masking and weighting, the collator, and the weighted loss computed by hand."""

from __future__ import annotations

import pytest
import torch

from cotdistill.errors import ConfigError
from cotdistill.train.batching import InstanceDataset, WeightedTargetCollator, encode_instance
from cotdistill.train.config import TrainConfig
from cotdistill.train.trainer import WeightedLossTrainer
from cotdistill.variants.base import Segment, TrainingInstance

INSTANCE = TrainingInstance("x", prompt_ids=(5, 6, 7),
                            segments=(Segment("label", (8,)), Segment("rationale", (9, 10)), Segment("filler", (11,))))


def test_prompt_tokens_get_zero_weight_and_kinds_get_their_weights():
    enc = encode_instance(INSTANCE, TrainConfig(label_weight=2.0, rationale_weight=0.5))
    assert enc["input_ids"] == [5, 6, 7, 8, 9, 10, 11]
    assert enc["loss_weights"] == [0.0, 0.0, 0.0, 2.0, 0.5, 0.5, 0.5]


def test_target_is_cut_from_the_right_and_a_too_long_prompt_is_an_error():
    enc = encode_instance(INSTANCE, TrainConfig(max_length=8))
    assert encode_instance(INSTANCE, TrainConfig(max_length=8))["input_ids"] == [5, 6, 7, 8, 9, 10, 11]
    long_prompt = TrainingInstance("y", prompt_ids=tuple(range(8)), segments=(Segment("label", (1, 2)),))
    cut = TrainingInstance("z", prompt_ids=(1, 2, 3, 4, 5, 6), segments=(Segment("label", (7, 8, 9, 10)),))
    assert encode_instance(cut, TrainConfig(max_length=8))["input_ids"] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert enc["loss_weights"][:3] == [0, 0, 0]
    with pytest.raises(ConfigError, match="max_length"):
        encode_instance(long_prompt, TrainConfig(max_length=8))
    with pytest.raises(ConfigError, match="no training instances"):
        InstanceDataset([], TrainConfig())


def test_collator_pads_and_lists_weighted_next_token_positions():
    short = {"input_ids": [1, 2, 3], "loss_weights": [0.0, 0.0, 1.0]}
    long = {"input_ids": [4, 5, 6, 7, 8], "loss_weights": [0.0, 2.0, 0.0, 3.0, 3.0]}
    batch = WeightedTargetCollator(pad_token_id=0, pad_to_multiple_of=4)([short, long])
    assert batch["input_ids"].shape == (2, 8)
    assert batch["attention_mask"].sum(dim=1).tolist() == [3, 5]
    assert batch["target_mask"].nonzero().tolist() == [[0, 1], [1, 0], [1, 2], [1, 3]]
    assert batch["target_ids"].tolist() == [3, 5, 7, 8]
    assert batch["target_weights"].tolist() == [1.0, 2.0, 3.0, 3.0]


def _hand_loss(model, features, cfg):
    """sum(w * CE) / sum(w) from full logits, without any of the trainer's machinery."""
    total, weight_sum = 0.0, 0.0
    for f in features:
        ids = torch.tensor([f["input_ids"]])
        logits = model(input_ids=ids).logits[0, :-1].float()
        ce = torch.nn.functional.cross_entropy(logits, ids[0, 1:], reduction="none")
        w = torch.tensor(f["loss_weights"][1:])
        total += float((ce * w).sum())
        weight_sum += float(w.sum())
    return total / weight_sum


@pytest.mark.parametrize("label_weight,rationale_weight", [(1.0, 1.0), (3.0, 0.25), (1.0, 0.0)])
def test_trainer_loss_matches_the_hand_computed_weighted_loss(tiny_tokenizer, tiny_model, tmp_path,
                                                             label_weight, rationale_weight):
    from transformers import TrainingArguments

    from train_helpers import tiny_instances

    cfg = TrainConfig(label_weight=label_weight, rationale_weight=rationale_weight)
    features = [encode_instance(i, cfg) for i in tiny_instances(tiny_tokenizer, 3)]
    trainer = WeightedLossTrainer(model=tiny_model, args=TrainingArguments(str(tmp_path), report_to="none",
                                                                          use_cpu=True),
                                  data_collator=WeightedTargetCollator(0))
    batch = WeightedTargetCollator(tiny_tokenizer.pad_token_id, 8)(features)
    with torch.no_grad():
        loss = trainer.compute_loss(tiny_model, batch)
        expected = _hand_loss(tiny_model, features, cfg)
    assert float(loss) == pytest.approx(expected, rel=1e-5)
    if rationale_weight == 0.0:
        # Only label tokens are targets then: one position per instance (label is one token here or more).
        assert batch["target_ids"].numel() == sum(1 for f in features for w in f["loss_weights"] if w > 0)
