"""Config of the variants stage: which variant, its parameters, and how prompts and labels are written."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from cotdistill.configbase import StageConfig
from cotdistill.prompting import PromptFormat
from cotdistill.variants.base import Variant, make_variant


class VariantConfig(StageConfig):
    name: str = Field("cot_after_label", description="Registered variant name (see `cotdistill variants list`).")
    params: dict[str, Any] = Field(default_factory=dict,
                                   description="Variant parameters, e.g. {level: subword} or {fraction: 0.5}.")
    label_style: Literal["letter", "text"] = Field(
        "text", description="What the student emits as its answer: the choice letter or the choice text.")
    show_choices: bool = Field(True, description="List the choices (with letters) in the prompt.")

    def build_variant(self, field_prefix: str = "variant") -> Variant:
        return make_variant(self.name, self.params, field_prefix=field_prefix)

    def prompt_format(self) -> PromptFormat:
        return PromptFormat(label_style=self.label_style, show_choices=self.show_choices)
