"""A tiny student trained once per session on the planted-key-word task (see keytoken_planted.py)."""

from __future__ import annotations

import pytest

from keytoken_planted import planted_tokenizer, train_planted_student


@pytest.fixture(scope="session")
def planted_student():
    import torch

    threads = torch.get_num_threads()
    # One thread: tiny matrices gain nothing from two, and lose a lot when the shared CPU is busy.
    torch.set_num_threads(1)
    try:
        tokenizer = planted_tokenizer()
        yield train_planted_student(tokenizer, seed=0), tokenizer
    finally:
        torch.set_num_threads(threads)
