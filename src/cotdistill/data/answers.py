"""Which choice a free-text answer names: teacher rationales, student generations, few-shot completions.

Two levels of evidence, reported so callers can tell a clear statement from a guess:

- **strict**: an explicit answer statement -- "The answer is B", "the answer is (b)", "So the answer is (d) math
  problem.", "Answer: B", "B is the correct answer", or a text that opens with the label ("A because ...",
  "A. The ..."). A stated letter maps case-insensitively to the example's labels (a bare lower-case "a" only
  counts when it cannot be the article); a stated text is matched to a choice text after normalisation (case,
  punctuation, articles). The first statement that names a choice decides.
- **flexible** (fallback when no statement names a choice): the last choice letter standing alone ("(C)",
  "option D", "E."), else the choice text mentioned last.

A statement that hedges between choices ("The answer is A or E", "A, B, or C") or abstains ("none of the
above") names no single choice; it is decisive -- no fallback guesses a label behind the teacher's back.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Literal

from cotdistill.data.example import Example

MatchHow = Literal["strict", "flexible"]
#: What a parse found: a ``letter`` / choice ``text`` statement, a ``hedged`` or ``abstained`` statement (no
#: label), a flexible ``letter_mention`` / ``text_mention``, or ``none``.
ParseDetail = Literal["letter", "text", "hedged", "abstained", "letter_mention", "text_mention", "none"]

_ARTICLES = {"a", "an", "the"}
_PUNCT_TABLE = str.maketrans({c: " " for c in string.punctuation + "\u2018\u2019\u201c\u201d"})

# "answer is", "correct option would be", "answer:" -- the phrase that introduces a stated answer. "must be" is
# left out on purpose: PaLM's few-shot rationales open with "The answer must be something that ...".
_STATEMENT = re.compile(
    r"\b(?:answer|option|choice)\s+(?:is|would\s+be|should\s+be)\b\s*:?\s*|\banswer\s*:\s*", re.IGNORECASE)
_ABSTAIN = re.compile(
    r"^(?:none\b|neither\b|all\s+of\s+the\s+(?:above|choices|options)|not\s+(?:clear|determin|possible)|"
    r"cannot\s+be\s+determined|impossible|unclear|unknown)", re.IGNORECASE)
_NEGATED = re.compile(r"^not\b", re.IGNORECASE)
# "None of the above is the correct answer because ..." opening a rationale.
_ABSTAIN_LEAD = re.compile(r"(?:none\s+of\s+the\s+(?:above|given|choices|options|answers)|neither\s+of\b)",
                           re.IGNORECASE)
_HEDGE_WORD = re.compile(r"^(?:either|one\s+of|both)\b", re.IGNORECASE)
# Sentence end used to bound a stated choice text and a stripped statement.
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)|\n")


@dataclass(frozen=True)
class AnswerParse:
    """Result of :func:`parse_answer`: the label (or ``None``), how it was found and what was seen."""

    label: str | None
    how: MatchHow | None
    detail: ParseDetail
    span: tuple[int, int] | None = None


def normalize_answer_text(text: str) -> str:
    """Lower-case, punctuation to spaces, articles dropped, whitespace collapsed: how choice texts are compared."""
    words = text.lower().translate(_PUNCT_TABLE).split()
    return " ".join(w for w in words if w not in _ARTICLES)


def _label_pattern(labels: list[str]) -> str:
    # Longest first so "10" wins over "1" for numeric labels.
    return "|".join(re.escape(lab) for lab in sorted(labels, key=len, reverse=True))


def _canonical_label(found: str, labels: list[str]) -> str | None:
    for lab in labels:
        if lab.lower() == found.lower():
            return lab
    return None


class _LabelReader:
    """Reads a choice label at a position: "(b)", "B", "b." -- not the article in "a bank"."""

    def __init__(self, example: Example):
        self.labels = example.labels
        alternatives = _label_pattern(self.labels)
        self.paren = re.compile(rf"\(\s*({alternatives})\s*\)", re.IGNORECASE)
        self.bare = re.compile(rf"({alternatives})(?![\w'])", re.IGNORECASE)

    def read(self, text: str, pos: int) -> tuple[str, int] | None:
        """The label starting at ``pos`` and the position after it, or ``None``."""
        m = self.paren.match(text, pos)
        if m:
            return _canonical_label(m.group(1), self.labels), m.end()
        m = self.bare.match(text, pos)
        if not m:
            return None
        found = m.group(1)
        if found.isalpha() and found.islower():
            # A bare lower-case letter is an article or pronoun unless nothing word-like follows it.
            rest = text[m.end():]
            if not re.match(r"\s*(?:$|[.,:;!?)]|because\b)", rest):
                return None
        return _canonical_label(found, self.labels), m.end()

    def hedged_after(self, text: str, pos: int) -> bool:
        """Whether another label follows as an alternative: "A or E", "A, B, or C", "B and C", "A/B"."""
        m = re.match(r"\s*(?:,\s*|/\s*|\s+(?:or|and)\s+|,\s*(?:or|and)\s+)", text[pos:], re.IGNORECASE)
        if not m:
            return False
        nxt = self.read(text, pos + m.end())
        return nxt is not None and nxt[0] is not None


def _match_choice_text(stated: str, example: Example) -> str | None:
    """The label whose normalised text the stated text starts with (longest choice wins), or ``None``."""
    norm = normalize_answer_text(stated)
    best: tuple[int, str] | None = None
    for label, choice in example.choices.items():
        choice_norm = normalize_answer_text(choice)
        if not choice_norm:
            continue
        if norm == choice_norm or norm.startswith(choice_norm + " "):
            if best is None or len(choice_norm) > best[0]:
                best = (len(choice_norm), label)
    return best[1] if best else None


def _restated_choice(text: str, pos: int, example: Example) -> list[str]:
    """Labels whose text exactly equals the text restated after a label ("(d) math problem."), if any."""
    rest = text[pos:]
    end = _SENTENCE_END.search(rest)
    clause = normalize_answer_text(rest[: end.start()] if end else rest)
    if not clause:
        return []
    return [lab for lab, choice in example.choices.items() if normalize_answer_text(choice) == clause]


def _read_statement(text: str, start: int, reader: _LabelReader, example: Example) -> AnswerParse | None:
    """Interpret what follows an answer phrase; ``None`` when it names nothing (e.g. "not provided")."""
    content = text[start:]
    if _ABSTAIN.match(content):
        return AnswerParse(None, None, "abstained", (start, start))
    if _NEGATED.match(content):
        return None
    if _HEDGE_WORD.match(content):
        return AnswerParse(None, None, "hedged", (start, start))
    got = reader.read(text, start)
    if got is not None and got[0] is not None:
        label, end = got
        if reader.hedged_after(text, end):
            return AnswerParse(None, None, "hedged", (start, end))
        restated = _restated_choice(text, end, example)
        if restated and label not in restated:
            # "So the answer is (e) unimportant." where "unimportant" is choice D: the letter is one slipped token,
            # the text repeats what the reasoning chose, so the text wins.
            return AnswerParse(restated[0], "strict", "text", (start, end))
        return AnswerParse(label, "strict", "letter", (start, end))
    end_match = _SENTENCE_END.search(content)
    clause = content[: end_match.start()] if end_match else content
    label = _match_choice_text(clause, example)
    if label is not None:
        return AnswerParse(label, "strict", "text", (start, start + len(clause)))
    return None


def _strict(text: str, example: Example, reader: _LabelReader) -> AnswerParse | None:
    candidates: list[tuple[int, AnswerParse]] = []
    lead = re.match(r"\s*", text).end()
    if _ABSTAIN_LEAD.match(text, lead):
        return AnswerParse(None, None, "abstained", (lead, lead))
    got = reader.read(text, lead)
    opens_with_label = text[lead:lead + 1].isupper() or text[lead:lead + 1] == "("
    if got is not None and got[0] is not None and opens_with_label:
        label, end = got
        if reader.hedged_after(text, end):
            return AnswerParse(None, None, "hedged", (lead, end))
        # "A because ...", "A. The ...", "A: ...", "(B) ...", "A is the correct answer"
        after = text[end:]
        # "A: The answer is C" is the few-shot "A:" (answer) marker, not choice A.
        marker = re.match(r"\s*:\s*(?:the\s+)?(?:correct\s+)?answer\b", after, re.IGNORECASE)
        if not marker and (text[lead] == "(" or re.match(
                r"\s*(?:[.:)\-]|,?\s*because\b|\s+is\s+(?:the\s+)?(?:correct|right|best)\b|$)", after,
                re.IGNORECASE)):
            candidates.append((lead, AnswerParse(label, "strict", "letter", (lead, end))))
    alternatives = _label_pattern(example.labels)
    for m in re.finditer(rf"(?<![\w(])\(?({alternatives})\)?\s+is\s+(?:the\s+)?(?:correct|right|best)\s+"
                         rf"(?:answer|option|choice)", text, re.IGNORECASE):
        label = _canonical_label(m.group(1), example.labels)
        if label is not None and (m.group(1).isupper() or text[m.start()] == "("):
            candidates.append((m.start(), AnswerParse(label, "strict", "letter", m.span())))
    for m in _STATEMENT.finditer(text):
        parsed = _read_statement(text, m.end(), reader, example)
        if parsed is not None:
            candidates.append((m.start(), parsed))
    if not candidates:
        return None
    return min(candidates, key=lambda c: c[0])[1]


def _flexible(text: str, example: Example, reader: _LabelReader) -> AnswerParse | None:
    alternatives = _label_pattern(example.labels)
    last: tuple[int, str] | None = None
    for m in re.finditer(rf"\(\s*({alternatives})\s*\)|(?<![\w'])({alternatives})(?![\w'])", text,
                         re.IGNORECASE):
        if m.group(1) is not None:
            label = _canonical_label(m.group(1), example.labels)
        else:
            found = m.group(2)
            if not found.isupper() and not found.isdigit():
                continue
            after = text[m.end():]
            before = text[: m.start()]
            named = re.search(r"\b(?:option|choice|answer)\s*$", before, re.IGNORECASE)
            # Capital "A"/"I" start sentences as words; count them only when named or not followed by a word.
            if found in ("A", "I") and not named and re.match(r"\s+[A-Za-z]", after):
                continue
            label = _canonical_label(found, example.labels)
        if label is not None:
            last = (m.start(), label)
    if last is not None:
        return AnswerParse(last[1], "flexible", "letter_mention", (last[0], last[0] + 1))
    norm = f" {normalize_answer_text(text)} "
    best: tuple[int, int, str] | None = None
    for label, choice in example.choices.items():
        choice_norm = normalize_answer_text(choice)
        if not choice_norm:
            continue
        pos = norm.rfind(f" {choice_norm} ")
        if pos >= 0:
            key = (pos + len(choice_norm), len(choice_norm), label)
            if best is None or key[:2] > best[:2]:
                best = key
    if best is not None:
        return AnswerParse(best[2], "flexible", "text_mention", None)
    return None


def parse_answer(text: str, example: Example, *, strict_only: bool = False) -> AnswerParse:
    """The choice ``text`` names, with how it was found (see the module doc for the rules)."""
    reader = _LabelReader(example)
    strict = _strict(text, example, reader)
    if strict is not None:
        return strict
    if not strict_only:
        flexible = _flexible(text, example, reader)
        if flexible is not None:
            return flexible
    return AnswerParse(None, None, "none")


def extract_label(text: str, example: Example, *, strict_only: bool = False) -> tuple[str | None, MatchHow | None]:
    """``(label, how)``: the label of ``example`` that ``text`` states (``how="strict"``) or, unless
    ``strict_only``, merely mentions (``how="flexible"``); ``(None, None)`` when it names no single choice."""
    parsed = parse_answer(text, example, strict_only=strict_only)
    return parsed.label, parsed.how


# --- stripping answer statements from rationales -------------------------------------------------------------

_LEAD_PHRASE = re.compile(
    r"\s*(?:(?:so|thus|therefore|hence)\s*,?\s+)?(?:the\s+)?(?:correct\s+|right\s+|best\s+|final\s+)?"
    r"(?:answer|option|choice)\s+(?:is|would\s+be)\s*:?\s*", re.IGNORECASE)
_LABEL_TOKEN = r"(?:\([A-Za-z0-9]\)|[A-Z0-9](?![\w']))"
_LABEL_LIST = rf"{_LABEL_TOKEN}(?:\s*(?:,|/|\bor\b|\band\b)\s*(?:(?:or|and)\s+)?{_LABEL_TOKEN})*"
_CONNECTOR = re.compile(r"\s*,?\s*(?:because|since|as)\b\s*|\s*,\s*|\s+", re.IGNORECASE)
_TRAILING = re.compile(
    r"(?:(?<=[.!?])\s+|\n\s*|^\s*)((?:so|thus|therefore|hence)\s*,?\s+)?(?:the\s+)?(?:correct\s+)?answer\s+is\b"
    r"[^\n]*?\s*$", re.IGNORECASE)


def _rest_after_label(text: str, pos: int) -> int:
    """Where the reasoning starts after a stated label at ``pos``."""
    rest = text[pos:]
    if re.match(r"\s*[:\-]", rest):
        # "The answer is D: the stars in the night sky. This is because ..." -- drop the restated choice text.
        end = _SENTENCE_END.search(rest)
        return pos + (end.end() if end else len(rest))
    m = re.match(r"\s*\.\s*", rest)
    if m:
        return pos + m.end()
    m = _CONNECTOR.match(rest)
    return pos + (m.end() if m else 0)


def _strip_leading(text: str) -> tuple[str, bool]:
    m = _LEAD_PHRASE.match(text)
    if m:
        label = re.match(_LABEL_LIST, text[m.end():])
        if label:
            return text[_rest_after_label(text, m.end() + label.end()):], True
        # A stated text ("The answer is bank because ..."): drop through "because" within the first sentence,
        # else the whole first sentence.
        rest = text[m.end():]
        end = _SENTENCE_END.search(rest)
        sentence_end = end.end() if end else len(rest)
        because = re.search(r"\s*,?\s*\bbecause\b\s*", rest[:sentence_end], re.IGNORECASE)
        return rest[because.end():] if because else rest[sentence_end:], True
    m = re.match(rf"\s*{_LABEL_LIST}(?=\s*(?:[.:)\-]|,?\s*because\b))", text)
    if m and not re.match(r"\s*A\.\s*[a-z]", text):
        return text[_rest_after_label(text, m.end()):], True
    return text, False


def strip_answer_statement(text: str) -> str:
    """The rationale without a leading ("The answer is B because ...") or trailing ("So the answer is (d) math
    problem.") answer statement, so that only the reasoning remains; other text is returned stripped."""
    body, stripped_lead = _strip_leading(text)
    m = _TRAILING.search(body)
    if m:
        body = body[: m.start()]
    body = body.strip()
    if stripped_lead and body[:1].islower():
        body = body[0].upper() + body[1:]
    return body
