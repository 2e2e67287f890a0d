"""End to end through a real OpenAI-compatible server: ``transformers serve`` with a tiny random model on 127.0.0.1.

Starting the server takes ~5-20 s; deselect with ``-m 'not server'``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import make_examples

from cotdistill.teacher import OpenAIBackend, TeachConfig, teach
from cotdistill.models.tiny import build_tiny_model

pytestmark = [pytest.mark.server, pytest.mark.extended]

CHAT_TEMPLATE = ("{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
                 "{% if add_generation_prompt %}assistant:{% endif %}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def served_tiny_model(tmp_path, tiny_tokenizer):
    model_dir = tmp_path / "tiny-teacher"
    tiny_tokenizer.chat_template = CHAT_TEMPLATE
    try:
        tiny_tokenizer.save_pretrained(model_dir)
    finally:
        tiny_tokenizer.chat_template = None
    build_tiny_model(len(tiny_tokenizer)).save_pretrained(model_dir)
    port = _free_port()
    log_path = tmp_path / "serve.log"
    exe = Path(sys.executable).with_name("transformers")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "OMP_NUM_THREADS": "1"}
    with log_path.open("w") as log:
        proc = subprocess.Popen([str(exe), "serve", str(model_dir), "--host", "127.0.0.1", "--port", str(port),
                                 "--device", "cpu", "--log-level", "info"],
                                stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"transformers serve exited with {proc.returncode}:\n{log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"transformers serve did not start in 90 s:\n{log_path.read_text()[-2000:]}")
            time.sleep(0.3)
        yield f"http://127.0.0.1:{port}/v1", str(model_dir), log_path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _posts(log_path: Path) -> int:
    return log_path.read_text().count('"POST /v1/chat/completions HTTP/1.1" 200')


def test_thirty_questions_through_transformers_serve_then_a_rerun_asks_nothing(tmp_path, served_tiny_model):
    url, model, log_path = served_tiny_model
    cfg = TeachConfig.from_dict({
        "task": {"name": "jsonl"}, "output_dir": str(tmp_path / "out"),
        "teacher": {"backend": "openai", "model": model, "base_url": url, "concurrency": 4, "timeout_s": 60,
                    "max_retries": 2},
        "prompt": {"n_shots": 1},
        "sampling": {"max_new_tokens": 8},
    })
    examples = make_examples(30)
    backend = OpenAIBackend.from_config(cfg.teacher)
    result = teach(cfg, examples=examples, backend=backend)
    assert result.stats.requested == 30 and result.stats.succeeded == 30 and result.stats.failed == 0
    assert len(result.rationales) == 30
    r = result.rationales[0]
    assert r.meta["teacher"] == {"backend": "openai", "model": model, "base_url": url}
    assert r.meta["completion_tokens"] == 8 and r.meta["prompt_tokens"] > 0
    time.sleep(0.5)  # let the server flush its access log
    assert _posts(log_path) == 30

    rerun_backend = OpenAIBackend.from_config(cfg.teacher)
    rerun = teach(cfg, examples=examples, backend=rerun_backend, overwrite=True)
    assert rerun.stats.requested == 0 and rerun.stats.cached == 30 and rerun_backend.stats.attempts == 0
    time.sleep(0.5)
    assert _posts(log_path) == 30
    assert [x.text for x in rerun.rationales] == [x.text for x in result.rationales]
