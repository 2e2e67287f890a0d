"""``cotdistill demo`` sized to a time budget: measure this machine, choose how much to train, then run the study.

The packaged demo study (demo.yaml: synthetic task, SmolLM2-135M, four variants) is the *largest* demo; on a CPU
without a bf16 fast path it takes the better part of an hour. Before any training the demo therefore

1. calibrates: loads the student (converting its GGUF on the first run), trains a few real optimizer steps on the
   longest variant's instances, answers a batch label-first and a batch reasoning-first, and times each;
2. predicts every cell's time from those rates and the token counts of each variant's training instances;
3. walks down :data:`SIZES` -- fewer seeds first, then fewer training questions, then fewer evaluation questions --
   and takes the first size whose predicted time fits the budget (what is left of it after the calibration);
4. prints the plan with its ETA, records it in ``demo-plan.json`` (a rerun with the same budget reuses it, so the
   grid resumes instead of starting over) and in the report's notes (what was sized down and why).

The comparisons the demo exists to show are kept at every size: all four variants (CoT before vs after the label,
shuffled vs coherent), evaluated on the same questions, with intervals and paired tests.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cotdistill.errors import ConfigError
from cotdistill.study.config import StudyConfig

#: Share of the budget the plan may fill: cell times vary around the prediction (checkpoints, longer batches).
BUDGET_FILL = 0.9
#: Seconds kept for writing the results tables and the report after the last cell.
REPORT_SECONDS = 30.0
PLAN_FILE = "demo-plan.json"
DEFAULT_BUDGET = "15m"


@dataclass(frozen=True)
class DemoSize:
    """How much of the demo to run: seeds, training questions, and questions evaluated per mode."""

    seeds: int
    train_questions: int
    label_first_questions: int
    reasoning_first_questions: int


#: From the full demo down, one knob at a time; the first that fits the budget is run. Seeds go first (the
#: paired tests compare variants on the same questions within a seed), then training questions, and only at the
#: end evaluation questions (they decide the width of every interval).
SIZES: tuple[DemoSize, ...] = (
    DemoSize(2, 400, 300, 100),
    DemoSize(2, 300, 300, 100),
    DemoSize(1, 400, 300, 100),
    DemoSize(1, 300, 300, 100),
    DemoSize(1, 250, 300, 100),
    DemoSize(1, 200, 300, 80),
    DemoSize(1, 150, 250, 60),
    DemoSize(1, 100, 200, 40),
)


@dataclass(frozen=True)
class Calibration:
    """What this machine was measured to do, in the precision the demo runs in."""

    cpu: str
    cpu_capability: str
    bf16: bool
    threads: int
    load_seconds: float  # loading it again (every cell loads it to train and again to evaluate)
    train_overhead_seconds: float  # a training run's set-up and final save, beside its steps
    train_tokens_per_second: float  # non-padding tokens through forward, backward and the optimizer step
    label_first_seconds_per_question: float
    reasoning_first_seconds_per_question: float
    seconds: float  # the whole calibration


@dataclass
class DemoPlan:
    budget_seconds: float
    size: DemoSize
    predicted_seconds: float
    calibration: Calibration
    fits: bool
    reductions: list[str] = field(default_factory=list)
    cell_seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DemoPlan:
        return cls(budget_seconds=data["budget_seconds"], size=DemoSize(**data["size"]),
                   predicted_seconds=data["predicted_seconds"], calibration=Calibration(**data["calibration"]),
                   fits=data["fits"], reductions=list(data["reductions"]), cell_seconds=dict(data["cell_seconds"]))

    def notes(self) -> list[str]:
        """What the report says about how the demo was sized."""
        c = self.calibration
        precision = "bf16 autocast" if c.bf16 else "fp32 (no bf16 fast path)"
        lines = [f"Sized to a {duration(self.budget_seconds)} budget on this machine ({c.cpu}, ATen {c.cpu_capability}, "
                 f"{c.threads} threads): training in {precision} measured {c.train_tokens_per_second:.0f} tokens/s, "
                 f"label-first {c.label_first_seconds_per_question:.3f} s and reasoning-first "
                 f"{c.reasoning_first_seconds_per_question:.2f} s per question; predicted "
                 f"{duration(self.predicted_seconds)} of cells."]
        if self.reductions:
            lines.append("Sized down from the full demo to fit: " + "; ".join(self.reductions) + ". Fewer seeds "
                         "leave training noise out of the intervals; fewer training questions teach the student less; "
                         "the comparisons between variants are made on the same questions either way.")
        else:
            lines.append("The full demo fits: nothing was sized down.")
        if not self.fits:
            lines.append("Even the smallest size was predicted to exceed the budget; it was run anyway.")
        return lines


def parse_budget(text: str) -> float:
    """``15m``, ``900s``, ``900``, ``1h``, ``1h30m`` -> seconds; a one-line error naming ``--budget`` otherwise."""
    value = text.strip().lower()
    parts = re.fullmatch(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s?)?", value)
    if not value or parts is None or not any(parts.groups()):
        raise ConfigError(f"'{text}' is not a duration (e.g. 15m, 900s, 1h30m)", field="--budget")
    hours, minutes, seconds = (float(g) if g else 0.0 for g in parts.groups())
    total = 3600 * hours + 60 * minutes + seconds
    if total <= 0:
        raise ConfigError(f"'{text}' is not a positive duration", field="--budget")
    return total


def duration(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def sized_config(cfg: StudyConfig, size: DemoSize) -> StudyConfig:
    """The demo config at ``size``: its first seeds, training and evaluation subsets, reasoning-first limit."""
    if size.seeds > len(cfg.seeds):
        raise ConfigError(f"the demo has {len(cfg.seeds)} seeds, not {size.seeds}", field="seeds")
    task = cfg.tasks[0]
    sized_task = task.model_copy(update={
        "train": task.train.model_copy(update={"limit": size.train_questions}),
        "eval": task.eval.model_copy(update={"limit": size.label_first_questions})})
    reasoning = cfg.eval.reasoning_first.model_copy(update={"limit": size.reasoning_first_questions})
    return cfg.model_copy(update={
        "tasks": [sized_task], "seeds": cfg.seeds[:size.seeds],
        "eval": cfg.eval.model_copy(update={"reasoning_first": reasoning})})


def predict_cell_seconds(cfg: StudyConfig, size: DemoSize, calibration: Calibration,
                         tokens_per_question: dict[str, float]) -> dict[str, float]:
    """Predicted seconds of each cell of ``cfg`` at ``size`` (by grid label), from the calibration's rates."""
    from cotdistill.study.grid import expand_grid, untrained_cells

    c = calibration
    seconds: dict[str, float] = {}
    sized = sized_config(cfg, size)
    for cell in untrained_cells(sized) + expand_grid(sized):
        if cell.trained:
            tokens = tokens_per_question[cell.variant] * size.train_questions * cfg.train.epochs
            total = 2 * c.load_seconds + c.train_overhead_seconds + tokens / c.train_tokens_per_second
        else:  # the student as it starts: loaded once and read label-first
            total = c.load_seconds
        for mode in cell.modes:
            if mode == "label_first":
                total += size.label_first_questions * c.label_first_seconds_per_question
            else:
                total += size.reasoning_first_questions * c.reasoning_first_seconds_per_question
        seconds[cell.title] = total
    return seconds


def choose_size(cfg: StudyConfig, calibration: Calibration, tokens_per_question: dict[str, float], *,
                budget_seconds: float, elapsed_seconds: float) -> DemoPlan:
    """The largest of :data:`SIZES` whose predicted cells (plus the report) fit what is left of the budget."""
    available = budget_seconds * BUDGET_FILL - elapsed_seconds - REPORT_SECONDS
    full = SIZES[0]
    plan = None
    for size in SIZES:
        cells = predict_cell_seconds(cfg, size, calibration, tokens_per_question)
        plan = DemoPlan(budget_seconds, size, sum(cells.values()), calibration, fits=sum(cells.values()) <= available,
                        cell_seconds=cells)
        if plan.fits:
            break
    assert plan is not None
    for name, before, after in (("seeds", full.seeds, plan.size.seeds),
                                ("training questions", full.train_questions, plan.size.train_questions),
                                ("label-first questions", full.label_first_questions, plan.size.label_first_questions),
                                ("reasoning-first questions", full.reasoning_first_questions,
                                 plan.size.reasoning_first_questions)):
        if after != before:
            plan.reductions.append(f"{name} {before} -> {after}")
    return plan


def instance_tokens_per_question(cfg: StudyConfig, data: Any, tokenizer: Any) -> dict[str, float]:
    """Mean training tokens (prompt and target) per training question of each variant of the grid."""
    from cotdistill.variants.base import build_instances

    out = {}
    for _, label, variant_cfg in cfg.variant_entries():
        instances = build_instances(data.train, data.rationales, variant_cfg.build_variant(), tokenizer, seed=0,
                                    prompt_format=variant_cfg.prompt_format())
        out[label] = sum(min(len(i.input_ids), cfg.train.max_length) for i in instances) / len(data.train)
    return out


def calibrate(cfg: StudyConfig, data: Any, variant_label: str, *, steps: int = 3) -> Calibration:
    """Time this machine on the demo's own work (see the module doc), training on ``variant_label``'s instances
    (the longest: the steps then cost what most of the demo's steps cost)."""
    import torch
    from transformers import TrainerCallback

    from cotdistill.evaluate import evaluate_student
    from cotdistill.hardware import cpu_capability
    from cotdistill.models import load_student
    from cotdistill.study.provenance import cpu_info
    from cotdistill.train.trainer import resolve_bf16, train_student
    from cotdistill.variants.base import build_instances

    class StepTimes(TrainerCallback):
        def __init__(self) -> None:
            self.ends: list[float] = []

        def on_step_end(self, args, state, control, **kwargs):
            self.ends.append(time.perf_counter())

    started = time.perf_counter()
    student = cfg.students[0].student_config()
    model, tokenizer = load_student(student)
    load = time.perf_counter() - started

    variant_cfg = {label: v for _, label, v in cfg.variant_entries()}[variant_label]
    batch = cfg.train.batch_size
    instances = build_instances(data.train[:batch * steps], data.rationales, variant_cfg.build_variant(), tokenizer,
                                seed=0, prompt_format=variant_cfg.prompt_format())
    train_cfg = cfg.train.model_copy(update={"max_steps": steps, "save_steps": 10 * steps, "logging_steps": steps})
    times = StepTimes()
    with tempfile.TemporaryDirectory(prefix="cotdistill-calibrate-") as tmp:
        start = time.perf_counter()
        result = train_student(instances, student, train_cfg, Path(tmp) / "student", metadata={"calibration": True},
                               student=(model, tokenizer), callbacks=[times])
        train_total = time.perf_counter() - start
    # The first step pays one-off costs (kernel set-up): the rate comes from the later ones.
    timed_steps = times.ends[1:]
    step_seconds = timed_steps[-1] - times.ends[0]
    tokens_per_step = result.total_tokens / max(len(times.ends), 1)
    rate = tokens_per_step * (len(timed_steps)) / step_seconds
    overhead = max(train_total - result.total_tokens / rate, 0.0)

    # The briefly trained model answers as fast as the untrained one: no need to load it again.
    model.eval()
    per_question = {}
    for mode in ("label_first", "reasoning_first"):
        eval_cfg = cfg.eval.config_for(mode)
        questions = data.eval[:eval_cfg.batch_size]
        start = time.perf_counter()
        evaluate_student(model, tokenizer, questions, variant=variant_cfg.build_variant(),
                         prompt_format=variant_cfg.prompt_format(),
                         config=eval_cfg.model_copy(update={"limit": None}))
        per_question[mode] = (time.perf_counter() - start) / len(questions)

    calibration = Calibration(
        cpu=cpu_info()["cpu"], cpu_capability=cpu_capability(), bf16=resolve_bf16(cfg.train),
        threads=torch.get_num_threads(), load_seconds=load,
        train_overhead_seconds=overhead, train_tokens_per_second=rate,
        label_first_seconds_per_question=per_question["label_first"],
        reasoning_first_seconds_per_question=per_question["reasoning_first"],
        seconds=time.perf_counter() - started)
    return calibration


def plan_demo(cfg: StudyConfig, output: Path, budget_seconds: float, *, started: float,
              echo=print) -> tuple[StudyConfig, DemoPlan]:
    """The sized demo config and its plan: read back from ``output`` when this budget was planned there before
    (so a rerun resumes the same cells), else calibrated and chosen now."""
    from cotdistill.files import write_json_atomic
    from cotdistill.models import load_tokenizer
    from cotdistill.study.taskdata import load_task_data

    plan_path = output / PLAN_FILE
    if plan_path.is_file():
        saved = DemoPlan.from_dict(json.loads(plan_path.read_text()))
        if saved.budget_seconds == budget_seconds:
            echo(f"resuming the demo planned for a {duration(budget_seconds)} budget ({plan_path})")
            return _with_notes(sized_config(cfg, saved.size), saved), saved
    echo(f"measuring this machine (a few training steps and answers) to size the demo to {duration(budget_seconds)}")
    data = load_task_data(cfg.tasks[0], 0, output, write=False)
    tokens = instance_tokens_per_question(cfg, data, load_tokenizer(cfg.students[0].student_config()))
    calibration = calibrate(cfg, data, max(tokens, key=tokens.get))
    plan = choose_size(cfg, calibration, tokens, budget_seconds=budget_seconds,
                       elapsed_seconds=time.perf_counter() - started)
    output.mkdir(parents=True, exist_ok=True)
    write_json_atomic(plan_path, plan.to_dict())
    for line in describe_plan(plan):
        echo(line)
    return _with_notes(sized_config(cfg, plan.size), plan), plan


def _with_notes(cfg: StudyConfig, plan: DemoPlan) -> StudyConfig:
    return cfg.model_copy(update={"notes": [*cfg.notes, *plan.notes()]})


def describe_plan(plan: DemoPlan) -> list[str]:
    """The plan as printed before any training: size, what was cut, predicted time per cell and the ETA."""
    c, s = plan.calibration, plan.size
    lines = [f"machine: {c.cpu}, ATen {c.cpu_capability}, {'bf16' if c.bf16 else 'fp32'} training at "
             f"{c.train_tokens_per_second:.0f} tokens/s (calibration took {duration(c.seconds)})",
             f"plan: {s.seeds} seed(s), {s.train_questions} training questions, {s.label_first_questions} "
             f"label-first / {s.reasoning_first_questions} reasoning-first questions"
             + (f" (sized down: {'; '.join(plan.reductions)})" if plan.reductions else " (the full demo)")]
    lines += [f"  {title}: ~{duration(seconds)}" for title, seconds in plan.cell_seconds.items()]
    lines.append(f"ETA: ~{duration(plan.predicted_seconds + REPORT_SECONDS)} for the cells and the report"
                 + ("" if plan.fits else f" -- over the {duration(plan.budget_seconds)} budget even at the "
                                         "smallest size"))
    return lines
