"""From scorer tokens to words and from words to student tokens.

A selector scores the rationale as tokenized by the *scorer's* tokenizer; a variant selects among the rationale
tokens of the *student's* tokenizer. Words (whitespace-separated runs of the rationale text) are the unit both
share: scores are summed from subwords to words (attributions are additive, so a word's score is the sum of its
pieces), and each student token takes the score of the word it lies in.

Both tokenizations are of :func:`cotdistill.prompting.rationale_string` -- the string the variants encode -- by
:func:`cotdistill.prompting.encode_continuation_with_offsets`, and are aligned through the character offsets of a
fast tokenizer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from cotdistill.prompting import encode_continuation_with_offsets, rationale_string

_WORD = re.compile(r"\S+")


def word_spans(string: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _WORD.finditer(string)]


def words_of(text: str) -> list[str]:
    string = rationale_string(text)
    return [string[a:b] for a, b in word_spans(string)]


def token_words(offsets: Sequence[tuple[int, int]], spans: Sequence[tuple[int, int]]) -> list[int | None]:
    """For each token, the index of the first word its characters overlap (``None``: whitespace only)."""
    out: list[int | None] = []
    w = 0
    for start, end in offsets:
        # Offsets only move forward, so a single pass over the words suffices.
        while w < len(spans) and spans[w][1] <= start:
            w += 1
        overlaps = w < len(spans) and spans[w][0] < end and start < spans[w][1]
        out.append(w if overlaps else None)
    return out


def aggregate_to_words(token_scores: Sequence[float], words_of_tokens: Sequence[int | None],
                       n_words: int) -> list[float]:
    """Sum token scores into their words (a word no token reaches scores 0)."""
    totals = [0.0] * n_words
    for score, w in zip(token_scores, words_of_tokens, strict=True):
        if w is not None:
            totals[w] += float(score)
    return totals


def student_token_scores(text: str, word_scores: Sequence[float], tokenizer: Any) -> list[float]:
    """One score per student rationale token (:func:`cotdistill.prompting.rationale_ids`): the score of its word.

    Tokens that cover only whitespace get ``-inf`` so no selection prefers them.
    """
    string = rationale_string(text)
    spans = word_spans(string)
    if len(spans) != len(word_scores):
        raise ValueError(f"{len(word_scores)} word scores for a rationale of {len(spans)} words")
    _, offsets = encode_continuation_with_offsets(tokenizer, string)
    return [word_scores[w] if w is not None else float("-inf") for w in token_words(offsets, spans)]
