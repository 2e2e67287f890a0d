"""The one interface every teacher backend implements, and what flows through it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from cotdistill.data.example import Example
from cotdistill.registry import Registry
from cotdistill.teacher.prompts import TeacherPrompt


@dataclass(frozen=True)
class SamplingParams:
    """How the teacher samples; recorded with every answer and part of its cache key."""

    temperature: float = 0.0
    top_p: float = 1.0
    max_new_tokens: int = 128
    seed: int = 0

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class GenerationRequest:
    """One answer to obtain: ``seed`` is this request's own seed, derived from the run seed and its key."""

    key: str
    example: Example
    prompt: TeacherPrompt
    params: SamplingParams
    sample_index: int
    seed: int


@dataclass
class GenerationOutcome:
    """What came back for a request: ``text`` on success, else ``error`` (after ``attempts`` tries)."""

    request: GenerationRequest
    text: str | None
    error: str | None = None
    attempts: int = 1
    latency_s: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.text is not None


@dataclass
class BackendStats:
    """Counts over one ``generate`` call: every try sent to the teacher, and why tries were repeated."""

    attempts: int = 0
    retries: int = 0
    retry_reasons: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {"attempts": self.attempts, "retries": self.retries, "retry_reasons": dict(self.retry_reasons)}


OutcomeSink = Callable[[GenerationOutcome], None]


class TeacherBackend(ABC):
    """Answers generation requests. ``generate`` hands every outcome to ``on_outcome`` as soon as it is known
    (so the caller can persist it at once) and returns when all requests are answered or have failed."""

    name: ClassVar[str]

    def __init__(self) -> None:
        self.stats = BackendStats()

    @classmethod
    @abstractmethod
    def from_config(cls, cfg: Any) -> TeacherBackend:
        """Build the backend from a :class:`cotdistill.teacher.config.TeacherConfig`."""

    @abstractmethod
    def identity(self) -> dict[str, Any]:
        """What determines this backend's answers besides prompt and sampling (part of every cache key)."""

    @abstractmethod
    def generate(self, requests: Sequence[GenerationRequest], on_outcome: OutcomeSink) -> None:
        ...

    def describe(self) -> dict[str, Any]:
        """Provenance recorded with every answer (may say more than ``identity``, e.g. the server URL)."""
        return self.identity()

    def close(self) -> None:
        """Free the model or connections."""


TEACHER_BACKENDS: Registry[type[TeacherBackend]] = Registry("teacher backend")
