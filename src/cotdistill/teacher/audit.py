"""Reading the teacher's answers: which label it chose, whether that is right, and what its rationales look like.

Every answer is parsed with :func:`cotdistill.data.answers.parse_answer` (strict statement first, then the
flexible fallback) and gets a status: ``correct``, ``wrong``, ``unparseable`` (names no single choice),
``unlabeled`` (no gold label to compare with) or ``failed`` (no answer: retries exhausted). The audit sums them
up: teacher accuracy, parse failures, rationale length distribution, and label leakage -- whether a rationale
states its answer outright, and whether its reasoning (answer statement stripped) spells out the gold choice's
text, which lets a student copy the label from the rationale instead of learning it.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass
from typing import Any

from cotdistill.data.answers import normalize_answer_text, parse_answer, strip_answer_statement
from cotdistill.data.example import Example

STATUSES = ("correct", "wrong", "unparseable", "unlabeled", "failed")


def clean_completion(raw: str, stop: tuple[str, ...] | list[str]) -> str:
    """The answer as kept: cut at the first stop string (servers may ignore ``stop``), whitespace stripped."""
    cut = len(raw)
    for s in stop:
        pos = raw.find(s)
        if pos >= 0:
            cut = min(cut, pos)
    return raw[:cut].strip()


@dataclass(frozen=True)
class ParsedAnswer:
    label: str | None
    how: str | None
    detail: str
    status: str
    states_answer: bool
    reasoning_mentions_gold_text: bool


def _mentions(haystack_norm: str, needle: str) -> bool:
    needle_norm = normalize_answer_text(needle)
    return bool(needle_norm) and re.search(rf"(?:^| ){re.escape(needle_norm)}(?: |$)", haystack_norm) is not None


def parse_teacher_answer(text: str, example: Example) -> ParsedAnswer:
    parsed = parse_answer(text, example)
    if parsed.label is None:
        status = "unparseable"
    elif example.answer is None:
        status = "unlabeled"
    else:
        status = "correct" if parsed.label == example.answer else "wrong"
    reasoning = normalize_answer_text(strip_answer_statement(text))
    gold_text = example.answer_text
    return ParsedAnswer(label=parsed.label, how=parsed.how, detail=parsed.detail, status=status,
                        states_answer=parsed.how == "strict",
                        reasoning_mentions_gold_text=gold_text is not None and _mentions(reasoning, gold_text))


def _distribution(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    ordered = sorted(values)

    def pct(q: float) -> float:
        return float(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))])

    return {"min": float(ordered[0]), "p10": pct(0.10), "median": float(statistics.median(ordered)),
            "mean": round(statistics.fmean(ordered), 2), "p90": pct(0.90), "max": float(ordered[-1])}


def _share(count: int, total: int) -> float | None:
    return round(count / total, 4) if total else None


def build_audit(records: list[dict[str, Any]], *, n_questions: int) -> dict[str, Any]:
    """Sum up per-answer records (``status``, ``how``, ``detail``, ``text``, ``completion_tokens``,
    ``states_answer``, ``reasoning_mentions_gold_text``, ``id``) into the audit."""
    statuses = Counter(r["status"] for r in records)
    answered = [r for r in records if r["status"] != "failed"]
    labeled = [r for r in records if r["status"] in ("correct", "wrong", "unparseable", "failed")]
    judged = statuses["correct"] + statuses["wrong"]
    by_question: dict[str, list[str]] = {}
    for r in records:
        by_question.setdefault(r["id"], []).append(r["status"])
    tokens = [r["completion_tokens"] for r in answered if r.get("completion_tokens") is not None]
    return {
        "questions": n_questions,
        "answers": len(records),
        "status_counts": {s: statuses[s] for s in STATUSES},
        "teacher_accuracy": _share(statuses["correct"], judged),
        "teacher_accuracy_all": _share(statuses["correct"], len(labeled)),
        "questions_with_a_correct_answer": sum("correct" in v for v in by_question.values()),
        "parse": {
            "strict": sum(r["how"] == "strict" for r in answered),
            "flexible": sum(r["how"] == "flexible" for r in answered),
            "unparseable": statuses["unparseable"],
            "hedged": sum(r["detail"] == "hedged" for r in answered),
            "abstained": sum(r["detail"] == "abstained" for r in answered),
            "empty": sum(not r["text"] for r in answered),
        },
        "length_words": _distribution([len(r["text"].split()) for r in answered]),
        "length_tokens": _distribution(tokens),
        "leakage": {
            "states_answer": _share(sum(r["states_answer"] for r in answered), len(answered)),
            "reasoning_mentions_gold_text": _share(sum(r["reasoning_mentions_gold_text"] for r in answered),
                                                   len(answered)),
        },
    }


def audit_rows(audit: dict[str, Any]) -> list[tuple[str, str]]:
    """The audit as (metric, value) rows for a printed table (CLI, docs)."""

    def pct(v: float | None) -> str:
        return "n/a" if v is None else f"{100 * v:.1f}%"

    def dist(d: dict[str, float] | None) -> str:
        if not d:
            return "n/a"
        return f"median {d['median']:g}, mean {d['mean']:g} (p10 {d['p10']:g}, p90 {d['p90']:g}, max {d['max']:g})"

    s = audit["status_counts"]
    p = audit["parse"]
    rows = [
        ("questions / answers", f"{audit['questions']} / {audit['answers']}"),
        ("teacher accuracy (parsed answers)", pct(audit["teacher_accuracy"])),
        ("teacher accuracy (all labeled)", pct(audit["teacher_accuracy_all"])),
        ("correct / wrong / unparseable", f"{s['correct']} / {s['wrong']} / {s['unparseable']}"),
        ("failed (no answer) / unlabeled", f"{s['failed']} / {s['unlabeled']}"),
        ("parsed strict / flexible", f"{p['strict']} / {p['flexible']}"),
        ("hedged / abstained / empty", f"{p['hedged']} / {p['abstained']} / {p['empty']}"),
        ("rationale length, words", dist(audit["length_words"])),
        ("rationale length, tokens", dist(audit["length_tokens"])),
        ("leakage: states its answer", pct(audit["leakage"]["states_answer"])),
        ("leakage: reasoning spells the gold choice", pct(audit["leakage"]["reasoning_mentions_gold_text"])),
    ]
    policy = audit.get("label_policy")
    if policy:
        rows.append((f"label policy '{policy['policy']}': kept / dropped / relabeled",
                     f"{policy['kept']} / {policy['dropped']} / {policy['relabeled']}"))
    run = audit.get("run")
    if run:
        rows.append(("requests: new / from cache / failed",
                     f"{run['requested']} / {run['cached']} / {run['failed']}"))
        rows.append(("retries", str(run["retries"])))
    return rows


def audit_markdown(audit: dict[str, Any]) -> str:
    lines = ["| metric | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in audit_rows(audit)]
    return "\n".join(lines)
