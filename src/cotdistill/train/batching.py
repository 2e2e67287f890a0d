"""Training instances as batches: token ids with per-token loss weights, padded batches that list the target
positions, and a length-grouped order drawn from the seed.

* :class:`InstanceDataset` turns each :class:`TrainingInstance` into ``input_ids`` plus a per-token loss weight:
  0 for prompt tokens, ``label_weight`` for label tokens, ``rationale_weight`` for rationale and filler tokens.
* :class:`WeightedTargetCollator` pads each batch to its longest sequence (batches come from a length-grouped
  sampler, so there is little padding) and lists the *target positions*: the positions whose next token has a
  non-zero weight. The model computes ``lm_head`` logits only there (``logits_to_keep`` as a boolean mask): with a
  49152 x 576 head this is the largest single saving.
* :class:`SeededLengthGroupedSampler` is Trainer's length grouping with an order a resumed run repeats exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch.utils.data import Dataset
from transformers.trainer_pt_utils import LengthGroupedSampler, get_length_grouped_indices

from cotdistill.errors import ConfigError
from cotdistill.train.config import TrainConfig
from cotdistill.variants.base import TrainingInstance

_IGNORE_WEIGHT = 0.0


def weight_for_kind(kind: str | None, train_cfg: TrainConfig) -> float:
    if kind is None:
        return _IGNORE_WEIGHT
    return train_cfg.label_weight if kind == "label" else train_cfg.rationale_weight


def encode_instance(instance: TrainingInstance, train_cfg: TrainConfig) -> dict[str, list]:
    """``input_ids`` and per-token ``loss_weights`` (the weight of predicting that token), target cut to fit."""
    if len(instance.prompt_ids) >= train_cfg.max_length:
        raise ConfigError(f"the prompt of example '{instance.example_id}' is {len(instance.prompt_ids)} tokens, "
                          f"leaving no room for its target within max_length {train_cfg.max_length}",
                          field="train.max_length")
    ids = instance.input_ids[: train_cfg.max_length]
    weights = [weight_for_kind(k, train_cfg) for k in instance.token_kinds()][: train_cfg.max_length]
    return {"input_ids": ids, "loss_weights": weights}


class InstanceDataset(Dataset):
    """Encoded training instances; items are dicts with ``input_ids`` (lengths feed length grouping)."""

    def __init__(self, instances: Sequence[TrainingInstance], train_cfg: TrainConfig):
        if not instances:
            raise ConfigError("there are no training instances (empty task or every example filtered out)")
        self.items = [encode_instance(inst, train_cfg) for inst in instances]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict[str, list]:
        return self.items[index]


class WeightedTargetCollator:
    """Pads to the longest sequence of the batch (rounded up to ``pad_to_multiple_of``) and lists targets.

    Returns ``input_ids``, ``attention_mask``, ``target_mask`` (bool [B, T]: position t predicts a weighted
    token t+1), and, in the row-major order of ``target_mask``, ``target_ids`` and ``target_weights``.
    """

    def __init__(self, pad_token_id: int, pad_to_multiple_of: int = 1):
        self.pad_token_id = pad_token_id
        self.pad_to_multiple_of = pad_to_multiple_of

    def __call__(self, features: list[dict[str, list]]) -> dict[str, torch.Tensor]:
        longest = max(len(f["input_ids"]) for f in features)
        width = math.ceil(longest / self.pad_to_multiple_of) * self.pad_to_multiple_of
        batch = len(features)
        input_ids = torch.full((batch, width), self.pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros((batch, width), dtype=torch.long)
        weights = torch.zeros((batch, width), dtype=torch.float32)
        for row, feature in enumerate(features):
            n = len(feature["input_ids"])
            input_ids[row, :n] = torch.tensor(feature["input_ids"], dtype=torch.long)
            attention_mask[row, :n] = 1
            weights[row, :n] = torch.tensor(feature["loss_weights"], dtype=torch.float32)
        next_weights = torch.zeros_like(weights)
        next_weights[:, :-1] = weights[:, 1:]
        target_mask = next_weights > 0
        next_ids = torch.zeros_like(input_ids)
        next_ids[:, :-1] = input_ids[:, 1:]
        return {
            "input_ids": input_ids,
            "attention_mask": attention_mask,
            "target_mask": target_mask,
            "target_ids": next_ids[target_mask],
            "target_weights": next_weights[target_mask],
        }


class SeededLengthGroupedSampler(LengthGroupedSampler):
    """Trainer's length grouping with an order drawn from (seed, epoch) instead of the global RNG.

    The stock sampler draws from torch's global RNG when an epoch starts, which a resumed run has not restored
    yet at that point; seeding per epoch makes a resumed run see exactly the batches of an uninterrupted one.
    """

    def __init__(self, batch_size: int, lengths: list[int], seed: int):
        super().__init__(batch_size, lengths=lengths)
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        generator = torch.Generator()
        generator.manual_seed(self.seed * 1_000_003 + self.epoch)
        return iter(get_length_grouped_indices(self.lengths, self.batch_size, generator=generator))
