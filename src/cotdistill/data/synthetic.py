"""A built-in, offline, **synthetic** multiple-choice task: qualitative physical relations.

Nothing here is real data. Questions are generated from templates with a seed, after the style of QuaRel
(Tafjord et al. 2019): each question asks which of 2-4 things has the most or least of an *effect* that is
decided by one of four quantities -- friction, mass, distance, temperature -- through a fixed rule
("less friction lets a sliding thing go farther"). Each question comes with a **reference rationale**
written by the generator (``source="synthetic-reference"``): the rule and the comparison that decide the
answer, so rationale variants have something to learn from without a teacher model.

Splits are disjoint by construction: every (effect, set of things) combination belongs to exactly one split
(by a hash of the combination), so test questions ask about combinations never seen in training, whatever
the seed and sizes. The seed chooses which combinations, in which order, with which letters.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from itertools import combinations

from cotdistill.data.example import Example
from cotdistill.data.rationale import Rationale
from cotdistill.data.task_config import TaskConfig
from cotdistill.errors import ConfigError, DataError

#: ``Rationale.source`` of the generator's rationales (they are references, not a teacher's output).
REFERENCE_SOURCE = "synthetic-reference"
#: Split of each (effect, set of things) combination, by hash bucket out of 10.
SPLIT_BUCKETS: dict[str, range] = {"train": range(0, 7), "validation": range(7, 8), "test": range(8, 10)}
#: Size of a split when the task config gives no limit (small enough to train on CPU in minutes).
DEFAULT_SIZES: dict[str, int] = {"train": 300, "validation": 100, "test": 200}


@dataclass(frozen=True)
class Quantity:
    """A quantity and the things that have it, listed from least to most."""

    name: str
    things: tuple[str, ...]
    less: str  # comparative for less of it ("smoother")
    more: str  # comparative for more of it ("rougher")


@dataclass(frozen=True)
class Effect:
    """A question about one quantity; the answer has the ``most`` (or least) of it, as ``rule`` says."""

    quantity: str
    question: str
    most: bool
    rule: str


QUANTITIES: dict[str, Quantity] = {q.name: q for q in (
    Quantity("friction", ("ice", "glass", "tile", "wood", "carpet", "gravel", "sandpaper"), "smoother", "rougher"),
    Quantity("mass", ("a feather", "an apple", "a book", "a brick", "a bike", "a car", "a truck"),
             "lighter", "heavier"),
    Quantity("distance", ("1 meter", "3 meters", "10 meters", "30 meters", "100 meters", "300 meters",
                          "1000 meters"), "closer", "farther"),
    Quantity("temperature", ("ice water", "cold milk", "tap water", "warm milk", "hot tea", "boiling water"),
             "colder", "hotter"),
)}

EFFECTS: tuple[Effect, ...] = (
    Effect("friction", "A puck gets the same push on each surface. On which does it slide farthest?", False,
           "Less friction lets a sliding thing go farther."),
    Effect("friction", "A box is pushed across each surface. On which is it hardest to push?", True,
           "More friction makes pushing harder."),
    Effect("friction", "A block is rubbed on each surface. On which does it get warmest?", True,
           "More friction makes more heat."),
    Effect("mass", "Which is hardest to start moving?", True, "More mass needs more force to move."),
    Effect("mass", "Each gets the same push. Which speeds up the most?", False,
           "Less mass speeds up more from the same push."),
    Effect("mass", "Which is easiest to lift?", False, "Less mass is easier to lift."),
    Effect("distance", "A lamp is this far away. At which distance does it look brightest?", False,
           "Light looks brighter from closer."),
    Effect("distance", "A bell rings this far away. At which distance is it quietest?", True,
           "Sound is quieter from farther away."),
    Effect("distance", "You walk this far at the same speed. Which walk takes longest?", True,
           "A longer distance takes more time."),
    Effect("temperature", "Sugar is stirred into each. In which does it dissolve fastest?", True,
           "Sugar dissolves faster when it is hotter."),
    Effect("temperature", "An ice cube is dropped in each. In which does it melt slowest?", False,
           "Ice melts slower when it is colder."),
    Effect("temperature", "Which has the fastest moving molecules?", True,
           "Hotter things have faster molecules."),
)


def _split_of(effect_index: int, things: tuple[str, ...]) -> str:
    key = f"{effect_index}\x00" + "\x00".join(sorted(things))
    bucket = int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") % 10
    return next(name for name, buckets in SPLIT_BUCKETS.items() if bucket in buckets)


def _combinations(split: str, max_choices: int) -> list[tuple[int, tuple[str, ...]]]:
    out = []
    for e_index, effect in enumerate(EFFECTS):
        things = QUANTITIES[effect.quantity].things
        for size in range(2, max_choices + 1):
            for combo in combinations(things, size):
                if _split_of(e_index, combo) == split:
                    out.append((e_index, combo))
    return out


def _list_words(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def reference_rationale_text(effect: Effect, answer: str, others: list[str]) -> str:
    """The rule, then the comparison that picks ``answer`` -- what a good teacher would say."""
    quantity = QUANTITIES[effect.quantity]
    comparative = quantity.more if effect.most else quantity.less
    return f"{effect.rule} {answer[0].upper() + answer[1:]} is {comparative} than {_list_words(others)}."


def _answer_and_others(effect: Effect, things: list[str]) -> tuple[str, list[str]]:
    order = QUANTITIES[effect.quantity].things
    answer = max(things, key=order.index) if effect.most else min(things, key=order.index)
    return answer, [t for t in things if t != answer]


def generate_synthetic(split: str = "train", size: int | None = None, seed: int = 0, *,
                       max_choices: int = 4) -> tuple[list[Example], dict[str, Rationale]]:
    """``size`` questions of ``split`` (train / validation / test) and their reference rationales.

    Deterministic in (split, size, seed, max_choices); a smaller size gives a prefix of a larger one.
    """
    if split not in SPLIT_BUCKETS:
        raise DataError(f"unknown split '{split}' of the synthetic task (known: {', '.join(SPLIT_BUCKETS)})",
                        field="split")
    if not 2 <= max_choices <= 4:
        raise DataError(f"max_choices must be 2, 3 or 4, got {max_choices}", field="max_choices")
    size = DEFAULT_SIZES[split] if size is None else size
    rng = random.Random(f"synthetic:{split}:{seed}:{max_choices}")
    pool = _combinations(split, max_choices)
    # Each combination may be asked in several letter orders; enumerate orders lazily, without repeats.
    capacity = sum(math.factorial(len(things)) for _, things in pool)
    if size > capacity:
        raise DataError(f"the synthetic '{split}' split has at most {capacity} distinct questions with "
                        f"max_choices={max_choices}; asked for {size}", field="limit")
    examples: list[Example] = []
    seen: set[tuple[int, tuple[str, ...]]] = set()
    while len(examples) < size:
        e_index, combo = rng.choice(pool)
        things = list(combo)
        rng.shuffle(things)
        if (e_index, tuple(things)) in seen:
            continue
        seen.add((e_index, tuple(things)))
        effect = EFFECTS[e_index]
        answer_text, _ = _answer_and_others(effect, things)
        labels = "ABCD"[: len(things)]
        choices = dict(zip(labels, things))
        answer = labels[things.index(answer_text)]
        examples.append(Example(
            id=f"synthetic-{split}-{len(examples):05d}", question=effect.question, choices=choices, answer=answer,
            meta={"synthetic": True, "quantity": effect.quantity, "effect": e_index, "n_choices": len(things)},
        ))
    return examples, reference_rationales(examples)



def reference_rationales(examples: list[Example]) -> dict[str, Rationale]:
    """The generator's reference rationales of synthetic examples (rebuilt from each example's own fields)."""
    out: dict[str, Rationale] = {}
    for ex in examples:
        if not ex.meta.get("synthetic") or ex.answer is None:
            raise DataError(f"example '{ex.id}' is not a labelled synthetic example: only the built-in synthetic "
                            "task has reference rationales", field="reference_rationales")
        effect = EFFECTS[ex.meta["effect"]]
        answer, others = _answer_and_others(effect, list(ex.choices.values()))
        if answer != ex.answer_text:
            raise DataError(f"example '{ex.id}': its answer does not follow the synthetic rule", field="answer")
        out[ex.id] = Rationale(id=ex.id, text=reference_rationale_text(effect, answer, others),
                               teacher_label=ex.answer, source=REFERENCE_SOURCE,
                               meta={"reference": True, "rule": effect.rule})
    return out


def load_synthetic_task(cfg: TaskConfig) -> list[Example]:
    """SYNTHETIC qualitative-physics questions (2-4 choices, offline, reference rationales); size = limit."""
    for name in ("path", "fields", "hub_name"):
        if getattr(cfg, name) is not None:
            raise ConfigError("the synthetic task is generated, not read: leave it out", field=f"task.{name}")
    if cfg.fact_as_context:
        raise ConfigError("the synthetic task has no facts", field="task.fact_as_context")
    split = cfg.canonical_split()
    if split not in SPLIT_BUCKETS:
        raise ConfigError(f"unknown split '{cfg.split}' (choose from {', '.join(SPLIT_BUCKETS)})",
                          field="task.split")
    examples, _ = generate_synthetic(split, cfg.limit, cfg.seed)
    return examples
