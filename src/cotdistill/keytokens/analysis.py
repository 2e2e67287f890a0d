"""Looking inside students and selectors: the logit lens, and rationale heatmaps of selector scores.

Logit lens (nostalgebraist, 2020): the hidden state after every layer, put through the model's final norm and
output head, read as a next-token distribution. At the answer position (the last prompt token) it shows at which
depth the gold label's first token becomes likely -- to compare how training variants make the label emerge.
Layer 0 is the embedding output; the last layer's reading is the model's own output distribution.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cotdistill.data.example import Example
from cotdistill.errors import CotDistillError, DataError
from cotdistill.models import load_trained_student, recorded_prompt_format
from cotdistill.models.device import model_device, resolve_device
from cotdistill.prompting import PromptFormat, encode_prompt, label_ids
from cotdistill.variants.base import Variant


@dataclass(frozen=True)
class LogitLensResult:
    """Per layer (0 = embeddings), averaged over ``n`` examples: the gold label's first-token probability and its
    rank (1 = top) at the answer position."""

    name: str
    n: int
    mean_prob: list[float]
    mean_rank: list[float]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _decoder_parts(model: Any) -> tuple[Any, Any, Any]:
    base = model.base_model
    layers, norm = getattr(base, "layers", None), getattr(base, "norm", None)
    if layers is None or norm is None:
        raise CotDistillError(f"the logit lens needs a decoder with .layers and .norm; {type(base).__name__} has "
                              "not", field="student")
    return base.get_input_embeddings(), layers, norm


def logit_lens(model: Any, tokenizer: Any, examples: Sequence[Example], *, variant: Variant,
               prompt_format: PromptFormat, name: str = "", batch_size: int = 8) -> LogitLensResult:
    """The logit lens of ``model`` at the answer position of each labelled example's evaluation prompt."""
    import torch

    labelled = [ex for ex in examples if ex.answer is not None]
    if not labelled:
        raise DataError("the logit lens needs labelled examples; none has a gold label", field="answer")
    embeddings, layers, norm = _decoder_parts(model)
    head = model.get_output_embeddings()
    cap = getattr(model.config, "final_logit_softcapping", None)
    captured: list[Any] = []

    def keep(_module, _inputs, output):
        captured.append(output[0] if isinstance(output, tuple) else output)

    hooks = [embeddings.register_forward_hook(keep)] + [layer.register_forward_hook(keep) for layer in layers]
    device = model_device(model)
    prob_sum = torch.zeros(len(layers) + 1, dtype=torch.float64, device=device)
    rank_sum = torch.zeros(len(layers) + 1, dtype=torch.float64, device=device)
    model.eval()
    try:
        for start in range(0, len(labelled), batch_size):
            batch = labelled[start:start + batch_size]
            prompts = [list(encode_prompt(tokenizer, variant.eval_prompt(ex, prompt_format))) for ex in batch]
            gold = torch.tensor([label_ids(tokenizer, prompt_format, ex)[0] for ex in batch], device=device)
            length = max(len(p) for p in prompts)
            pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
            # Right padding: the answer position is each prompt's own last token.
            ids = torch.tensor([p + [pad] * (length - len(p)) for p in prompts], device=device)
            mask = torch.tensor([[1] * len(p) + [0] * (length - len(p)) for p in prompts], device=device)
            last = torch.tensor([len(p) - 1 for p in prompts], device=device)
            captured.clear()
            with torch.no_grad():
                model(input_ids=ids, attention_mask=mask)
                rows = torch.arange(len(batch), device=device)
                for depth, hidden in enumerate(captured):
                    state = hidden[rows, last]
                            # The model norms its last layer's output before the head; the lens norms every layer's.
                    logits = head(norm(state)).float()
                    if cap:
                        logits = torch.tanh(logits / cap) * cap
                    probs = logits.softmax(-1)
                    gold_prob = probs[rows, gold]
                    prob_sum[depth] += gold_prob.sum().double()
                    rank_sum[depth] += ((probs > gold_prob[:, None]).sum(-1) + 1).sum().double()
    finally:
        for hook in hooks:
            hook.remove()
    n = len(labelled)
    return LogitLensResult(name or variant.name, n, (prob_sum / n).tolist(), (rank_sum / n).tolist())


def logit_lens_of_student(path: str | Path, examples: Sequence[Example], *, name: str | None = None,
                          batch_size: int = 8, device: str = "auto") -> LogitLensResult:
    """The logit lens of a trained student directory, reading its variant and prompt format from its metadata;
    the student runs on ``device`` (a device setting)."""
    from cotdistill.variants.base import make_variant

    model, tokenizer, metadata = load_trained_student(path, device=resolve_device(device, field="device"))
    variant_meta = metadata.get("variant") or {}
    variant = make_variant(variant_meta.get("name", "label_only"), variant_meta.get("params"))
    prompt_format = PromptFormat(**recorded_prompt_format(metadata))
    return logit_lens(model, tokenizer, examples, variant=variant, prompt_format=prompt_format,
                      name=name or variant.name, batch_size=batch_size)


def plot_logit_lens(results: Sequence[LogitLensResult], path: str | Path, *, title: str = "") -> Path:
    """One figure, two panels (gold-label probability; mean rank, log scale) against layer, one line per student."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_prob, ax_rank) = plt.subplots(1, 2, figsize=(11, 4))
    for result in results:
        layers = range(len(result.mean_prob))
        ax_prob.plot(layers, result.mean_prob, marker="o", markersize=3, label=f"{result.name} (n={result.n})")
        ax_rank.plot(layers, result.mean_rank, marker="o", markersize=3, label=result.name)
    ax_prob.set(xlabel="layer (0 = embeddings)", ylabel="p(gold label) at answer position")
    ax_rank.set(xlabel="layer (0 = embeddings)", ylabel="rank of gold label (1 = top)", yscale="log")
    ax_prob.legend(fontsize="small")
    for ax in (ax_prob, ax_rank):
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def write_logit_lens(results: Sequence[LogitLensResult], out_dir: str | Path, *, title: str = "",
                     overwrite: bool = False) -> tuple[Path, Path]:
    """``logit_lens.png`` and ``logit_lens.json`` (the numbers plotted) in ``out_dir``."""
    out_dir = Path(out_dir)
    figure, numbers = out_dir / "logit_lens.png", out_dir / "logit_lens.json"
    for path in (figure, numbers):
        if path.exists() and not overwrite:
            raise CotDistillError("already exists; refusing to overwrite (choose another --output)", path=path)
    out_dir.mkdir(parents=True, exist_ok=True)
    numbers.write_text(json.dumps([r.to_dict() for r in results], indent=1))
    return plot_logit_lens(results, figure, title=title), numbers


# -- heatmaps ---------------------------------------------------------------------------------------------------

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; }
.case { border-top: 1px solid #ccc; padding: .8em 0; }
.question { font-weight: 600; }
.grid { display: grid; gap: .8em; margin-top: .5em; }
.selector { font-size: .8em; color: #555; margin-bottom: .2em; }
.w { padding: 1px 2px; border-radius: 3px; line-height: 1.9; }
"""


def _cell(word: str, score: float, scale: float) -> str:
    # Red for support of the gold label, blue against; opacity by |score| relative to the rationale's largest.
    strength = min(1.0, abs(score) / scale) if scale > 0 else 0.0
    color = "220,40,40" if score >= 0 else "40,90,220"
    return (f'<span class="w" style="background: rgba({color},{strength:.3f})" title="{score:.4g}">'
            f"{html.escape(word)}</span>")


def render_heatmap(examples: Sequence[Example], scores: dict[str, dict[str, Any]], *, title: str = "") -> str:
    """An HTML page: per example, its question and gold answer, then its rationale once per selector (side by
    side), each word shaded by its score. ``scores`` maps selector name -> example id ->
    :class:`~cotdistill.keytokens.api.RationaleScores`."""
    selectors = list(scores)
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title or 'key tokens')}</title>",
             f"<style>{_STYLE}</style></head><body><h1>{html.escape(title or 'Key-token scores')}</h1>",
             "<p>Each word is shaded by its selector's score, scaled per rationale: red supports the gold label, "
             "blue opposes it. Hover for the value.</p>"]
    for ex in examples:
        gold = f"{ex.answer}: {ex.answer_text}" if ex.answer is not None else "-"
        parts.append(f"<div class='case'><div class='question'>{html.escape(ex.id)} &mdash; "
                     f"{html.escape(ex.question)}</div><div>gold: {html.escape(gold)}</div>"
                     f"<div class='grid' style='grid-template-columns: repeat({len(selectors)}, 1fr)'>")
        for selector in selectors:
            result = scores[selector].get(ex.id)
            parts.append(f"<div><div class='selector'>{html.escape(selector)}</div>")
            if result is not None:
                scale = max((abs(s) for s in result.word_scores), default=0.0)
                parts.append(" ".join(_cell(w, s, scale) for w, s in zip(result.words, result.word_scores,
                                                                         strict=True)))
            parts.append("</div>")
        parts.append("</div></div>")
    parts.append("</body></html>")
    return "".join(parts)
