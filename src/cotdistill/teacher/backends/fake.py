"""A scripted teacher for tests and dry runs: no model, deterministic answers, optional delay and request log."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from cotdistill.teacher.backends.base import (
    TEACHER_BACKENDS,
    GenerationOutcome,
    GenerationRequest,
    OutcomeSink,
    TeacherBackend,
)

Responder = Callable[[GenerationRequest], str]


def default_response(request: GenerationRequest) -> str:
    """A label-first answer naming a choice picked by the hash of the key (so some are right, some wrong)."""
    labels = list(request.example.choices)
    pick = labels[int(request.key[:8], 16) % len(labels)]
    return f"The answer is {pick} because scripted reason {request.key[:8]}."


@TEACHER_BACKENDS.register("fake")
class FakeBackend(TeacherBackend):
    """Answers one request at a time with ``responder`` (or the cycled ``responses``, formatted with ``{gold}``,
    ``{first}`` and ``{key}``), after ``delay_s``; appends every request it is asked to ``request_log``."""

    name = "fake"

    def __init__(self, model: str = "fake", *, responses: Sequence[str] = (), responder: Responder | None = None,
                 delay_s: float = 0.0, request_log: str | Path | None = None):
        super().__init__()
        self.model = model
        self.responses = list(responses)
        self.responder = responder
        self.delay_s = delay_s
        self.request_log = Path(request_log) if request_log is not None else None
        self.asked: list[str] = []

    @classmethod
    def from_config(cls, cfg: Any) -> FakeBackend:
        return cls(cfg.model, responses=cfg.fake.responses, delay_s=cfg.fake.delay_s,
                   request_log=cfg.fake.request_log)

    def identity(self) -> dict[str, Any]:
        return {"backend": self.name, "model": self.model}

    def _respond(self, request: GenerationRequest) -> str:
        if self.responder is not None:
            return self.responder(request)
        if self.responses:
            pattern = self.responses[len(self.asked) % len(self.responses)]
            return pattern.format(gold=request.example.answer, first=next(iter(request.example.choices)),
                                  key=request.key[:8])
        return default_response(request)

    def _log(self, request: GenerationRequest) -> None:
        if self.request_log is None:
            return
        # One write per line, flushed: the line reaches the kernel before the answer exists, so it survives
        # a SIGKILL of this process.
        with self.request_log.open("a") as fh:
            fh.write(json.dumps({"pid": os.getpid(), "key": request.key, "id": request.example.id,
                                 "sample": request.sample_index}) + "\n")

    def generate(self, requests: Sequence[GenerationRequest], on_outcome: OutcomeSink) -> None:
        for request in requests:
            self._log(request)
            start = time.perf_counter()
            if self.delay_s:
                time.sleep(self.delay_s)
            text = self._respond(request)
            self.asked.append(request.key)
            self.stats.attempts += 1
            on_outcome(GenerationOutcome(request=request, text=text, latency_s=time.perf_counter() - start,
                                         completion_tokens=len(text.split()), finish_reason="stop"))
