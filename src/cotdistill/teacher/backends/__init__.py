"""Teacher backends behind one interface: local transformers, OpenAI-compatible HTTP, scripted fake."""

from cotdistill.teacher.backends.base import (
    TEACHER_BACKENDS,
    BackendStats,
    GenerationOutcome,
    GenerationRequest,
    SamplingParams,
    TeacherBackend,
)
from cotdistill.teacher.backends.fake import FakeBackend
from cotdistill.teacher.backends.local import LocalBackend
from cotdistill.teacher.backends.openai_http import OpenAIBackend

__all__ = ["TEACHER_BACKENDS", "BackendStats", "FakeBackend", "GenerationOutcome", "GenerationRequest",
           "LocalBackend", "OpenAIBackend", "SamplingParams", "TeacherBackend"]
