"""The config of one training run (``cotdistill train --config``), apart from the pipeline that runs it, so that
the CLI declares its flags from these fields without importing the trainer."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from cotdistill.configbase import StageConfig
from cotdistill.data.rationales import RationaleConfig
from cotdistill.data.tasks import TaskConfig
from cotdistill.models.config import StudentConfig
from cotdistill.train.config import TrainConfig
from cotdistill.variants.config import VariantConfig


class TrainRunConfig(StageConfig):
    """A whole training run (the YAML of ``cotdistill train --config``): sections task, rationales, variant,
    student, train, plus where the result goes."""

    task: TaskConfig = Field(..., description="Which task and split to train on.")
    rationales: RationaleConfig | None = Field(None, description=(
        "Teacher rationales; null for variants without one (label_only) or the synthetic task's references."))
    variant: VariantConfig = Field(default_factory=VariantConfig, description="What the student is trained on.")
    student: StudentConfig = Field(default_factory=StudentConfig, description="Which student model.")
    train: TrainConfig = Field(default_factory=TrainConfig, description="Optimisation settings.")
    output: str = Field(..., description="Directory of the trained student (resumed if unfinished).")
    overwrite: bool = Field(False, description="Replace a finished run in `output` instead of refusing.")
    missing_rationales: Literal["error", "drop"] = Field("error", description=(
        "Examples without a rationale, when the variant needs one: fail (error) or train without them (drop)."))
    keytoken_cache: str = Field(".cotdistill-cache/keytokens", description=(
        "Cache of key-token scores (key-token variants), shared with `cotdistill keytokens` and studies."))
