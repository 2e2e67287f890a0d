"""A teacher behind an OpenAI-compatible HTTP server (vLLM, Ollama, llama.cpp, ``transformers serve``, OpenAI).

Requests run concurrently (``concurrency`` workers on one ``httpx.AsyncClient``), each bounded by a timeout and
retried with capped exponential backoff and jitter on 429, 408, 5xx, connection errors, timeouts and malformed
responses; a ``Retry-After`` header sets the least wait before the next try. Other 4xx are the request's own
fault and are not retried; 401/403/404 mean the server, key or model is wrong, so the run stops at once
instead of failing every request the same way. The API key is read only from an environment variable.
"""

from __future__ import annotations

import asyncio
import email.utils
import os
import random
import time
from collections.abc import Sequence
from typing import Any

import httpx

from cotdistill.errors import ConfigError
from cotdistill.teacher.backends.base import (
    TEACHER_BACKENDS,
    GenerationOutcome,
    GenerationRequest,
    OutcomeSink,
    TeacherBackend,
)

RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
FATAL_STATUS = {401: "unauthorized (check the API key variable)", 403: "forbidden (check the API key variable)",
                404: "not found (check the base URL and the model name)"}


class _Retryable(Exception):
    def __init__(self, reason: str, detail: str, retry_after: float | None = None):
        super().__init__(detail)
        self.reason = reason
        self.retry_after = retry_after


class _Fatal(Exception):
    pass


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


@TEACHER_BACKENDS.register("openai")
class OpenAIBackend(TeacherBackend):
    """``model`` is the server's model name; ``base_url`` ends in ``/v1``."""

    name = "openai"

    def __init__(self, model: str, base_url: str = "http://127.0.0.1:8000/v1", *,
                 api_key_env: str | None = "OPENAI_API_KEY", concurrency: int = 4, timeout_s: float = 120.0,
                 max_retries: int = 5, backoff_base_s: float = 1.0, backoff_max_s: float = 30.0,
                 retry_after_max_s: float = 120.0, transport: httpx.AsyncBaseTransport | None = None):
        super().__init__()
        if concurrency < 1:
            raise ConfigError("must be at least 1", field="teacher.concurrency")
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.api_key_env = api_key_env
        self.concurrency = concurrency
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.retry_after_max_s = retry_after_max_s
        self.transport = transport

    @classmethod
    def from_config(cls, cfg: Any) -> OpenAIBackend:
        return cls(cfg.model, cfg.base_url, api_key_env=cfg.api_key_env, concurrency=cfg.concurrency,
                   timeout_s=cfg.timeout_s, max_retries=cfg.max_retries, backoff_base_s=cfg.backoff_base_s,
                   backoff_max_s=cfg.backoff_max_s)

    def identity(self) -> dict[str, Any]:
        return {"backend": self.name, "model": self.model}

    def describe(self) -> dict[str, Any]:
        return {**self.identity(), "base_url": self.base_url}

    def _headers(self) -> dict[str, str]:
        key = os.environ.get(self.api_key_env) if self.api_key_env else None
        return {"Authorization": f"Bearer {key}"} if key else {}

    def _payload(self, request: GenerationRequest) -> tuple[str, dict[str, Any]]:
        p = request.params
        body: dict[str, Any] = {"model": self.model, "max_tokens": p.max_new_tokens, "temperature": p.temperature,
                                "top_p": p.top_p, "seed": request.seed}
        if request.prompt.stop:
            body["stop"] = list(request.prompt.stop)
        if request.prompt.style == "chat":
            return "/chat/completions", {**body, "messages": request.prompt.chat_messages()}
        return "/completions", {**body, "prompt": request.prompt.text}

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        """Wait before try ``attempt + 1``: capped exponential with jitter, at least what Retry-After asks."""
        delay = min(self.backoff_max_s, self.backoff_base_s * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.retry_after_max_s))
        return delay

    async def _try_once(self, client: httpx.AsyncClient, request: GenerationRequest) -> GenerationOutcome:
        path, body = self._payload(request)
        start = time.perf_counter()
        try:
            response = await client.post(path, json=body)
        except httpx.TimeoutException as err:
            raise _Retryable("timeout", f"timed out after {self.timeout_s:g}s ({type(err).__name__})") from None
        except httpx.TransportError as err:
            raise _Retryable("connection", f"connection error: {type(err).__name__}: {err}") from None
        latency = time.perf_counter() - start
        status = response.status_code
        if status in FATAL_STATUS:
            raise _Fatal(f"{self.base_url}{path} answered {status} {FATAL_STATUS[status]}: {response.text[:200]}")
        if status in RETRY_STATUS:
            raise _Retryable(f"http_{status}", f"HTTP {status}: {response.text[:200]}",
                             parse_retry_after(response.headers.get("retry-after")))
        if status >= 400:
            return GenerationOutcome(request=request, text=None, error=f"HTTP {status}: {response.text[:300]}",
                                     latency_s=latency)
        try:
            data = response.json()
            choice = data["choices"][0]
            text = choice["message"]["content"] if request.prompt.style == "chat" else choice["text"]
            if not isinstance(text, str):
                raise TypeError(f"answer is {type(text).__name__}, not a string")
        except (ValueError, KeyError, IndexError, TypeError) as err:
            raise _Retryable("malformed", f"malformed response ({type(err).__name__}: {err}): "
                                          f"{response.text[:200]!r}") from None
        usage = data.get("usage") or {}
        return GenerationOutcome(request=request, text=text, latency_s=latency,
                                 prompt_tokens=usage.get("prompt_tokens"),
                                 completion_tokens=usage.get("completion_tokens"),
                                 finish_reason=choice.get("finish_reason"),
                                 meta={"response_id": data.get("id"), "served_model": data.get("model")})

    async def _answer(self, client: httpx.AsyncClient, request: GenerationRequest) -> GenerationOutcome:
        attempt = 0
        while True:
            attempt += 1
            self.stats.attempts += 1
            try:
                outcome = await self._try_once(client, request)
            except _Retryable as err:
                if attempt > self.max_retries:
                    return GenerationOutcome(request=request, text=None, attempts=attempt,
                                             error=f"retries exhausted after {attempt} tries; last: {err}")
                self.stats.retries += 1
                self.stats.retry_reasons[err.reason] += 1
                await asyncio.sleep(self.backoff(attempt, err.retry_after))
                continue
            outcome.attempts = attempt
            return outcome

    async def _run(self, requests: Sequence[GenerationRequest], on_outcome: OutcomeSink) -> None:
        queue: asyncio.Queue[GenerationRequest] = asyncio.Queue()
        for request in requests:
            queue.put_nowait(request)
        fatal: list[str] = []

        async def worker(client: httpx.AsyncClient) -> None:
            while not fatal:
                try:
                    request = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                try:
                    outcome = await self._answer(client, request)
                except _Fatal as err:
                    fatal.append(str(err))
                    return
                on_outcome(outcome)

        timeout = httpx.Timeout(self.timeout_s, connect=min(10.0, self.timeout_s))
        limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
        async with httpx.AsyncClient(base_url=self.base_url, headers=self._headers(), timeout=timeout,
                                     limits=limits, transport=self.transport) as client:
            await asyncio.gather(*(worker(client) for _ in range(min(self.concurrency, len(requests)))))
        if fatal:
            raise ConfigError(f"teacher server error, run stopped (answers so far are kept): {fatal[0]}",
                              field="teacher.base_url")

    def generate(self, requests: Sequence[GenerationRequest], on_outcome: OutcomeSink) -> None:
        if requests:
            asyncio.run(self._run(requests, on_outcome))
