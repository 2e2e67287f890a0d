"""A teacher run in-process with transformers: batched, padded generation in bf16 by default.

Requests are sorted by prompt length and cut into batches of ``batch_size`` so that little padding is computed;
each batch's answers are handed over as soon as it finishes. Few-shot prompts share a long prefix (instruction
and worked shots: most of each prompt), so its keys and values are computed once and every batch starts from a
copy of them (prefix caching, as vLLM does): each row is ``prefix + padding + own suffix``, with the padding
masked out, so positions and attention are those of the unpadded prompt. Any model the student resolver accepts works
(packaged GGUF alias, local directory, hub id). With sampling (temperature > 0) each batch draws from its own
seed derived from the run seed and the batch's keys, so a rerun with the same batches gives the same answers;
the batch seed is recorded with every answer.
"""

from __future__ import annotations

import copy
import hashlib
import time
from collections.abc import Sequence
from typing import Any

from cotdistill.errors import ConfigError
from cotdistill.models import StudentConfig, load_student
from cotdistill.models.device import model_device, place_model, resolve_device
from cotdistill.teacher.backends.base import (
    TEACHER_BACKENDS,
    GenerationOutcome,
    GenerationRequest,
    OutcomeSink,
    TeacherBackend,
)

#: Shorter common prefixes are recomputed per row (copying their cache would cost about as much).
MIN_SHARED_PREFIX = 16


@TEACHER_BACKENDS.register("local")
class LocalBackend(TeacherBackend):
    """``model`` is a student-resolver spec; pass ``model_and_tokenizer`` to use objects already loaded.

    ``ignore_eos`` generates exactly ``max_new_tokens`` per answer (throughput benchmarks compare equal work);
    ``share_prefix`` computes the prompts' common token prefix once (off: plain left padding). ``device`` is a
    device setting (``auto``, ``cpu``, ``cuda``, ...): the model is moved there once and every batch is built there.
    """

    name = "local"

    def __init__(self, model: str, *, dtype: str = "bf16", batch_size: int = 16, ignore_eos: bool = False,
                 share_prefix: bool = True, device: str = "auto",
                 model_and_tokenizer: tuple[Any, Any] | None = None):
        super().__init__()
        if batch_size < 1:
            raise ConfigError("must be at least 1", field="teacher.batch_size")
        # Resolved before any work, so a missing device fails before the model is loaded.
        self.device = resolve_device(device, field="teacher.device")
        self.model_spec = model
        self.dtype = dtype
        self.batch_size = batch_size
        self.ignore_eos = ignore_eos
        self.share_prefix = share_prefix
        self._loaded = model_and_tokenizer

    @classmethod
    def from_config(cls, cfg: Any) -> LocalBackend:
        return cls(cfg.model, dtype=cfg.dtype, batch_size=cfg.batch_size, device=cfg.device)

    def identity(self) -> dict[str, Any]:
        return {"backend": self.name, "model": self.model_spec, "dtype": self.dtype}

    def _model_and_tokenizer(self) -> tuple[Any, Any]:
        if self._loaded is None:
            self._loaded = load_student(StudentConfig(model=self.model_spec, dtype=self.dtype), device=self.device)
        model, tokenizer = self._loaded
        place_model(model, self.device)
        model.eval()
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        return model, tokenizer

    def encode(self, request: GenerationRequest, tokenizer: Any) -> list[int]:
        prompt = request.prompt
        if prompt.style == "chat":
            if not getattr(tokenizer, "chat_template", None):
                raise ConfigError(f"model '{self.model_spec}' has no chat template; use prompt style 'completion'",
                                  field="prompt.style")
            text = tokenizer.apply_chat_template(prompt.chat_messages(), add_generation_prompt=True, tokenize=False)
            return tokenizer(text, add_special_tokens=False)["input_ids"]
        return tokenizer(prompt.text, add_special_tokens=True)["input_ids"]

    def generate(self, requests: Sequence[GenerationRequest], on_outcome: OutcomeSink) -> None:
        if not requests:
            return
        import torch

        model, tokenizer = self._model_and_tokenizer()
        encoded = [(self.encode(r, tokenizer), r) for r in requests]
        # Batches share sampling parameters and stop strings; within them, similar lengths pad least.
        encoded.sort(key=lambda item: (repr(item[1].params), item[1].prompt.stop, -len(item[0])))
        batches: list[list[tuple[list[int], GenerationRequest]]] = []
        for item in encoded:
            last = batches[-1] if batches else None
            if (last and len(last) < self.batch_size and last[0][1].params == item[1].params
                    and last[0][1].prompt.stop == item[1].prompt.stop):
                last.append(item)
            else:
                batches.append([item])
        with torch.inference_mode():
            prefix, prefix_cache = self._shared_prefix([ids for ids, _ in encoded], model)
            for batch in batches:
                self._generate_batch(batch, model, tokenizer, prefix, prefix_cache, on_outcome)

    def _shared_prefix(self, prompts: list[list[int]], model: Any) -> tuple[list[int], Any]:
        """The prompts' common token prefix and its KV cache (``[], None`` when too short to be worth it)."""
        if not self.share_prefix or len(prompts) < 2:
            return [], None
        first = prompts[0]
        length = min(len(p) for p in prompts) - 1  # every row keeps at least one token of its own to feed
        for p in prompts[1:]:
            length = next((i for i in range(length) if p[i] != first[i]), length)
        if length < MIN_SHARED_PREFIX:
            return [], None
        import torch

        prefix = first[:length]
        return prefix, model(input_ids=torch.tensor([prefix], device=model_device(model)), use_cache=True).cache

    def _generate_batch(self, batch: list[tuple[list[int], GenerationRequest]], model: Any, tokenizer: Any,
                        prefix: list[int], prefix_cache: Any, on_outcome: OutcomeSink) -> None:
        import torch

        params = batch[0][1].params
        stop = batch[0][1].prompt.stop
        width = max(len(ids) for ids, _ in batch)
        pad = tokenizer.pad_token_id
        p = len(prefix)
        device = model_device(model)
        input_ids = torch.tensor([prefix + [pad] * (width - len(ids)) + ids[p:] for ids, _ in batch], device=device)
        attention = torch.tensor([[1] * p + [0] * (width - len(ids)) + [1] * (len(ids) - p) for ids, _ in batch],
                                 device=device)
        kwargs: dict[str, Any] = {"max_new_tokens": params.max_new_tokens, "pad_token_id": pad}
        if prefix_cache is not None:
            cache = copy.deepcopy(prefix_cache)
            cache.batch_repeat_interleave(len(batch))
            kwargs["cache"] = cache
        if params.greedy:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        else:
            kwargs.update(do_sample=True, temperature=params.temperature, top_p=params.top_p, top_k=None)
        if self.ignore_eos:
            kwargs["min_new_tokens"] = params.max_new_tokens
        elif stop:
            kwargs.update(stop_strings=list(stop), tokenizer=tokenizer)
        batch_seed = None
        if not params.greedy:
            digest = hashlib.sha256("".join(r.key for _, r in batch).encode()).hexdigest()
            batch_seed = (params.seed * 1_000_003 + int(digest[:8], 16)) % 2**31
            torch.manual_seed(batch_seed)
        start = time.perf_counter()
        output = model.generate(input_ids=input_ids, attention_mask=attention, **kwargs)
        latency = time.perf_counter() - start
        self.stats.attempts += len(batch)
        eos_ids = set(_as_list(model.generation_config.eos_token_id)) | {tokenizer.eos_token_id}
        eos_ids.discard(None)
        for row, (ids, request) in zip(output[:, width:].tolist(), batch):
            ended = next((i for i, tok in enumerate(row) if tok in eos_ids), None)
            new_tokens = row if ended is None else row[:ended]
            text = tokenizer.decode(new_tokens, skip_special_tokens=True)
            finish = "stop" if ended is not None or any(s in text for s in stop) else "length"
            on_outcome(GenerationOutcome(
                request=request, text=text, latency_s=latency, prompt_tokens=len(ids),
                completion_tokens=len(new_tokens) + (ended is not None), finish_reason=finish,
                meta={"batch_size": len(batch), "batch_seed": batch_seed}))


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]
