"""The OpenAI-compatible backend against a local scripted server that fails on purpose."""

from __future__ import annotations

import json

import pytest
from conftest import make_examples

from cotdistill.errors import ConfigError
from cotdistill.teacher import OpenAIBackend, TeachConfig, teach
from cotdistill.teacher.backends.openai_http import parse_retry_after


def _cfg(tmp_path, url: str, **teacher) -> TeachConfig:
    return TeachConfig.from_dict({
        "task": {"name": "jsonl"}, "output_dir": str(tmp_path / "out"),
        "teacher": {"backend": "openai", "model": "scripted", "base_url": url, **teacher},
        "sampling": {"max_new_tokens": 16},
    })


def _backend(url: str, **kw) -> OpenAIBackend:
    defaults = dict(concurrency=4, timeout_s=0.5, max_retries=3, backoff_base_s=0.01, backoff_max_s=0.05)
    return OpenAIBackend("scripted", url, **{**defaults, **kw})


# Question i % 6 decides the fault of its first try: none, 500, 429 (+Retry-After), malformed JSON, a hang past
# the client timeout, a 200 without choices. Question 23 fails (503) on every try.
ALWAYS_FAILING = 23


def _faults(i: int, k: int):
    if i == ALWAYS_FAILING:
        return (503, {}, b"overloaded")
    if k > 1:
        return None
    return [None,
            (500, {}, b"internal error"),
            (429, {"Retry-After": "0.3"}, b"slow down"),
            (200, {"Content-Type": "application/json"}, b'{"choices": [{"message": '),
            2.0,
            (200, {"Content-Type": "application/json"}, b'{"id": "x", "choices": []}')][i % 6]


def test_fault_injection_completes_counts_retries_reports_exhausted_and_keeps_work(tmp_path, scripted_server):
    server = scripted_server(_faults)
    examples = make_examples(30)
    cfg = _cfg(tmp_path, server.url)
    backend = _backend(server.url)
    result = teach(cfg, examples=examples, backend=backend)

    stats = result.stats
    assert stats.succeeded == 29 and stats.failed == 1
    assert [e["id"] for e in stats.exhausted] == [f"q{ALWAYS_FAILING}"]
    assert "retries exhausted after 4 tries" in stats.exhausted[0]["error"]
    faulted = [i for i in range(30) if i != ALWAYS_FAILING and i % 6 != 0]
    assert stats.retries == len(faulted) + 3
    reasons = stats.retry_reasons
    n_of = {r: sum(1 for i in faulted if i % 6 == r) for r in range(1, 6)}
    assert reasons["http_500"] == n_of[1]
    assert reasons["http_429"] == n_of[2]
    assert reasons["malformed"] == n_of[3] + n_of[5]
    assert reasons["timeout"] == n_of[4]
    assert reasons["http_503"] == 3
    # Retry-After: 0.3 was honoured although the backoff alone would be <= 0.05 s.
    times = {(i, k): t for i, k, t in server.log}
    for i in (i for i in faulted if i % 6 == 2):
        assert times[(i, 2)] - times[(i, 1)] >= 0.29
    # Completed work is kept: 29 rationales written, the failure recorded in the audit and the cache.
    written = [json.loads(line) for line in result.rationales_path.read_text().splitlines()]
    assert len(written) == 29 and f"q{ALWAYS_FAILING}" not in {r["id"] for r in written}
    audit = json.loads(result.audit_path.read_text())
    assert audit["status_counts"]["failed"] == 1
    assert audit["run"]["retries"] == stats.retries

    # A rerun asks only for the failed question (now answered): no completed answer is paid for twice.
    before = len(server.log)
    server.behaviour = lambda i, k: None
    rerun = teach(cfg, examples=examples, backend=_backend(server.url), overwrite=True)
    assert rerun.stats.requested == 1 and rerun.stats.cached == 29
    assert [i for i, _, _ in server.log[before:]] == [ALWAYS_FAILING]
    assert len(rerun.rationales) == 30


def test_unauthorized_stops_the_run_with_one_clear_error_and_keeps_answers(tmp_path, scripted_server):
    server = scripted_server(lambda i, k: (401, {}, b"bad key") if i >= 3 else None)
    cfg = _cfg(tmp_path, server.url)
    with pytest.raises(ConfigError, match="401 unauthorized"):
        teach(cfg, examples=make_examples(12), backend=_backend(server.url, concurrency=1))
    # Answers obtained before the stop are in the cache; nothing was exported.
    assert not (tmp_path / "out" / "rationales.jsonl").exists()
    server.behaviour = lambda i, k: None
    before = len(server.log)
    result = teach(cfg, examples=make_examples(12), backend=_backend(server.url, concurrency=1))
    assert result.stats.cached == 3 and sorted(i for i, _, _ in server.log[before:]) == list(range(3, 12))


def test_api_key_comes_from_the_named_environment_variable_only(monkeypatch):
    backend = OpenAIBackend("m", api_key_env="MY_TEACHER_KEY")
    monkeypatch.delenv("MY_TEACHER_KEY", raising=False)
    assert backend._headers() == {}
    monkeypatch.setenv("MY_TEACHER_KEY", "sk-test")
    assert backend._headers() == {"Authorization": "Bearer sk-test"}


def test_backoff_grows_exponentially_with_jitter_and_honours_retry_after():
    backend = OpenAIBackend("m", backoff_base_s=1.0, backoff_max_s=8.0)
    for attempt, cap in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (6, 8.0)]:
        waits = [backend.backoff(attempt, None) for _ in range(50)]
        assert all(cap / 2 <= w <= cap for w in waits) and len(set(waits)) > 1
    assert backend.backoff(1, 5.0) >= 5.0
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("soon") is None
