"""The teacher stage: elicit chain-of-thought rationales from an LLM, parse and filter them, cache every answer.

Python API::

    from cotdistill.teacher import TeachConfig, teach
    result = teach(TeachConfig.from_yaml("teach.yaml"))   # or TeachConfig(task=..., teacher=..., output_dir=...)
    result.rationales_path, result.audit

CLI: ``cotdistill teach --task openbookqa --split dev --teacher smollm2-135m -o runs/teacher``.
"""

from cotdistill.teacher.audit import audit_markdown, audit_rows, build_audit, parse_teacher_answer
from cotdistill.teacher.backends import (
    TEACHER_BACKENDS,
    FakeBackend,
    GenerationOutcome,
    GenerationRequest,
    LocalBackend,
    OpenAIBackend,
    SamplingParams,
    TeacherBackend,
)
from cotdistill.teacher.cache import GenerationCache, generation_key
from cotdistill.teacher.config import PromptConfig, SamplingConfig, TeachConfig, TeacherConfig
from cotdistill.teacher.prompts import PromptBuilder, PromptTemplate, TeacherPrompt, load_template
from cotdistill.teacher.run import TeachResult, make_backend, teach

__all__ = [
    "TEACHER_BACKENDS", "FakeBackend", "GenerationCache", "GenerationOutcome", "GenerationRequest", "LocalBackend",
    "OpenAIBackend", "PromptBuilder", "PromptConfig", "PromptTemplate", "SamplingConfig", "SamplingParams",
    "TeachConfig", "TeachResult", "TeacherBackend", "TeacherConfig", "TeacherPrompt", "audit_markdown",
    "audit_rows", "build_audit", "generation_key", "load_template", "make_backend", "parse_teacher_answer",
    "teach",
]
