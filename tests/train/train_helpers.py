"""Small in-memory tasks and rationales for the train tests."""

from __future__ import annotations

from cotdistill.data.example import Example
from cotdistill.data.rationale import Rationale

QUESTIONS = [
    ("Which object has more friction?", {"A": "ice", "B": "carpet"}, "B",
     "A rough surface like carpet has more friction than smooth ice."),
    ("What makes a plant grow toward the window?", {"A": "light", "B": "sound", "C": "cold"}, "A",
     "Plants bend toward light because they need it to make food."),
    ("Which is heavier?", {"A": "a rock", "B": "a leaf"}, "A", "A rock has more mass than a leaf."),
    ("What melts ice fastest?", {"A": "cold air", "B": "warm water"}, "B",
     "Warm water carries heat to the ice and melts it quickly, much faster than air."),
    ("Where does rain come from?", {"A": "soil", "B": "clouds", "C": "trees", "D": "rocks"}, "B",
     "Water in clouds falls as rain."),
    ("What does the sun give the earth?", {"A": "heat and light", "B": "rocks"}, "A",
     "The sun sends heat and light to the earth every day."),
]


def tiny_examples(n: int = 6) -> list[Example]:
    out = []
    for i in range(n):
        question, choices, answer, _ = QUESTIONS[i % len(QUESTIONS)]
        out.append(Example(id=f"q{i}", question=question, choices=choices, answer=answer))
    return out


def tiny_rationales(n: int = 6) -> dict[str, Rationale]:
    return {f"q{i}": Rationale(id=f"q{i}", text=QUESTIONS[i % len(QUESTIONS)][3], source="test")
            for i in range(n)}


def tiny_instances(tokenizer, n: int = 6, variant: str = "cot_after_label"):
    from cotdistill.variants import build_instances, make_variant

    return build_instances(tiny_examples(n), tiny_rationales(n), make_variant(variant), tokenizer, seed=0)
