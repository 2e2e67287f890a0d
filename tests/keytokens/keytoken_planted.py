"""A tiny student trained in-process on a task where one rationale word alone decides the label."""

from __future__ import annotations

import random

from cotdistill.data.example import Example
from cotdistill.data.rationale import Rationale
from cotdistill.prompting import ANSWER_MARKER, RATIONALE_MARKER, PromptFormat

FILLERS = ["the", "water", "tree", "rock", "soil", "light", "heavy", "mass", "plant", "animal", "speed", "force"]
KEY_WORDS = {"A": "sun", "B": "snow"}
CHOICES = {"A": "warm", "B": "cold"}


def planted_example(index: int, rng: random.Random) -> tuple[Example, Rationale, int]:
    """An example, its rationale, and the word index of the planted key word."""
    label = rng.choice(sorted(KEY_WORDS))
    words = [rng.choice(FILLERS) for _ in range(rng.randint(5, 8))]
    where = rng.randrange(len(words) + 1)
    words.insert(where, KEY_WORDS[label])
    ex = Example(id=f"p{index}", question="Is the day warm or cold?", choices=dict(CHOICES), answer=label)
    return ex, Rationale(id=ex.id, text=" ".join(words)), where


def planted_data(n: int, seed: int) -> list[tuple[Example, Rationale, int]]:
    rng = random.Random(seed)
    return [planted_example(i, rng) for i in range(n)]


def planted_tokenizer():
    from cotdistill.models.tiny import build_tiny_tokenizer

    words = " ".join(FILLERS + list(KEY_WORDS.values()) + list(CHOICES.values()))
    return build_tiny_tokenizer([f"{ANSWER_MARKER} {RATIONALE_MARKER} {words}"] * 20)


def train_planted_student(tokenizer, *, seed: int = 0, max_steps: int = 300, stop_loss: float = 0.1):
    """A tiny Llama trained to read ``prompt, rationale, "So the answer is", label`` (loss on the label only).

    Training stops once the batch loss is below ``stop_loss`` (p(label) ~ 0.9): a saturated student has
    vanishing gradients, which would test the saturation of the student rather than the selectors.
    """
    import torch

    from cotdistill.models.tiny import build_tiny_model

    fmt = PromptFormat()
    encoded = []
    for ex, rat, _ in planted_data(400, seed):
        context = fmt.prompt(ex) + f" {rat.text}\n{ANSWER_MARKER}"
        c, t = tokenizer(context)["input_ids"], tokenizer(fmt.label_text(ex, ex.answer))["input_ids"]
        encoded.append((c + t, [-100] * len(c) + t))
    model = build_tiny_model(len(tokenizer), seed=seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    rng = random.Random(seed)
    model.train()
    for _ in range(max_steps):
        batch = rng.sample(encoded, 32)
        length = max(len(ids) for ids, _ in batch)
        ids = torch.tensor([ids + [0] * (length - len(ids)) for ids, _ in batch])
        labels = torch.tensor([lab + [-100] * (length - len(lab)) for _, lab in batch])
        mask = (torch.arange(length)[None] < torch.tensor([len(i) for i, _ in batch])[:, None]).long()
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        if loss.item() < stop_loss:
            break
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.eval()
    return model
