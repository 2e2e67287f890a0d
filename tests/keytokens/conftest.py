"""Fixtures of the key-token tests: one torch thread, and a tiny student trained on the planted-key-word task."""

from __future__ import annotations

import pytest
from keytoken_planted import planted_tokenizer, train_planted_student


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    # Tiny models gain nothing from two threads, and lose several-fold when the CPU is shared; restored after.
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def planted_student():
    """(model, tokenizer) of a student for which one rationale word decides the label (see keytoken_planted.py)."""
    import torch

    # Session fixtures are set up before module ones: one thread here too (see one_torch_thread).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        tokenizer = planted_tokenizer()
        return train_planted_student(tokenizer, seed=0), tokenizer
    finally:
        torch.set_num_threads(threads)
