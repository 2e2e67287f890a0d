"""The in-process transformers backend on a tiny random model."""

from __future__ import annotations

import pytest
from conftest import make_examples

from cotdistill.errors import ConfigError
from cotdistill.teacher import LocalBackend, TeachConfig, teach
from cotdistill.models.tiny import build_tiny_model

CHAT_TEMPLATE = ("{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
                 "{% if add_generation_prompt %}assistant:{% endif %}")


def _cfg(tmp_path, out: str, style: str = "completion", **sampling) -> TeachConfig:
    return TeachConfig.from_dict({
        "task": {"name": "jsonl"}, "output_dir": str(tmp_path / out), "cache": str(tmp_path / f"{out}.sqlite"),
        "teacher": {"backend": "local", "model": "tiny", "dtype": "fp32"},
        "prompt": {"style": style, "n_shots": 1},
        "sampling": {"max_new_tokens": 6, **sampling},
    })


@pytest.fixture(scope="module")
def lively_model(tiny_tokenizer):
    """A tiny random model with large weights, so that its greedy answers depend on the prompt (the default
    initialisation answers every prompt with the same token, which would hide padding mistakes)."""
    import torch

    model = build_tiny_model(len(tiny_tokenizer), seed=1)
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for param in model.parameters():
            if param.dim() == 2:
                param.normal_(0.0, 0.3, generator=generator)
    return model.eval()


@pytest.fixture(scope="module")
def one_at_a_time(tmp_path_factory, lively_model, tiny_tokenizer):
    """Answers to 7 questions of different lengths (batches need padding), generated one per call."""
    tmp_path = tmp_path_factory.mktemp("one")
    one = LocalBackend("tiny", dtype="fp32", batch_size=1, share_prefix=False,
                       model_and_tokenizer=(lively_model, tiny_tokenizer))
    single = teach(_cfg(tmp_path, "one"), examples=make_examples(7), backend=one)
    return {r.id: r.meta["raw_text"] for r in single.rationales}


@pytest.mark.parametrize("share_prefix", [False, True])
def test_batched_padded_generation_equals_one_at_a_time(tmp_path, lively_model, tiny_tokenizer, one_at_a_time,
                                                       share_prefix):
    batched = LocalBackend("tiny", dtype="fp32", batch_size=4, share_prefix=share_prefix,
                           model_and_tokenizer=(lively_model, tiny_tokenizer))
    multi = teach(_cfg(tmp_path, "batched"), examples=make_examples(7), backend=batched)
    texts_multi = {r.id: r.meta["raw_text"] for r in multi.rationales}
    assert texts_multi == one_at_a_time and len(set(texts_multi.values())) == 7
    sizes = sorted(r.meta["batch"]["size"] for r in multi.rationales)
    assert sizes == [3, 3, 3, 4, 4, 4, 4]
    assert all(0 < r.meta["completion_tokens"] <= 6 and r.meta["prompt_tokens"] > 0 for r in multi.rationales)


def test_sampling_is_seeded_and_chat_needs_a_template(tmp_path, lively_model, tiny_tokenizer):
    examples = make_examples(3)
    backend = LocalBackend("tiny", dtype="fp32", batch_size=3, model_and_tokenizer=(lively_model, tiny_tokenizer))
    with pytest.raises(ConfigError, match="no chat template"):
        teach(_cfg(tmp_path, "chat", style="chat"), examples=examples, backend=backend)
    tiny_tokenizer.chat_template = CHAT_TEMPLATE
    try:
        a = teach(_cfg(tmp_path, "a", style="chat", temperature=1.0, seed=5), examples=examples, backend=backend)
        b = teach(_cfg(tmp_path, "b", style="chat", temperature=1.0, seed=5), examples=examples, backend=backend)
        c = teach(_cfg(tmp_path, "c", style="chat", temperature=1.0, seed=6), examples=examples, backend=backend)
    finally:
        tiny_tokenizer.chat_template = None
    texts = [[r.meta["raw_text"] for r in res.rationales] for res in (a, b, c)]
    assert texts[0] == texts[1] != texts[2]
    assert a.rationales[0].meta["batch"]["seed"] is not None
