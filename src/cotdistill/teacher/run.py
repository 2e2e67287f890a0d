"""The teacher stage end to end: prompts -> cached generation -> parsing -> label policy -> rationale store + audit.

The SQLite cache is the source of truth: every answer is committed the moment it arrives, a rerun asks the
teacher only for what the cache lacks, and the output files are re-derived from the cache at the end of each
run. Output files that exist are never overwritten unless asked (the cache is never deleted).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from cotdistill.data.example import Example
from cotdistill.data.rationale import Rationale, write_rationales
from cotdistill.data.rationales import apply_label_policy
from cotdistill.errors import DataError
from cotdistill.files import write_json_atomic
from cotdistill.teacher.audit import build_audit, clean_completion, parse_teacher_answer
from cotdistill.teacher.backends.base import TEACHER_BACKENDS, GenerationOutcome, GenerationRequest, TeacherBackend
from cotdistill.teacher.cache import CachedGeneration, GenerationCache, generation_key
from cotdistill.teacher.config import TeachConfig, TeacherConfig
from cotdistill.teacher.prompts import PromptBuilder, TeacherPrompt, load_template

RATIONALES_FILE = "rationales.jsonl"
SAMPLES_FILE = "samples.jsonl"
AUDIT_FILE = "audit.json"
CACHE_FILE = "teacher_cache.sqlite"


class ProgressReporter(Protocol):
    """Receives the run's progress (the CLI draws it; tests may count)."""

    def start(self, total: int, done: int) -> None: ...

    def update(self, outcome: GenerationOutcome) -> None: ...

    def finish(self) -> None: ...


@dataclass
class RunStats:
    total: int = 0
    cached: int = 0
    requested: int = 0
    succeeded: int = 0
    failed: int = 0
    retries: int = 0
    retry_reasons: dict[str, int] = field(default_factory=dict)
    attempts: int = 0
    seconds: float = 0.0
    exhausted: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class TeachResult:
    output_dir: Path
    rationales_path: Path
    audit_path: Path
    samples_path: Path | None
    cache_path: Path
    rationales: list[Rationale]
    audit: dict[str, Any]
    stats: RunStats


def make_backend(cfg: TeacherConfig) -> TeacherBackend:
    return TEACHER_BACKENDS.get(cfg.backend, field="teacher.backend").from_config(cfg)


def request_seed(run_seed: int, key: str) -> int:
    return int(hashlib.sha256(f"{run_seed}\x00{key}".encode()).hexdigest()[:8], 16) % 2**31


def build_requests(examples: Sequence[Example], builder: PromptBuilder, backend: TeacherBackend,
                   cfg: TeachConfig) -> list[GenerationRequest]:
    params = cfg.sampling.params()
    identity = backend.identity()
    requests = []
    for example in examples:
        prompt = builder.build(example)
        key_params = {**params.as_dict(), "stop": list(prompt.stop)}
        for index in range(cfg.sampling.n):
            key = generation_key(identity, prompt.canonical(), key_params, index)
            requests.append(GenerationRequest(key=key, example=example, prompt=prompt, params=params,
                                              sample_index=index, seed=request_seed(params.seed, key)))
    return requests


def output_paths(cfg: TeachConfig) -> dict[str, Path]:
    out = Path(cfg.output_dir)
    return {"rationales": out / RATIONALES_FILE, "samples": out / SAMPLES_FILE, "audit": out / AUDIT_FILE,
            "cache": Path(cfg.cache) if cfg.cache else out / CACHE_FILE}


def _refuse_overwrite(paths: dict[str, Path]) -> None:
    for name in ("rationales", "samples", "audit"):
        if paths[name].exists():
            raise DataError("already exists; refusing to overwrite (pass --overwrite to re-export it: answers "
                            "come from the cache, nothing is generated twice)", path=paths[name])


def _generate_missing(requests: list[GenerationRequest], backend: TeacherBackend, cache: GenerationCache,
                      progress: ProgressReporter | None, stats: RunStats) -> None:
    done = cache.existing_keys(r.key for r in requests)
    # A question listed twice is asked once.
    missing = list({r.key: r for r in requests if r.key not in done}.values())
    stats.total, stats.cached, stats.requested = len(requests), len(requests) - len(missing), len(missing)
    if progress is not None:
        progress.start(len(requests), len(requests) - len(missing))
    provenance = backend.describe()

    def on_outcome(outcome: GenerationOutcome) -> None:
        req = outcome.request
        if outcome.ok:
            cache.put(CachedGeneration(
                key=req.key, backend=backend.name, model=str(provenance.get("model", "")),
                prompt=req.prompt.canonical(), params=req.params.as_dict(), sample_index=req.sample_index,
                text=outcome.text, finish_reason=outcome.finish_reason, prompt_tokens=outcome.prompt_tokens,
                completion_tokens=outcome.completion_tokens, latency_s=outcome.latency_s,
                attempts=outcome.attempts,
                meta={**outcome.meta, "teacher": provenance, "request_seed": req.seed}))
            stats.succeeded += 1
        else:
            cache.put_failure(req.key, outcome.error or "unknown error", outcome.attempts)
            stats.failed += 1
            stats.exhausted.append({"id": req.example.id, "sample": req.sample_index, "error": outcome.error})
        if progress is not None:
            progress.update(outcome)

    start = time.perf_counter()
    try:
        backend.generate(missing, on_outcome)
    finally:
        stats.seconds = round(time.perf_counter() - start, 3)
        stats.attempts = backend.stats.attempts
        stats.retries = backend.stats.retries
        stats.retry_reasons = dict(backend.stats.retry_reasons)
        if progress is not None:
            progress.finish()


def _record(request: GenerationRequest, gen: CachedGeneration | None, error: str | None, cfg: TeachConfig,
            template_source: str) -> tuple[Rationale | None, dict[str, Any]]:
    """The rationale of one answer (``None`` when the teacher gave none) and its audit record."""
    example = request.example
    prompt: TeacherPrompt = request.prompt
    if gen is None:
        return None, {"id": example.id, "status": "failed", "how": None, "detail": "none", "text": "",
                      "error": error, "states_answer": False, "reasoning_mentions_gold_text": False}
    text = clean_completion(gen.text, prompt.stop)
    parsed = parse_teacher_answer(text, example)
    teacher = gen.meta.get("teacher", {})
    meta = {
        "example_id": example.id, "sample_index": request.sample_index, "gold": example.answer,
        "status": parsed.status, "parse": parsed.how, "parse_detail": parsed.detail,
        "teacher": teacher, "prompt_mode": cfg.prompt.mode, "prompt_style": prompt.style,
        "template": template_source, "prompt": prompt.provenance(), "params": gen.params,
        "request_seed": gen.meta.get("request_seed"), "raw_text": gen.text, "finish_reason": gen.finish_reason,
        "latency_s": gen.latency_s, "prompt_tokens": gen.prompt_tokens, "completion_tokens": gen.completion_tokens,
        "attempts": gen.attempts, "cache_key": gen.key,
    }
    if "batch_size" in gen.meta:
        meta["batch"] = {"size": gen.meta["batch_size"], "seed": gen.meta.get("batch_seed")}
    source = f"{teacher.get('backend', gen.backend)}:{teacher.get('model', gen.model)}"
    rationale = Rationale(id=example.id, text=text, teacher_label=parsed.label, source=source, meta=meta)
    record = {"id": example.id, "status": parsed.status, "how": parsed.how, "detail": parsed.detail, "text": text,
              "completion_tokens": gen.completion_tokens, "states_answer": parsed.states_answer,
              "reasoning_mentions_gold_text": parsed.reasoning_mentions_gold_text}
    return rationale, record


def _choose(samples: list[Rationale]) -> Rationale | None:
    """The sample kept for training: the first whose label is right, else the first answered."""
    for r in samples:
        if r.meta["status"] == "correct":
            return r
    return samples[0] if samples else None


def teach(cfg: TeachConfig, *, examples: Sequence[Example] | None = None, backend: TeacherBackend | None = None,
          progress: ProgressReporter | None = None, overwrite: bool = False) -> TeachResult:
    """Generate (or take from the cache) the teacher's rationales for ``cfg.task`` and write them with an audit.

    ``examples`` replaces loading ``cfg.task``; ``backend`` replaces the one ``cfg.teacher`` describes (tests,
    models already loaded).
    """
    paths = output_paths(cfg)
    if not overwrite:
        _refuse_overwrite(paths)
    if examples is None:
        from cotdistill.data.tasks import load_task

        examples = load_task(cfg.task)
    template = load_template(cfg.task.name, cfg.prompt.template)
    builder = PromptBuilder(template, cfg.prompt.mode, cfg.prompt.style, cfg.prompt.n_shots)
    own_backend = backend is None
    backend = backend or make_backend(cfg.teacher)
    requests = build_requests(examples, builder, backend, cfg)
    stats = RunStats()
    Path(cfg.output_dir).mkdir(parents=True, exist_ok=True)
    with GenerationCache(paths["cache"]) as cache:
        try:
            _generate_missing(requests, backend, cache, progress, stats)
        finally:
            if own_backend:
                backend.close()
        failures = cache.failures(r.key for r in requests)
        samples: dict[str, list[Rationale]] = {}
        records = []
        for request in requests:
            rationale, record = _record(request, cache.get(request.key), failures.get(request.key, "not generated"),
                                        cfg, template.source)
            records.append(record)
            if rationale is not None:
                samples.setdefault(request.example.id, []).append(rationale)
    chosen = [r for ex in examples if (r := _choose(samples.get(ex.id, []))) is not None]
    kept_examples, kept = apply_label_policy(examples, {r.id: r for r in chosen}, cfg.label_policy,
                                             drop_unparsed=cfg.drop_unparsed)
    audit = build_audit(records, n_questions=len(examples))
    audit["label_policy"] = {
        "policy": cfg.label_policy, "drop_unparsed": cfg.drop_unparsed, "kept": len(kept),
        "dropped": len(chosen) - len(kept),
        "relabeled": sum(ex.answer != ex.meta.get("gold_answer", ex.answer) for ex in kept_examples)}
    audit["run"] = stats.as_dict()
    audit["config"] = cfg.model_dump(mode="json")
    audit["teacher"] = backend.describe()
    write_rationales(paths["rationales"], kept.values(), overwrite=overwrite)
    samples_path = None
    if cfg.sampling.n > 1:
        every = [Rationale(id=f"{r.id}#{r.meta['sample_index']}", text=r.text, teacher_label=r.teacher_label,
                           source=r.source, meta=r.meta) for ex in examples for r in samples.get(ex.id, [])]
        samples_path = write_rationales(paths["samples"], every, overwrite=overwrite)
    write_json_atomic(paths["audit"], audit)
    return TeachResult(output_dir=Path(cfg.output_dir), rationales_path=paths["rationales"],
                       audit_path=paths["audit"], samples_path=samples_path, cache_path=paths["cache"],
                       rationales=list(kept.values()), audit=audit, stats=stats)
