"""The one YAML of a study: tasks and their rationale sources, students, variants, seeds, training, evaluation.

:func:`load_study_config` parses and validates everything a study needs before any work starts -- types and
unknown keys, registered names, variant parameters (every variant is built once), files that must exist,
local tasks (loaded, cheap) -- and fails with one line naming the YAML key, e.g.
``study.yaml: key 'variants[2].name': unknown variant 'cot_befor_label' (known: ...)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from cotdistill.configbase import StageConfig, config_error_from_validation, config_hash, read_yaml
from cotdistill.data.rationales import RationaleConfig
from cotdistill.data.tasks import TASKS, TaskConfig
from cotdistill.errors import ConfigError, CotDistillError
from cotdistill.evaluate.config import EvalConfig
from cotdistill.models import StudentConfig
from cotdistill.models.device import DEVICE_HELP, DeviceSetting, resolve_device
from cotdistill.teacher.config import PromptConfig, SamplingConfig, TeacherConfig
from cotdistill.study.workers import SlurmSettings
from cotdistill.train.config import TrainConfig
from cotdistill.variants.base import Variant
from cotdistill.variants.config import VariantConfig


#: Where a stage runs is not what it computes: the device settings are left out of the cell keys (a cell run on
#: the CPU is the same cell on a GPU; its evaluation records the device it ran on) and of the study hash.
TASK_IDENTITY_EXCLUDE: dict[str, Any] = {"label": True, "teacher": {"teacher": {"device"}}}
EVAL_IDENTITY_EXCLUDE = {"device"}


class StudyTeacherConfig(StageConfig):
    """A teacher that writes the rationales of a task's training split when the study starts (once: reused after)."""

    teacher: TeacherConfig = Field(default_factory=TeacherConfig, description="The teacher model and backend.")
    prompt: PromptConfig = Field(default_factory=PromptConfig, description="How questions are put to it.")
    sampling: SamplingConfig = Field(default_factory=SamplingConfig, description="How it samples.")
    label_policy: Literal["keep", "drop", "relabel"] = Field(
        "drop", description="Training examples whose teacher label disagrees with gold: keep, drop or relabel.")
    drop_unparsed: bool = Field(False, description="Also drop examples whose rationale states no label.")
    cache: str | None = Field(None, description="SQLite cache of teacher answers (null: in the study's output).")


class StudyTaskConfig(StageConfig):
    """One task: the split trained on, the split evaluated on, and where the training rationales come from."""

    label: str | None = Field(None, description="Name in tables and plots (default: the task name).")
    train: TaskConfig = Field(..., description="Training examples (a task, a split, optionally a limit).")
    eval: TaskConfig = Field(..., description="Evaluation examples.")
    rationales: RationaleConfig | None = Field(None, description="Rationales from a file (teacher output).")
    reference_rationales: bool = Field(
        False, description="Use the task's own reference rationales (the built-in synthetic task has them).")
    teacher: StudyTeacherConfig | None = Field(None, description="Generate rationales with a teacher model.")

    @model_validator(mode="after")
    def _one_source(self) -> StudyTaskConfig:
        sources = [name for name, on in (("rationales", self.rationales is not None),
                                         ("reference_rationales", self.reference_rationales),
                                         ("teacher", self.teacher is not None)) if on]
        if len(sources) > 1:
            raise ValueError(f"give one rationale source, not {' and '.join(sources)}")
        return self

    @property
    def name(self) -> str:
        return self.label or self.train.name

    def rationale_source(self) -> str | None:
        if self.rationales is not None:
            return "rationales"
        if self.reference_rationales:
            return "reference_rationales"
        if self.teacher is not None:
            return "teacher"
        return None


class StudyStudentConfig(StudentConfig):
    label: str | None = Field(None, description="Name in tables and plots (default: the model).")

    @property
    def name(self) -> str:
        return self.label or self.model

    def student_config(self) -> StudentConfig:
        return StudentConfig(**self.model_dump(exclude={"label"}))


class StudyVariantConfig(VariantConfig):
    label: str | None = Field(None, description="Name in tables and plots (default: the variant name).")
    k: list[int | float] | None = Field(
        None, description="Key-token variants: one grid entry per k (sets params.k); null: params as given.")
    train: dict[str, Any] = Field(default_factory=dict, description=(
        "Training settings for this variant's cells only, over the study's `train` (e.g. {rationale_weight: 0.1} "
        "for a loss-share experiment); the seed comes from `seeds`."))

    @field_validator("train")
    @classmethod
    def _train_overrides_are_settings(cls, value: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(value) - set(TrainConfig.model_fields))
        if unknown:
            raise ValueError(f"unknown training setting {unknown[0]!r} (known: {', '.join(TrainConfig.model_fields)})")
        if "seed" in value:
            raise ValueError("the seed comes from the study's `seeds`, not from a variant")
        TrainConfig.model_validate(value)
        return value

    @field_validator("k")
    @classmethod
    def _k_not_empty(cls, value):
        if value is not None and not value:
            raise ValueError("give at least one k, or leave it out")
        return value

    @property
    def name_or_label(self) -> str:
        return self.label or self.name

    def expand(self) -> list[tuple[str, VariantConfig]]:
        """(label, plain VariantConfig) per grid entry: one per k, or just this variant."""
        base = self.model_dump(exclude={"label", "k", "train"})
        if self.k is None:
            return [(self.name_or_label, VariantConfig(**base))]
        return [(f"{self.name_or_label} (k={k})", VariantConfig(**{**base, "params": {**self.params, "k": k}}))
                for k in self.k]


class StudyEvalConfig(StageConfig):
    """Evaluation settings per mode: every variant label-first; reasoning-first those that are not answer-first."""

    label_first: EvalConfig = Field(default_factory=lambda: EvalConfig(mode="label_first"),
                                    description="Label-first evaluation (all variants).")
    reasoning_first: EvalConfig = Field(default_factory=lambda: EvalConfig(mode="reasoning_first"),
                                        description="Reasoning-first evaluation (variants that reason before the "
                                                    "label, e.g. cot_before_label).")
    reasoning_first_for_all: bool = Field(False, description="Also evaluate answer-first variants reasoning-first.")

    @model_validator(mode="before")
    @classmethod
    def _mode_from_key(cls, data: Any) -> Any:
        # The mode is the key a section sits under; writing it again is allowed only if it agrees.
        if isinstance(data, dict):
            data = dict(data)
            for mode in ("label_first", "reasoning_first"):
                section = data.get(mode)
                if isinstance(section, dict):
                    if section.get("mode", mode) != mode:
                        raise ValueError(f"{mode}.mode must be '{mode}' (or left out)")
                    data[mode] = {**section, "mode": mode}
        return data

    def modes_for(self, variant: Variant) -> list[str]:
        if variant.answer_first and not self.reasoning_first_for_all:
            return ["label_first"]
        return ["label_first", "reasoning_first"]

    def config_for(self, mode: str) -> EvalConfig:
        return self.label_first if mode == "label_first" else self.reasoning_first


class FamilyComparison(StageConfig):
    """One confirmatory comparison: a variant against a reference variant, each in its natural evaluation mode."""

    finding: str = Field(..., description="What the comparison tests, as the report's tables name it.")
    variant: str = Field(..., description="Label of the variant compared (a grid label, e.g. 'gxi (k=5)').")
    reference: str = Field(..., description="Label of the variant it is compared with.")


class StudyConfig(StageConfig):
    name: str = Field("study", description="Name of the study (report title).")
    tasks: list[StudyTaskConfig] = Field(..., min_length=1, description="Tasks with their rationale sources.")
    students: list[StudyStudentConfig] = Field(..., min_length=1, description="Students to train.")
    variants: list[StudyVariantConfig] = Field(..., min_length=1, description="Training variants.")
    seeds: list[int] = Field([0], min_length=1, description="Training seeds; every cell is trained once per seed.")
    baseline: str = Field("label_only", description="Label of the variant every other one is compared with.")
    train: TrainConfig = Field(default_factory=TrainConfig, description="Training settings (seed: from `seeds`).")
    eval: StudyEvalConfig = Field(default_factory=StudyEvalConfig, description="Evaluation settings per mode.")
    output_dir: str | None = Field(None, description="Where results go (the CLI's -o overrides it).")
    device: DeviceSetting = Field("auto", description=(
        "Where every cell's evaluation, key-token scorer and local teacher run, unless that stage sets its own "
        "`device` (eval.label_first.device, ...; training: Trainer places the model itself): " + DEVICE_HELP))
    notes: list[str] = Field(default_factory=list, description=(
        "Lines shown at the top of the report (e.g. how `cotdistill demo` sized itself); not part of the "
        "study's identity."))
    slurm: SlurmSettings | None = Field(None, description=(
        "How `cotdistill study --launcher slurm` asks Slurm for workers; not part of the study's identity."))
    family: list[FamilyComparison] | None = Field(
        None, description="The confirmatory comparisons, Holm-adjusted together across every task and student; "
                          "every other comparison of the report is exploratory and unadjusted. null: the "
                          "comparisons behind the paper's three findings among the grid's variants (CoT after vs "
                          "before the label; shuffled vs coherent CoT after the label; each key-token variant vs "
                          "random tokens of the same k and vs the full CoT).")

    @model_validator(mode="after")
    def _stages_run_on_the_study_device(self) -> StudyConfig:
        # A stage that names its own device keeps it; the others are given the study's when the config is read.
        stages = [self.eval.label_first, self.eval.reasoning_first]
        stages += [task.teacher.teacher for task in self.tasks if task.teacher is not None]
        for stage in stages:
            if "device" not in stage.model_fields_set:
                stage.device = self.device
                stage.model_fields_set.discard("device")
        return self

    def device_settings(self) -> dict[str, str]:
        """The device of every stage that runs a model, by YAML key (after the study's device is applied)."""
        settings = {"device": self.device}
        settings.update({f"eval.{mode}.device": self.eval.config_for(mode).device
                         for mode in ("label_first", "reasoning_first")})
        settings.update({f"tasks[{i}].teacher.teacher.device": task.teacher.teacher.device
                         for i, task in enumerate(self.tasks) if task.teacher is not None})
        return settings

    def variant_entries(self) -> list[tuple[int, str, VariantConfig]]:
        """(index in `variants`, label, config) of every variant of the grid, k values expanded."""
        return [(i, label, cfg) for i, v in enumerate(self.variants) for label, cfg in v.expand()]

    def train_config(self, variant_index: int, seed: int) -> TrainConfig:
        """The training settings of one cell: `train`, the variant's own `train` settings over it, the seed."""
        overrides = self.variants[variant_index].train
        return TrainConfig.model_validate({**self.train.model_dump(), **overrides, "seed": seed})

    def study_hash(self) -> str:
        # Notes and the family decide what the report says, not what a cell computes: changing them keeps the
        # study's record and tables. A variant without its own training settings hashes as before they existed.
        resolved = self.model_dump(mode="json", exclude={
            "output_dir": True, "notes": True, "family": True, "device": True, "slurm": True,
            "eval": {mode: EVAL_IDENTITY_EXCLUDE for mode in ("label_first", "reasoning_first")},
            "tasks": {"__all__": {"teacher": TASK_IDENTITY_EXCLUDE["teacher"]}}})
        for variant in resolved["variants"]:
            if not variant["train"]:
                del variant["train"]
        return config_hash(resolved)


def _error(source: str, key: str, message: str) -> ConfigError:
    return ConfigError(f"key '{key}': {message}", path=source)


def _rekey(err: CotDistillError, source: str, key: str) -> ConfigError:
    """A library error raised while checking the config, re-pointed at the YAML key it came from."""
    return _error(source, key, err.reason if err.path is None else str(err))


def parse_study_config(data: dict[str, Any], *, source: str = "<config>") -> StudyConfig:
    try:
        return StudyConfig.model_validate(data)
    except ValidationError as err:
        raise config_error_from_validation(err, source=source) from None


def validate_study(cfg: StudyConfig, *, source: str = "<config>") -> None:
    """Every check that can fail before any work starts (names, parameters, files, unique labels); paths are
    relative to the working directory, as everywhere in cotdistill."""
    from cotdistill.keytokens.api import variant_selector
    from cotdistill.models.loading import PACKAGED_STUDENTS, TINY_ALIAS
    from cotdistill.variants.base import make_variant

    def unique(labels: list[str], key: str) -> None:
        for i, label in enumerate(labels):
            if labels.index(label) != i:
                raise _error(source, f"{key}[{i}].label", f"'{label}' is used twice; give each entry its own label")

    for i, v in enumerate(cfg.variants):
        for label, entry in v.expand():
            try:
                variant_selector(make_variant(entry.name, entry.params, field_prefix=f"variants[{i}]"),
                                 field_prefix=f"variants[{i}].params")
            except CotDistillError as err:
                key = err.field or f"variants[{i}]"
                if v.k is not None and key.endswith(".params") and "k" not in v.params:
                    key = f"variants[{i}].k"
                raise _error(source, key, err.reason) from None
    labels = [label for _, label, _ in cfg.variant_entries()]
    unique([v.name_or_label for v in cfg.variants], "variants")
    if cfg.baseline not in labels:
        raise _error(source, "baseline", f"'{cfg.baseline}' is not one of the variants ({', '.join(labels)})")
    for i, comparison in enumerate(cfg.family or []):
        for part in ("variant", "reference"):
            if getattr(comparison, part) not in labels:
                raise _error(source, f"family[{i}].{part}",
                             f"'{getattr(comparison, part)}' is not one of the variants ({', '.join(labels)})")
    unique([t.name for t in cfg.tasks], "tasks")
    unique([s.name for s in cfg.students], "students")

    needs_rationale = any(make_variant(e.name, e.params).needs_rationale for _, _, e in cfg.variant_entries())
    for i, task in enumerate(cfg.tasks):
        for part in ("train", "eval"):
            tcfg: TaskConfig = getattr(task, part)
            if tcfg.name not in TASKS:
                raise _error(source, f"tasks[{i}].{part}.name",
                             f"unknown task '{tcfg.name}' (known: {', '.join(TASKS.names())})")
            if tcfg.path is not None and not Path(tcfg.path).exists():
                raise _error(source, f"tasks[{i}].{part}.path", f"not found: {tcfg.path}")
        if needs_rationale and task.rationale_source() is None:
            raise _error(source, f"tasks[{i}]", "variants that train on rationales need a rationale source: "
                                                "rationales, reference_rationales or teacher")
        if task.rationales is not None and not Path(task.rationales.path).exists():
            raise _error(source, f"tasks[{i}].rationales.path", f"not found: {task.rationales.path}")
        template = task.teacher.prompt.template if task.teacher is not None else None
        if template is not None and not Path(template).is_file():
            raise _error(source, f"tasks[{i}].teacher.prompt.template", f"not found: {template}")
    for key, setting in cfg.device_settings().items():
        try:
            resolve_device(setting, field=key)
        except CotDistillError as err:
            raise _rekey(err, source, key) from None
    for i, student in enumerate(cfg.students):
        model = student.model
        if model == TINY_ALIAS or model in PACKAGED_STUDENTS:
            continue
        if model.startswith((".", "/", "~")) and not Path(model).expanduser().exists():
            raise _error(source, f"students[{i}].model", f"not found: {model}")


def load_study_config(path: str | Path, *, overrides: dict[str, Any] | None = None) -> StudyConfig:
    """Read and validate (everything: see the module doc) a study YAML; ``overrides`` replace top-level keys."""
    path = Path(path)
    data = read_yaml(path)
    data.update(overrides or {})
    cfg = parse_study_config(data, source=str(path))
    validate_study(cfg, source=str(path))
    return cfg
