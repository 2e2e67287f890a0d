"""Builders shared by the evaluation tests: small multiple-choice sets, a plain loop to train tiny students."""

from __future__ import annotations

import torch

from cotdistill.data.example import Example
from cotdistill.data.rationale import Rationale
from cotdistill.prompting import PromptFormat
from cotdistill.variants import build_instances, make_variant

LETTERS = "ABCDE"


def make_examples(n: int = 7) -> list[Example]:
    """Questions of varied length with 2-5 choices; single- and multi-word choice texts."""
    words = ["carpet", "ice", "a heavy rock", "warm water in the sun", "light", "soil after rain", "tree"]
    examples = []
    for i in range(n):
        k = 2 + i % 4
        choices = {LETTERS[j]: words[(i + j) % len(words)] for j in range(k)}
        question = "Which one " + "is really very " * (i % 3) + f"good for test {i}?"
        examples.append(Example(id=f"q{i}", question=question, choices=choices, answer=LETTERS[i % k],
                                context="A person walks." if i % 2 else None))
    return examples


def train_tiny(model, tokenizer, examples, rationales, *, variant: str, prompt_format: PromptFormat,
               steps: int = 40, lr: float = 1e-2):
    """Full-batch AdamW on the variant's targets (prompt tokens masked out); returns the model in eval mode."""
    instances = build_instances(examples, rationales, make_variant(variant), tokenizer, prompt_format=prompt_format)
    width = max(len(inst.input_ids) for inst in instances)
    ids = torch.zeros((len(instances), width), dtype=torch.long)
    labels = torch.full((len(instances), width), -100, dtype=torch.long)
    mask = torch.zeros((len(instances), width), dtype=torch.long)
    for row, inst in enumerate(instances):
        seq = inst.input_ids
        ids[row, :len(seq)] = torch.tensor(seq)
        mask[row, :len(seq)] = 1
        labels[row, len(inst.prompt_ids):len(seq)] = torch.tensor(inst.target_ids)
    torch.manual_seed(0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    for _ in range(steps):
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


def fixed_rationales(examples, text: str) -> dict[str, Rationale]:
    return {ex.id: Rationale(id=ex.id, text=text) for ex in examples}
