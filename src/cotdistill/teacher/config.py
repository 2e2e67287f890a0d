"""Config of the teacher stage: which questions, which teacher, which prompt, how to sample, where to write."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from cotdistill.configbase import StageConfig
from cotdistill.models.device import DEVICE_HELP, DeviceSetting
from cotdistill.data.tasks import TaskConfig
from cotdistill.teacher.backends.base import SamplingParams


class FakeTeacherSettings(StageConfig):
    delay_s: float = Field(0.0, ge=0, description="Seconds the scripted teacher waits before each answer.")
    responses: list[str] = Field(default_factory=list, description=(
        "Answers given in turn ({gold}, {first} and {key} are filled in); empty: a label-first answer naming a "
        "choice picked by the request's hash."))
    request_log: str | None = Field(None, description="Append one JSON line per request asked to this file.")


class TeacherConfig(StageConfig):
    backend: str = Field("local", description="'local' (transformers in-process), 'openai' (OpenAI-compatible "
                                              "HTTP server) or 'fake' (scripted, for tests).")
    model: str = Field("smollm2-135m", description=(
        "local: a packaged alias, model directory or hub id (as for students); openai: the server's model name."))
    dtype: Literal["auto", "bf16", "fp32"] = Field("bf16", description="local: weights and compute dtype.")
    batch_size: int = Field(16, ge=1, description="local: prompts generated together (left-padded).")
    device: DeviceSetting = Field("auto", description="local: where the teacher runs: " + DEVICE_HELP)
    base_url: str = Field("http://127.0.0.1:8000/v1", description="openai: server URL up to and including /v1.")
    api_key_env: str | None = Field("OPENAI_API_KEY", description=(
        "openai: name of the environment variable holding the API key (the key itself is never configured); "
        "no key is sent when it is unset."))
    concurrency: int = Field(4, ge=1, description="openai: requests in flight at once.")
    timeout_s: float = Field(120.0, gt=0, description="openai: seconds before a request is abandoned and retried.")
    max_retries: int = Field(5, ge=0, description="openai: retries per request on 429/5xx/timeouts/bad responses.")
    backoff_base_s: float = Field(1.0, ge=0, description="openai: first retry waits about this long; doubles.")
    backoff_max_s: float = Field(30.0, ge=0, description="openai: longest wait between retries (before jitter).")
    fake: FakeTeacherSettings = Field(default_factory=FakeTeacherSettings, description="fake: scripted teacher.")


class PromptConfig(StageConfig):
    mode: Literal["label_first", "rationalize", "reasoning_first"] = Field("label_first", description=(
        "label_first: 'The answer is B because ...'; rationalize: the teacher is told the gold answer and "
        "explains it; reasoning_first: '... So the answer is B.'"))
    style: Literal["chat", "completion"] = Field("chat", description=(
        "chat: system + few-shot turns (instruction-tuned models, /v1/chat/completions); completion: one plain "
        "few-shot text (base models, /v1/completions)."))
    template: str | None = Field(None, description=(
        "YAML template file (instructions per mode + worked shots); null: the task's packaged template."))
    n_shots: int | None = Field(None, ge=0, description="Use only the first n shots of the template (null: all).")


class SamplingConfig(StageConfig):
    temperature: float = Field(0.0, ge=0, description="0: greedy decoding.")
    top_p: float = Field(1.0, gt=0, le=1, description="Nucleus sampling mass (with temperature > 0).")
    max_new_tokens: int = Field(128, ge=1, description="Longest answer in tokens.")
    n: int = Field(1, ge=1, description="Answers sampled per question.")
    seed: int = Field(0, description="Run seed; each request's seed is derived from it.")

    @model_validator(mode="after")
    def _samples_need_sampling(self) -> SamplingConfig:
        if self.n > 1 and self.temperature <= 0:
            raise ValueError("n > 1 answers per question need temperature > 0 (greedy answers are all the same)")
        return self

    def params(self) -> SamplingParams:
        return SamplingParams(temperature=self.temperature, top_p=self.top_p, max_new_tokens=self.max_new_tokens,
                              seed=self.seed)


class TeachConfig(StageConfig):
    task: TaskConfig = Field(..., description="Which questions the teacher answers.")
    teacher: TeacherConfig = Field(default_factory=TeacherConfig, description="The teacher model and backend.")
    prompt: PromptConfig = Field(default_factory=PromptConfig, description="How questions are put to it.")
    sampling: SamplingConfig = Field(default_factory=SamplingConfig, description="How it samples.")
    label_policy: Literal["keep", "drop", "relabel"] = Field("keep", description=(
        "Answers whose label disagrees with gold: keep them, drop them from rationales.jsonl, or keep them to be "
        "trained with the teacher's label (relabel; applied when training, from each rationale's teacher_label). "
        "Same rules as cotdistill.data.rationales.apply_label_policy."))
    drop_unparsed: bool = Field(False, description="Also drop rationales that state no single label.")
    output_dir: str = Field(..., description="Directory of rationales.jsonl, audit.json (and samples.jsonl).")
    cache: str | None = Field(None, description=(
        "SQLite cache of teacher answers (the source of truth); null: <output_dir>/teacher_cache.sqlite. "
        "Share one cache between runs to never pay twice for an answer."))
