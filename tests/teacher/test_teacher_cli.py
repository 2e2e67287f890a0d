"""``cotdistill teach`` as a user runs it: killed mid-run with SIGKILL and resumed; errors as one line."""

from __future__ import annotations

import pytest

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter

import yaml
from conftest import make_examples

from cotdistill.cli.main import main
from cotdistill.data.rationale import read_rationales


def _write_task(path, n: int) -> None:
    with path.open("w") as fh:
        for ex in make_examples(n):
            fh.write(json.dumps({"id": ex.id, "question": ex.question, "choices": ex.choices,
                                 "answer": ex.answer}) + "\n")


def _cached_keys(cache) -> set[str]:
    if not cache.exists():
        return set()
    try:
        with sqlite3.connect(f"file:{cache}?mode=ro", uri=True, timeout=5) as db:
            return {row[0] for row in db.execute("SELECT key FROM generations")}
    except sqlite3.OperationalError:  # the schema is not created yet
        return set()


def _asked(log) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.mark.extended  # kills and restarts real processes: CI runs it after the default suite
def test_sigkill_mid_run_then_rerun_answers_every_question_exactly_once(tmp_path):
    n = 30
    task = tmp_path / "questions.jsonl"
    _write_task(task, n)
    log = tmp_path / "asked.jsonl"
    out = tmp_path / "out"
    cache = out / "teacher_cache.sqlite"
    config = tmp_path / "teach.yaml"
    config.write_text(yaml.safe_dump({
        "task": {"name": "jsonl", "split": "train", "path": str(task)},
        "teacher": {"backend": "fake", "model": "slow-fake", "fake": {"delay_s": 0.15, "request_log": str(log)}},
        "output_dir": str(out),
    }))
    cmd = [sys.executable, "-m", "cotdistill.cli.main", "teach", "--config", str(config), "--quiet"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}

    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(_cached_keys(cache)) < 8:
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "the first run made no progress"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL

    done_before = _cached_keys(cache)
    asked_first = _asked(log)
    assert 8 <= len(done_before) < n
    assert not (out / "rationales.jsonl").exists()  # outputs are written only at the end
    # Every answer the teacher gave was kept, except at most the one in flight when the process died.
    assert len({a["key"] for a in asked_first} - done_before) <= 1

    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    asked_second = _asked(log)[len(asked_first):]
    keys_second = [a["key"] for a in asked_second]
    assert len(keys_second) == len(set(keys_second))          # none asked twice within the rerun
    assert not set(keys_second) & done_before                 # nothing kept was asked again
    assert len(done_before) + len(keys_second) == n
    assert "requests: new / from cache / failed" in rerun.stdout
    stored = read_rationales(out / "rationales.jsonl")        # the output file is valid
    assert sorted(stored) == sorted(f"q{i}" for i in range(n))
    assert Counter(r.meta["cache_key"] for r in stored.values()).most_common(1)[0][1] == 1
    audit = json.loads((out / "audit.json").read_text())
    assert audit["run"]["requested"] == len(keys_second) and audit["run"]["cached"] == len(done_before)


def test_cli_errors_are_one_line_with_exit_code_2(tmp_path, capsys):
    task = tmp_path / "questions.jsonl"
    _write_task(task, 3)
    base = ["teach", "--task", "jsonl", "--task-path", str(task), "--backend", "fake", "-o", str(tmp_path / "o")]
    assert main(base + ["--quiet"]) == 0
    capsys.readouterr()
    assert main(base) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "rationales.jsonl: already exists" in err
    assert main(base + ["--overwrite", "--mode", "socratic"]) == 2
    assert "prompt.mode" in capsys.readouterr().err
    assert main(base + ["--overwrite", "--backend", "carrier-pigeon"]) == 2
    assert "unknown teacher backend 'carrier-pigeon'" in capsys.readouterr().err
