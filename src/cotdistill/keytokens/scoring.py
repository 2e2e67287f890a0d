"""The scorer: a causal LM that reads (question, rationale, label) and says how much the rationale supports the label.

Two orders of reading:

* ``rationale_first`` -- ``prompt, rationale, "\\nSo the answer is", gold label`` (the ``cot_before_label``
  layout). The objective is the gold label's log-probability.
* ``label_first`` -- ``prompt, label, "\\nExplanation:", rationale`` (the ``cot_after_label`` layout), one
  sequence per choice. A causal model's label cannot depend on what follows it, so the objective is the gold
  label's posterior given the rationale by Bayes' rule over the choices:
  ``log p(gold | prompt, R) = s_gold - logsumexp_c s_c`` with ``s_c = log p(label_c | prompt) + log p(R | prompt,
  label_c)``.

Selectors perturb the rationale (drop tokens, scale its embeddings) and watch the objective. Every sequence is
padded on the right, so positions are those of unpadded text, and the rationale never starts a sequence (the
prompt comes first): BOS-less tokenizers (SmolLM2, GPT-2) need no special handling of position 0, and
embedding-space baselines are zero vectors rather than a BOS or pad embedding.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from cotdistill.configbase import config_hash
from cotdistill.data.example import Example
from cotdistill.data.rationale import Rationale
from cotdistill.errors import ConfigError, DataError
from cotdistill.models import load_student, load_trained_student, read_metadata, recorded_prompt_format
from cotdistill.models.device import as_device, model_device, place_model
from cotdistill.prompting import (
    ANSWER_MARKER,
    RATIONALE_MARKER,
    PromptFormat,
    encode_continuation_with_offsets,
    label_ids,
    marker_ids,
    prompt_ids,
    rationale_string,
)

Order = Literal["rationale_first", "label_first"]


@dataclass(frozen=True)
class RowTemplate:
    """One sequence the scorer reads: ``prefix + rationale tokens + suffix``; ``*_target`` marks the tokens whose
    log-probabilities make the row's score (``rationale_is_target`` for every rationale token)."""

    prefix: tuple[int, ...]
    prefix_target: tuple[bool, ...]
    suffix: tuple[int, ...]
    suffix_target: tuple[bool, ...]
    rationale_is_target: bool


@dataclass(frozen=True)
class ScoringInput:
    """One rationale, ready to score: its scorer tokens (with character offsets into ``string``) and rows.

    ``gold_row`` is ``None`` when the objective is the single row's score, else the row whose posterior over
    all rows is the objective.
    """

    example_id: str
    string: str
    token_ids: tuple[int, ...]
    offsets: tuple[tuple[int, int], ...]
    rows: tuple[RowTemplate, ...]
    gold_row: int | None

    @property
    def n_tokens(self) -> int:
        return len(self.token_ids)


@dataclass
class Packed:
    """A right-padded batch of rows, plus where each kept rationale token sits (for splicing embeddings)."""

    ids: Any  # (R, L) long
    mask: Any  # (R, L) long
    target: Any  # (R, L) bool
    row_variant: list[int]
    variant_rows: list[list[int]]
    gold_rows: list[int | None]  # per variant: absolute row index of the gold row, or None
    splice_row: Any  # (N,) long -- row of each kept rationale token
    splice_pos: Any  # (N,) long -- its position in the row
    splice_variant: Any  # (N,) long -- its variant
    splice_token: Any  # (N,) long -- its index in the input's rationale


class Scorer:
    """A model + tokenizer and how they read rationales; loads the model only when something must be computed.

    ``scorer_id`` identifies the model in the score cache; ``batch_size`` is the number of sequences per
    forward pass; ``device`` (a device setting or a ``torch.device``) is where the model is moved, once, and where
    every batch is built.
    """

    def __init__(self, model: Any = None, tokenizer: Any = None, *, scorer_id: str, order: Order = "rationale_first",
                 prompt_format: PromptFormat | None = None, batch_size: int = 16,
                 loader: Callable[[], tuple[Any, Any]] | None = None, device: Any = "auto"):
        if order not in ("rationale_first", "label_first"):
            raise ConfigError(f"order must be 'rationale_first' or 'label_first', got {order!r}", field="order")
        if (model is None) != (tokenizer is None) or (model is None and loader is None):
            raise ValueError("give a model and its tokenizer, or a loader")
        self.scorer_id = scorer_id
        self.order = order
        self.prompt_format = prompt_format or PromptFormat()
        self.batch_size = max(1, batch_size)
        self.device = as_device(device, field="scorer.device")
        self._loader = loader
        self._model = None
        self._tokenizer = tokenizer
        if model is not None:
            self._set_model(model)

    @classmethod
    def from_spec(cls, spec: Any, *, order: Order = "rationale_first", batch_size: int = 16,
                  device: Any = "auto") -> Scorer:
        """A scorer from a student spec: a trained-student directory (its prompt format is used) or anything
        :func:`cotdistill.models.load_student` accepts (alias, hub id, model directory, ``StudentConfig``), loaded
        onto ``device`` (a device setting or a ``torch.device``)."""
        device = as_device(device, field="scorer.device")
        if not isinstance(spec, str):
            def load_config():
                return load_student(spec, device=device)

            return cls(scorer_id=f"{spec.model}@{spec.dtype}", order=order, batch_size=batch_size, loader=load_config,
                       device=device)
        metadata = read_metadata(Path(spec).expanduser())
        if metadata is not None:
            prompt_format = PromptFormat(**recorded_prompt_format(metadata))
            scorer_id = f"{Path(spec).expanduser().resolve()}#{config_hash(metadata)}"

            def load_trained():
                model, tokenizer, _ = load_trained_student(spec, device=device)
                return model, tokenizer

            return cls(scorer_id=scorer_id, order=order, prompt_format=prompt_format, batch_size=batch_size,
                       loader=load_trained, device=device)

        def load_base():
            return load_student(spec, device=device)

        return cls(scorer_id=spec, order=order, batch_size=batch_size, loader=load_base, device=device)

    def _set_model(self, model: Any) -> None:
        model = place_model(model, self.device)
        model.eval()
        # Attributions need gradients with respect to inputs only.
        model.requires_grad_(False)
        self._model = model

    @property
    def model(self) -> Any:
        if self._model is None:
            model, tokenizer = self._loader()
            self._tokenizer = tokenizer
            self._set_model(model)
        return self._model

    @property
    def tokenizer(self) -> Any:
        if self._tokenizer is None:
            _ = self.model
        return self._tokenizer

    def identity(self) -> dict[str, Any]:
        """What the scores depend on besides the selector and the text (keys the cache)."""
        return {"scorer": self.scorer_id, "order": self.order, "prompt_format": asdict(self.prompt_format)}

    # -- inputs ------------------------------------------------------------------------------------------------

    def case_text(self, example: Example, rationale: Rationale) -> str:
        """Everything textual the score of this rationale depends on."""
        if example.answer is None:
            raise DataError(f"example '{example.id}' has no gold label; its rationale cannot be scored",
                            field="answer")
        labels = {c: self.prompt_format.label_text(example, c) for c in example.choices}
        return json.dumps([self.prompt_format.prompt(example), example.answer, labels,
                           rationale_string(rationale.text)], ensure_ascii=False)

    def prepare(self, example: Example, rationale: Rationale) -> ScoringInput:
        self.case_text(example, rationale)  # validates the gold label
        tok, fmt = self.tokenizer, self.prompt_format
        # Encoded piece by piece as the variants encode the training sequences (cotdistill.prompting).
        prompt = prompt_ids(tok, fmt, example)
        string = rationale_string(rationale.text)
        ids, offsets = encode_continuation_with_offsets(tok, string)
        if self.order == "rationale_first":
            marker = marker_ids(tok, ANSWER_MARKER)
            label = label_ids(tok, fmt, example)
            rows = (RowTemplate(prompt, (False,) * len(prompt), marker + label,
                                (False,) * len(marker) + (True,) * len(label), False),)
            gold_row = None
        else:
            marker = marker_ids(tok, RATIONALE_MARKER)
            rows_list = []
            for choice in example.choices:
                label = label_ids(tok, fmt, example, choice)
                # The marker's probability is ~1 and label-independent in a trained student: not a target.
                rows_list.append(RowTemplate(prompt + label + marker,
                                             (False,) * len(prompt) + (True,) * len(label) + (False,) * len(marker),
                                             (), (), True))
            rows = tuple(rows_list)
            gold_row = list(example.choices).index(example.answer)
        return ScoringInput(example.id, string, ids, offsets, rows, gold_row)

    # -- batched evaluation -----------------------------------------------------------------------------------

    def pack(self, variants: Sequence[tuple[ScoringInput, Sequence[int] | None]]) -> Packed:
        """Rows of each (input, kept rationale positions) pair; ``None`` keeps the whole rationale."""
        import torch

        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        rows_ids, rows_target, row_variant, variant_rows, gold_rows = [], [], [], [], []
        splice: list[tuple[int, int, int, int]] = []
        for v, (inp, keep) in enumerate(variants):
            keep = range(inp.n_tokens) if keep is None else keep
            kept_ids = [inp.token_ids[i] for i in keep]
            first_row = len(rows_ids)
            for row in inp.rows:
                r = len(rows_ids)
                rows_ids.append(list(row.prefix) + kept_ids + list(row.suffix))
                rows_target.append(list(row.prefix_target) + [row.rationale_is_target] * len(kept_ids)
                                   + list(row.suffix_target))
                row_variant.append(v)
                splice.extend((r, len(row.prefix) + j, v, i) for j, i in enumerate(keep))
            variant_rows.append(list(range(first_row, len(rows_ids))))
            gold_rows.append(None if inp.gold_row is None else first_row + inp.gold_row)
        length = max(len(r) for r in rows_ids)
        ids = torch.full((len(rows_ids), length), pad, dtype=torch.long)
        mask = torch.zeros((len(rows_ids), length), dtype=torch.long)
        target = torch.zeros((len(rows_ids), length), dtype=torch.bool)
        for r, (row, tgt) in enumerate(zip(rows_ids, rows_target, strict=True)):
            ids[r, : len(row)] = torch.tensor(row)
            mask[r, : len(row)] = 1
            target[r, : len(row)] = torch.tensor(tgt)
        cols = list(zip(*splice, strict=True)) if splice else [(), (), (), ()]
        device = model_device(self.model)
        # Filled row by row on the CPU, then moved to the model's device once per batch.
        as_long = [torch.tensor(c, dtype=torch.long, device=device) for c in cols]
        return Packed(ids.to(device), mask.to(device), target.to(device), row_variant, variant_rows, gold_rows,
                      *as_long)

    def _head_logprobs(self, hidden: Any, packed: Packed) -> Any:
        """Per row: the sum of the log-probabilities of its target tokens."""
        import torch

        rows, positions = packed.target[:, 1:].nonzero(as_tuple=True)
        # Only the positions that predict a target go through the (vocabulary-sized) output head.
        logits = self.model.get_output_embeddings()(hidden[rows, positions]).float()
        cap = getattr(self.model.config, "final_logit_softcapping", None)
        if cap:
            logits = torch.tanh(logits / cap) * cap
        token_lp = logits.log_softmax(-1).gather(1, packed.ids[rows, positions + 1].unsqueeze(1)).squeeze(1)
        per_row = torch.zeros(packed.ids.shape[0], dtype=token_lp.dtype, device=token_lp.device)
        return per_row.index_add(0, rows, token_lp)

    def _objectives(self, row_scores: Any, packed: Packed) -> Any:
        import torch

        out = []
        for rows, gold in zip(packed.variant_rows, packed.gold_rows, strict=True):
            if gold is None:
                out.append(row_scores[rows[0]])
            else:
                out.append(row_scores[gold] - torch.logsumexp(row_scores[rows], 0))
        return torch.stack(out)

    def objective(self, variants: Sequence[tuple[ScoringInput, Sequence[int] | None]]) -> list[float]:
        """The objective (see module doc) of each (input, kept positions) pair, without gradients."""
        import torch

        out: list[float] = []
        chunk: list[tuple[ScoringInput, Sequence[int] | None]] = []
        rows = 0
        with torch.no_grad():
            for item in [*variants, None]:
                if item is not None and (not chunk or rows + len(item[0].rows) <= self.batch_size):
                    chunk.append(item)
                    rows += len(item[0].rows)
                    continue
                if chunk:
                    packed = self.pack(chunk)
                    hidden = self.model.base_model(input_ids=packed.ids, attention_mask=packed.mask).last_hidden_state
                    out.extend(self._objectives(self._head_logprobs(hidden, packed), packed).tolist())
                chunk, rows = ([item], len(item[0].rows)) if item is not None else ([], 0)
        return out

    def rationale_embeddings(self, inputs: Sequence[ScoringInput]) -> Any:
        """(batch, longest rationale, hidden) fp32 input embeddings of each rationale's tokens, zero-padded."""
        import torch

        embed = self.model.get_input_embeddings()
        longest = max(inp.n_tokens for inp in inputs)
        device = embed.weight.device
        out = torch.zeros(len(inputs), longest, embed.weight.shape[1], device=device)
        with torch.no_grad():
            for b, inp in enumerate(inputs):
                if inp.n_tokens:
                    out[b, : inp.n_tokens] = embed(torch.tensor(inp.token_ids, device=device)).float()
        return out

    def objective_of_embeddings(self, inputs: Sequence[ScoringInput], rationale_embeds: Any) -> Any:
        """Differentiable objective with the rationale's token embeddings replaced by ``rationale_embeds``.

        ``rationale_embeds`` is ``(m * len(inputs), longest, hidden)``: ``m`` stacked copies of the batch, as
        captum passes scaled inputs (integrated gradients) -- returns ``m * len(inputs)`` objectives.
        """
        import torch

        packed = self.pack([(inp, None) for inp in inputs])
        copies = rationale_embeds.shape[0] // len(inputs)
        n_rows = packed.ids.shape[0]
        embed = self.model.get_input_embeddings()
        dtype = embed.weight.dtype
        base = embed(packed.ids).detach().repeat(copies, 1, 1)
        copy_index = torch.arange(copies, device=packed.ids.device).repeat_interleave(len(packed.splice_row))
        offsets_rows = copy_index * n_rows
        offsets_vars = copy_index * len(inputs)
        rows = packed.splice_row.repeat(copies) + offsets_rows
        sources = packed.splice_variant.repeat(copies) + offsets_vars
        values = rationale_embeds[sources, packed.splice_token.repeat(copies)]
        embeds = base.index_put((rows, packed.splice_pos.repeat(copies)), values.to(dtype))
        tiled = Packed(packed.ids.repeat(copies, 1), packed.mask.repeat(copies, 1), packed.target.repeat(copies, 1),
                       [], [], [], packed.splice_row, packed.splice_pos, packed.splice_variant, packed.splice_token)
        for c in range(copies):
            tiled.variant_rows.extend([[r + c * n_rows for r in rs] for rs in packed.variant_rows])
            tiled.gold_rows.extend([None if g is None else g + c * n_rows for g in packed.gold_rows])
        hidden = self.model.base_model(inputs_embeds=embeds, attention_mask=tiled.mask).last_hidden_state
        return self._objectives(self._head_logprobs(hidden, tiled), tiled)

    def attentions(self, inputs: Sequence[ScoringInput]) -> tuple[Any, Packed]:
        """Attention weights averaged over layers and heads, (rows, L, L), and the packed rows."""
        import torch

        model = self.model
        previous = model.config._attn_implementation
        # Fused attention kernels do not return their weights.
        model.set_attn_implementation("eager")
        try:
            packed = self.pack([(inp, None) for inp in inputs])
            with torch.no_grad():
                out = model.base_model(input_ids=packed.ids, attention_mask=packed.mask, output_attentions=True)
            weights = torch.stack([a.float().mean(1) for a in out.attentions]).mean(0)
        finally:
            model.set_attn_implementation(previous)
        return weights, packed
