"""Score rationales with a selector (batched, cached) and hand the scores to the key-token variants."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cotdistill.data.example import Example
from cotdistill.data.rationale import Rationale
from cotdistill.distributed import computed_once
from cotdistill.errors import ConfigError, DataError
from cotdistill.keytokens.cache import ScoreCache, cache_key
from cotdistill.keytokens.scoring import Scorer
from cotdistill.keytokens.selectors import Selector, TextSelector, make_selector
from cotdistill.keytokens.words import aggregate_to_words, token_words, word_spans, words_of
from cotdistill.variants.base import Variant
from cotdistill.variants.keytoken import KEY_TOKEN_SCORES, top_k_positions


@dataclass(frozen=True)
class RationaleScores:
    """A selector's scores of one rationale: per word (what variants and the heatmap use) and per scorer token
    (empty for model-free selectors)."""

    example_id: str
    selector: str
    words: list[str]
    word_scores: list[float]
    tokens: list[str]
    token_scores: list[float]

    def top_words(self, k: int | float) -> list[str]:
        """The ``k`` best-scored words (count or fraction), in rationale order."""
        return [self.words[i] for i in top_k_positions(self.word_scores, k)]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _from_tokens(example_id: str, selector: str, string: str, offsets: Sequence[tuple[int, int]],
                 token_scores: Sequence[float]) -> RationaleScores:
    spans = word_spans(string)
    words = [string[a:b] for a, b in spans]
    word_scores = aggregate_to_words(token_scores, token_words(offsets, spans), len(spans))
    return RationaleScores(example_id, selector, words, word_scores, [string[a:b] for a, b in offsets],
                           [float(s) for s in token_scores])


def score_rationales(selector: Selector | str, examples: Sequence[Example], rationales: dict[str, Rationale], *,
                     scorer: Scorer | None = None, cache: ScoreCache | None = None,
                     progress: Callable[[int], None] | None = None) -> dict[str, RationaleScores]:
    """Scores of the rationale of every example (example id -> scores), in example order.

    Model-based selectors need ``scorer``; with ``cache``, only rationales absent from it are computed (and the
    scorer's model is not even loaded when all are there). ``progress`` is called with the number of rationales
    done after each batch.
    """
    selector = make_selector(selector) if isinstance(selector, str) else selector
    missing = [ex.id for ex in examples if ex.id not in rationales]
    if missing:
        raise DataError(f"no rationale for {len(missing)} example(s), e.g. '{missing[0]}'", field="id")
    if isinstance(selector, TextSelector):
        word_lists = [words_of(rationales[ex.id].text) for ex in examples]
        scored = selector.score_words(word_lists)
        if progress:
            progress(len(examples))
        return {ex.id: RationaleScores(ex.id, selector.name, words, scores, [], [])
                for ex, words, scores in zip(examples, word_lists, scored, strict=True)}
    if scorer is None:
        raise ConfigError(f"selector '{selector.name}' needs a scorer model", field="scorer")

    keys = {ex.id: cache_key(selector.name, selector.settings(), scorer.identity(),
                             scorer.case_text(ex, rationales[ex.id])) for ex in examples}
    found = cache.get_many(keys.values()) if cache is not None and selector.cacheable else {}
    out: dict[str, RationaleScores] = {ex.id: RationaleScores(**found[keys[ex.id]]) for ex in examples
                                       if keys[ex.id] in found}
    if progress and out:
        progress(len(out))
    todo = [ex for ex in examples if ex.id not in out]
    if todo:
        inputs = [scorer.prepare(ex, rationales[ex.id]) for ex in todo]
        # Rationales of similar length share a batch, so little of each forward pass is padding.
        inputs.sort(key=lambda inp: inp.n_tokens)
        step = selector.inputs_per_batch(scorer, len(inputs[0].rows))
        for start in range(0, len(inputs), step):
            batch = inputs[start:start + step]
            token_scores = selector.score(scorer, batch)
            done = [_from_tokens(inp.example_id, selector.name, inp.string, inp.offsets, scores)
                    for inp, scores in zip(batch, token_scores, strict=True)]
            if cache is not None and selector.cacheable:
                cache.put_many((keys[s.example_id], selector.name, scorer.scorer_id, s.example_id, s.to_dict())
                               for s in done)
            out.update((s.example_id, s) for s in done)
            if progress:
                progress(len(done))
    return {ex.id: out[ex.id] for ex in examples}


def variant_selector(variant: Variant, *, field_prefix: str = "variant.params") -> Selector | None:
    """The selector a key-token variant names, built from its parameters (``None`` for a variant that uses no
    scores); an unknown selector, bad selector parameters or a model-based selector without a ``scorer`` fail
    naming the config key under ``field_prefix``."""
    if not getattr(variant, "uses_scores", False):
        return None
    selector = make_selector(variant.selector, variant.selector_params, field_prefix=field_prefix)
    if selector.needs_model and not variant.scorer:
        raise ConfigError(f"selector '{variant.selector}' needs a scorer model (params.scorer)",
                          field=f"{field_prefix}.scorer")
    return selector


def prepare_key_token_extras(variant: Variant, examples: Sequence[Example], rationales: dict[str, Rationale],
                             tokenizer: Any, cache_dir: str | Path, *, device: Any = "auto") -> dict[str, Any]:
    """The ``extras`` that :func:`cotdistill.variants.build_instances` needs for ``variant``.

    For the selector-based key-token variants: scores of every example's rationale by the variant's selector and
    scorer (read from / added to the cache in ``cache_dir``), aggregated to words and spread over the *student's*
    rationale tokens (``tokenizer``). Every other variant (``random_k_tokens_after_label`` included) needs none:
    returns ``{}``. Examples without a rationale are skipped (``build_instances`` reports them). ``device`` (a
    device setting or a ``torch.device``) is where the scorer runs.
    """
    selector = variant_selector(variant)
    if selector is None:
        return {}
    from cotdistill.keytokens.words import student_token_scores

    scored = [ex for ex in examples if ex.id in rationales]

    def word_scores() -> dict[str, list[float]]:
        scorer = (Scorer.from_spec(variant.scorer, order=variant.order, device=device) if selector.needs_model
                  else None)
        scores = score_rationales(selector, scored, rationales, scorer=scorer, cache=ScoreCache(cache_dir))
        return {eid: s.word_scores for eid, s in scores.items()}

    # Under torchrun every rank trains on the same instances: rank 0 scores (or reads the cache) for all.
    scores = computed_once(word_scores)
    return {KEY_TOKEN_SCORES: {eid: student_token_scores(rationales[eid].text, words, tokenizer)
                               for eid, words in scores.items()}}



def write_key_token_report(examples: Sequence[Example], rationales: dict[str, Rationale],
                           selectors: Sequence[Selector], *, scorer: Scorer | None, k: int | float,
                           output_dir: str | Path, cache_dir: str | Path | None = None, overwrite: bool = False,
                           progress: Callable[[int], None] | None = None) -> tuple[Path, Path]:
    """Score every example's rationale with each selector and write, in ``output_dir``, ``scores.jsonl`` (one
    line per example and selector: words, word scores, the top-``k`` words) and ``heatmap.html`` (selectors side
    by side). Returns both paths."""
    import json

    from cotdistill.keytokens.analysis import render_heatmap

    output_dir = Path(output_dir)
    scores_path, html_path = output_dir / "scores.jsonl", output_dir / "heatmap.html"
    for path in (scores_path, html_path):
        if path.exists() and not overwrite:
            raise ConfigError("already exists; refusing to overwrite (choose another --output or pass --overwrite)",
                              field=str(path))
    cache = ScoreCache(cache_dir) if cache_dir is not None else None
    examples = [ex for ex in examples if ex.id in rationales]
    if not examples:
        raise DataError("no example has a rationale (do the ids of the task and the rationales match?)", field="id")
    by_selector = {sel.name: score_rationales(sel, examples, rationales, scorer=scorer, cache=cache,
                                              progress=progress) for sel in selectors}
    output_dir.mkdir(parents=True, exist_ok=True)
    with scores_path.open("w") as fh:
        for ex in examples:
            for name, scores in by_selector.items():
                s = scores[ex.id]
                fh.write(json.dumps({"id": ex.id, "selector": name, "k": k, "key_words": s.top_words(k),
                                     "words": s.words, "word_scores": s.word_scores}, ensure_ascii=False) + "\n")
    title = f"Key-token scores ({scorer.scorer_id}, {scorer.order})" if scorer is not None else "Key-token scores"
    html_path.write_text(render_heatmap(examples, by_selector, title=title))
    return scores_path, html_path
