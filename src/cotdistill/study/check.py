"""``cotdistill study CONFIG --check``: everything a study needs, checked before any GPU time is spent.

It validates the config (as every study run does), then resolves each piece the grid will touch -- every task
source (a local file is loaded; a hub dataset is looked up, or reported "offline, not checked"), every
student's config and tokenizer, the teacher endpoint -- counts the cells and estimates the compute and disk of the
grid from the students' sizes (parameters counted on the meta device: no weights are loaded) and the token counts
of the training instances. It trains and evaluates nothing and writes nothing.

The GPU-time estimate is a model, not a measurement: training FLOPs are 6 x parameters x target-bearing tokens
(every non-padding token of an instance goes through the forward and backward pass), evaluation FLOPs 2 x
parameters x tokens read, both at :data:`GPU_FLOPS` -- 27% of the H200's measured 797 TFLOP/s bf16 peak, the MFU
``train_student`` reached with a 1.1B-parameter student (docs/benchmarks.md, "GPU check") -- and never below
:data:`STEP_SECONDS` per optimizer step, the floor measured for small students at batch 8 on the same card, where
each step is bound by the host, not the GPU. Generation adds :data:`DECODE_STEP_SECONDS` per generated token and
batch (assumed, not measured). Smaller students and smaller batches run further from the model's rate.
"""

from __future__ import annotations

import math
import os
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cotdistill.errors import CotDistillError
from cotdistill.study.config import StudyConfig, StudyTaskConfig
from cotdistill.study.grid import expand_grid, untrained_cells
from cotdistill.study.taskdata import load_task_data
from cotdistill.models.config import StudentConfig
from cotdistill.train.model_card import dataset_ids

#: Sustained training / evaluation rate assumed for the GPU-hour estimate (FLOP/s): see the module docstring.
GPU_FLOPS = 0.27 * 797e12
#: Floor per optimizer step (s): SmolLM2-135M / Gemma-3-270M shapes at batch 8 on an H200 took 0.184 / 0.187 s.
STEP_SECONDS = 0.184
#: Assumed cost of one generation step of one batch (s); not measured.
DECODE_STEP_SECONDS = 0.02
OK, OFFLINE, ERROR, WARNING = "ok", "offline, not checked", "error", "warning"
_BYTES = {"fp32": 4, "bf16": 2, "float32": 4, "bfloat16": 2, "float16": 2}


@dataclass
class Finding:
    """One thing checked: what it is, its status (ok, offline / not checked, warning, error) and a detail line."""

    what: str
    status: str
    detail: str = ""


@dataclass
class SliceEstimate:
    """The estimated cost of one task x student slice of the grid."""

    task: str
    student: str
    cells: int
    parameters: int | None
    gpu_seconds: float | None
    weight_bytes: int | None
    notes: list[str] = field(default_factory=list)


@dataclass
class StudyCheck:
    findings: list[Finding]
    cells: int
    trained_cells: int
    slices: list[SliceEstimate]

    @property
    def ok(self) -> bool:
        return not any(f.status == ERROR for f in self.findings)

    def lines(self) -> list[str]:
        out = [f"[{f.status}] {f.what}" + (f": {f.detail}" if f.detail else "") for f in self.findings]
        out.append(f"cells: {self.cells} ({self.trained_cells} trained, {self.cells - self.trained_cells} "
                   f"evaluated untrained)")
        known = [s for s in self.slices if s.gpu_seconds is not None]
        for s in self.slices:
            size = f"{s.parameters / 1e6:.0f}M parameters" if s.parameters else "size unknown"
            cost = (f"~{s.gpu_seconds / 3600:.2f} GPU-hours, {_gib(s.weight_bytes)} of weights if kept"
                    if s.gpu_seconds is not None else "no estimate")
            out.append(f"  {s.task} / {s.student}: {s.cells} cells, {size}: {cost}"
                       + (f" ({'; '.join(s.notes)})" if s.notes else ""))
        if known:
            hours = sum(s.gpu_seconds for s in known) / 3600
            disk = sum(s.weight_bytes or 0 for s in known)
            biggest = max((s.weight_bytes or 0) / max(s.cells, 1) for s in known)
            out.append(f"estimate: ~{hours:.1f} GPU-hours (at {GPU_FLOPS / 1e12:.0f} TFLOP/s sustained, "
                       f">= {STEP_SECONDS} s per step; see `cotdistill.study.check`); disk ~{_gib(disk)} with "
                       f"every trained student kept, ~{_gib(3 * biggest)} with --drop-weights (one cell's weights "
                       f"and optimizer checkpoint at a time)"
                       + ("" if len(known) == len(self.slices) else "; slices without a size are not counted"))
        return out


def _gib(n: float | None) -> str:
    return "?" if n is None else f"{n / 2**30:.1f} GiB"


def _hub_offline() -> bool:
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def hub_finding(kind: str, repo_id: str, what: str) -> Finding:
    """Whether a hub repository (``kind`` 'model' or 'dataset') can be reached with the credentials at hand."""
    if _hub_offline():
        return Finding(what, OFFLINE, f"hub {kind} {repo_id} (HF_HUB_OFFLINE is set)")
    from huggingface_hub import HfApi
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    try:
        HfApi().repo_info(repo_id, repo_type=kind, timeout=10)
    except GatedRepoError:
        return Finding(what, ERROR, f"hub {kind} {repo_id} is gated: accept its licence and set HF_TOKEN")
    except RepositoryNotFoundError:
        return Finding(what, ERROR, f"hub {kind} {repo_id} not found (or private: set HF_TOKEN)")
    except Exception as err:  # noqa: BLE001 -- no network, proxy, DNS: the check cannot tell, so it says so
        return Finding(what, OFFLINE, f"hub {kind} {repo_id} ({type(err).__name__})")
    return Finding(what, OK, f"hub {kind} {repo_id}")


def _task_source_findings(task: StudyTaskConfig, index: int) -> list[Finding]:
    findings = []
    for part in ("train", "eval"):
        cfg = getattr(task, part)
        if cfg.path is None:
            what = f"tasks[{index}].{part} ({task.name})"
            ids = dataset_ids(cfg.model_dump())
            if ids:  # a task without a path and without a hub dataset is built in (e.g. synthetic)
                findings.append(hub_finding("dataset", ids[0], what))
    return findings


def teacher_finding(task: StudyTaskConfig, index: int) -> Finding | None:
    """A configured teacher's endpoint answers /models (openai backend); a local teacher is a model to resolve."""
    if task.teacher is None:
        return None
    teacher = task.teacher.teacher
    what = f"tasks[{index}].teacher ({task.name})"
    if teacher.backend != "openai":
        return Finding(what, OK, f"{teacher.backend} backend, model {teacher.model} (loaded when the study starts)")
    url = teacher.base_url.rstrip("/") + "/models"
    request = urllib.request.Request(url)
    key = os.environ.get(teacher.api_key_env or "", "")
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 -- the user's own endpoint
            return Finding(what, OK, f"{url} answered {response.status}")
    except (urllib.error.URLError, OSError) as err:
        return Finding(what, WARNING, f"{url} did not answer ({getattr(err, 'reason', err)}); start the teacher "
                                      "server before the study's teacher phase")


def _student_size(cfg: StudentConfig) -> tuple[int | None, int, Finding]:
    """(parameters, bytes per saved weight, finding): the model built on the meta device, no weights read."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    from cotdistill.models.loading import TINY_ALIAS, load_tokenizer, resolve_pretrained_dir

    what = f"student {cfg.model}"
    is_hub = cfg.model not in _packaged_names() and cfg.model != TINY_ALIAS and not Path(cfg.model).expanduser().exists()
    if is_hub:
        hub = hub_finding("model", cfg.model, what)
        if hub.status != OK:
            return None, _BYTES.get(cfg.dtype, 4), hub
    try:
        tokenizer = load_tokenizer(cfg)
        if cfg.model == TINY_ALIAS:
            from cotdistill.models.tiny import build_tiny_model

            with torch.device("meta"):
                model = build_tiny_model(len(tokenizer), seed=cfg.tiny_seed)
            stored = "fp32"
        else:
            model_config = AutoConfig.from_pretrained(resolve_pretrained_dir(cfg), revision=cfg.revision,
                                                      trust_remote_code=cfg.trust_remote_code)
            with torch.device("meta"):
                model = AutoModelForCausalLM.from_config(model_config, trust_remote_code=cfg.trust_remote_code)
            stored = str(getattr(model_config, "dtype", None) or getattr(model_config, "torch_dtype", None)
                         or "float32").replace("torch.", "")
    except (CotDistillError, OSError, ValueError) as err:
        return None, 4, Finding(what, ERROR, str(err).splitlines()[0])
    parameters = sum(p.numel() for p in model.parameters())
    saved = _BYTES.get(stored, 4) if cfg.dtype == "auto" else _BYTES[cfg.dtype]
    return parameters, saved, Finding(what, OK, f"{parameters / 1e6:.1f}M parameters, tokenizer with "
                                                f"{len(tokenizer)} tokens")


def _packaged_names() -> set[str]:
    from cotdistill.models.loading import PACKAGED_STUDENTS

    return set(PACKAGED_STUDENTS.names())


def _token_counts(cfg: StudyConfig, data: Any, tokenizer: Any, teacher_tokens: int | None) -> dict[str, float]:
    """Mean non-padding tokens per training instance of label_only and of a full rationale after the label, and
    mean prompt tokens of an evaluation question; capped at train.max_length as training caps them."""
    from cotdistill.variants.base import build_instances
    from cotdistill.variants.config import VariantConfig

    cap = cfg.train.max_length

    def mean_length(variant: str, examples: list, rationales: dict) -> float:
        instances = build_instances(examples, rationales, VariantConfig(name=variant).build_variant(), tokenizer,
                                    seed=0)
        return sum(min(len(i.input_ids), cap) for i in instances) / max(len(instances), 1)

    short = mean_length("label_only", data.train, {})
    if data.rationales:
        full = mean_length("cot_after_label", data.train, data.rationales)
    else:  # the teacher has not written them yet: its token limit bounds them
        full = min(short + (teacher_tokens or 0), cap)
    prompt = mean_length("label_only", data.eval, {})
    return {"label_only": short, "with_rationale": full, "eval_prompt": prompt}


def _slice_estimate(cfg: StudyConfig, task_index: int, student_index: int, cells: list, parameters: int | None,
                    saved_bytes: int, tokens: dict[str, float] | None, n_train: int, n_eval: int) -> SliceEstimate:
    task, student = cfg.tasks[task_index], cfg.students[student_index]
    mine = [c for c in cells if c.task_index == task_index and c.student_index == student_index]
    trained = [c for c in mine if c.trained]
    estimate = SliceEstimate(task.name, student.name, len(mine), parameters, None, None)
    if parameters is None or tokens is None:
        return estimate
    seconds = 0.0
    for cell in trained:
        train_cfg = cell.train_config
        per_instance = tokens["label_only"] if cell.variant_config.name == "label_only" else tokens["with_rationale"]
        epochs = train_cfg.epochs
        steps = math.ceil(n_train / (train_cfg.batch_size * train_cfg.grad_accum)) * epochs
        if train_cfg.max_steps > 0:
            steps = train_cfg.max_steps
            epochs = steps * train_cfg.batch_size * train_cfg.grad_accum / max(n_train, 1)
        seconds += max(6 * parameters * per_instance * n_train * epochs / GPU_FLOPS, steps * STEP_SECONDS)
    for cell in mine:
        for mode in cell.modes:
            eval_cfg = cfg.eval.config_for(mode)
            n = min(n_eval, eval_cfg.limit or n_eval)
            batches = math.ceil(n / eval_cfg.batch_size)
            if mode == "label_first":
                seconds += max(2 * parameters * tokens["eval_prompt"] * n / GPU_FLOPS, batches * STEP_SECONDS / 3)
            else:
                read = tokens["eval_prompt"] + eval_cfg.max_new_tokens
                seconds += 2 * parameters * read * n / GPU_FLOPS + batches * eval_cfg.max_new_tokens * \
                    DECODE_STEP_SECONDS
    estimate.gpu_seconds = seconds
    estimate.weight_bytes = parameters * saved_bytes * len(trained)
    if any(c.variant_config.name.startswith("key_tokens") for c in trained):
        estimate.notes.append("key-token cells counted at full rationale length (an upper bound)")
    if any(c.variant_config.name.startswith("key_tokens") and "scorer" in c.variant_config.params for c in trained):
        estimate.notes.append("scorer passes over the rationales not counted")
    return estimate


def check_study(cfg: StudyConfig, *, scratch: Path) -> StudyCheck:
    """Resolve everything the grid needs and estimate its cost; ``scratch`` is an empty directory (nothing is
    written to any study directory)."""
    from cotdistill.models.loading import load_tokenizer

    findings: list[Finding] = [Finding("config", OK, f"{cfg.name}: validated")]
    grid = expand_grid(cfg) + untrained_cells(cfg)
    datas: list[Any] = []
    for i, task in enumerate(cfg.tasks):
        sources = _task_source_findings(task, i)
        findings.extend(sources)
        teacher = teacher_finding(task, i)
        if teacher is not None:
            findings.append(teacher)
        data = None
        # A hub dataset out of reach is not loaded (the datasets library would retry for minutes).
        if all(f.status == OK for f in sources):
            try:
                data = load_task_data(task, i, scratch, write=False)
            except CotDistillError as err:
                findings.append(Finding(f"tasks[{i}] ({task.name})", ERROR, str(err)))
        if data is not None:
            findings.append(Finding(f"tasks[{i}] ({task.name})", OK,
                                    f"{len(data.train)} training questions"
                                    + (" with rationales" if data.rationales else "")
                                    + f", {len(data.eval)} evaluation questions"))
        datas.append(data)
    slices = []
    for s_index, student in enumerate(cfg.students):
        student_cfg = student.student_config()
        parameters, saved_bytes, finding = _student_size(student_cfg)
        findings.append(finding)
        tokenizer = load_tokenizer(student_cfg) if parameters is not None else None
        for t_index, task in enumerate(cfg.tasks):
            data = datas[t_index]
            tokens = None
            if tokenizer is not None and data is not None:
                teacher_tokens = task.teacher.sampling.max_new_tokens if task.teacher is not None else None
                tokens = _token_counts(cfg, data, tokenizer, teacher_tokens)
            slices.append(_slice_estimate(cfg, t_index, s_index, grid, parameters, saved_bytes, tokens,
                                          len(data.train) if data else 0, len(data.eval) if data else 0))
    return StudyCheck(findings, len(grid), sum(1 for c in grid if c.trained), slices)
