"""Questions shared by the predict and export tests."""

from __future__ import annotations

import json

#: (question, choices, gold label, rationale): 2-4 choices, single- and multi-word choice texts.
QUESTIONS = [
    ("Which object has more friction?", {"A": "ice", "B": "carpet"}, "B",
     "A rough surface like carpet has more friction than smooth ice."),
    ("What makes a plant grow toward the window?", {"A": "light", "B": "sound", "C": "cold"}, "A",
     "Plants bend toward light because they need it to make food."),
    ("Which is heavier?", {"A": "a rock", "B": "a leaf"}, "A", "A rock has more mass than a leaf."),
    ("What melts ice fastest?", {"A": "cold air", "B": "warm water"}, "B",
     "Warm water carries heat to the ice and melts it quickly."),
    ("Where does rain come from?", {"A": "soil", "B": "clouds", "C": "trees", "D": "rocks"}, "B",
     "Water in clouds falls as rain."),
    ("What does the sun give the earth?", {"A": "heat and light", "B": "rocks"}, "A",
     "The sun sends heat and light to the earth every day."),
]


def question_records(n: int = len(QUESTIONS)) -> list[dict]:
    return [{"id": f"q{i}", "question": q, "choices": c, "answer": a}
            for i, (q, c, a, _) in enumerate(QUESTIONS[:n])]


def write_jsonl(path, records) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
