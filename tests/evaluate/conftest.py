"""Fixtures of the evaluation tests."""

from __future__ import annotations

import pytest
from eval_helpers import make_examples

from cotdistill.data.example import Example


@pytest.fixture()
def examples() -> list[Example]:
    return make_examples()


@pytest.fixture(scope="session")
def letter_tokenizer():
    """A tiny tokenizer for which " A" ... " E" are single tokens."""
    from cotdistill.models.tiny import build_tiny_tokenizer

    return build_tiny_tokenizer([" A B C D E" * 200])
