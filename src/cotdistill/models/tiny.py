"""Tiny random-weight students built in-process (tests, smoke runs), after litgpt's tiny test models.

The tokenizer is a byte-level BPE trained on the fly on a small built-in corpus plus any texts given, so
nothing is downloaded and every byte string is encodable. Like GPT-2 and SmolLM2 it has no BOS token and
uses ``<|endoftext|>`` as EOS and padding.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

_BASE_CORPUS = """\
Question: Which object has more friction? Choices: A: ice B: carpet Answer: carpet
Explanation: The answer is B because a rough surface like carpet has more friction than smooth ice.
So the answer is B. The answer is A because heavier things need more force to move.
Context: A person wants to save money for a vacation at the end of the year.
the a an of to in is it that was for on are as with his they at be this from have or by one had not
but what all were when we there can your which their said if do will each about how up out them then
she many some so these would other into has more her two like him see time could no make than first
been its who now people my made over did down only way find use may water long little very after
words called just where most know get through back much before go good new write our used me man too
any day same right look think also around another came come work three word must because does part
even place well such here take why things help put years different away again off went old number
animal plant sun heat cold warm light heavy mass distance speed force energy rock soil rain tree
"""


def build_tiny_tokenizer(texts: Iterable[str] = (), vocab_size: int = 512, save_dir: str | Path | None = None):
    """A byte-level BPE ``PreTrainedTokenizerFast`` trained on the built-in corpus and ``texts``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator([_BASE_CORPUS, *texts], trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<|endoftext|>")
    if save_dir is not None:
        fast.save_pretrained(str(save_dir))
    return fast


def build_tiny_model(vocab_size: int, *, seed: int = 0, hidden_size: int = 64, num_layers: int = 2,
                     num_heads: int = 4, num_kv_heads: int = 2, intermediate_size: int = 128,
                     max_position_embeddings: int = 1024):
    """A random-weight Llama-architecture causal LM (the architecture of SmolLM2), small enough for tests."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(vocab_size=vocab_size, hidden_size=hidden_size, intermediate_size=intermediate_size,
                         num_hidden_layers=num_layers, num_attention_heads=num_heads,
                         num_key_value_heads=num_kv_heads, max_position_embeddings=max_position_embeddings,
                         tie_word_embeddings=True, eos_token_id=0, pad_token_id=0, bos_token_id=None)
    torch.manual_seed(seed)
    return LlamaForCausalLM(config)
