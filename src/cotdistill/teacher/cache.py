"""The teacher's answers in one SQLite file: content-addressed, written as they arrive, the source of truth.

Each answer is stored under the hash of what determines it -- backend identity, model, exact prompt text,
sampling parameters and sample index -- so a rerun (or another run sharing the cache) asks the teacher only
for what is missing, and nothing is ever paid for twice. Every answer is committed on arrival in WAL mode, so
killing the process (even SIGKILL) loses at most the requests in flight. Requests that exhausted their retries
are recorded separately and asked again on the next run.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cotdistill.errors import DataError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS generations (
    key TEXT PRIMARY KEY,
    backend TEXT NOT NULL,
    model TEXT NOT NULL,
    prompt TEXT NOT NULL,
    params TEXT NOT NULL,
    sample_index INTEGER NOT NULL,
    text TEXT NOT NULL,
    finish_reason TEXT,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    latency_s REAL,
    attempts INTEGER NOT NULL,
    meta TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS failures (
    key TEXT PRIMARY KEY,
    error TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    updated_at REAL NOT NULL
);
"""


#: The columns of ``generations`` in _SCHEMA, checked on opening (a file with another table is not a cache).
_GENERATION_COLUMNS = ["key", "backend", "model", "prompt", "params", "sample_index", "text", "finish_reason",
                       "prompt_tokens", "completion_tokens", "latency_s", "attempts", "meta", "created_at"]


@contextmanager
def _reading(path: Path) -> Iterator[None]:
    """A damaged cache file (truncated, overwritten, rows that are not JSON) is one error naming it."""
    try:
        yield
    except sqlite3.DatabaseError as err:
        raise DataError(f"damaged teacher cache ({err})", path=path) from None
    except json.JSONDecodeError as err:
        raise DataError(f"damaged teacher cache (a stored value is not JSON: {err.msg})", path=path) from None


def generation_key(identity: dict[str, Any], prompt: str, params: dict[str, Any], sample_index: int) -> str:
    """Content address of one teacher answer."""
    payload = json.dumps({"identity": identity, "prompt": prompt, "params": params, "sample": sample_index},
                         sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True)
class CachedGeneration:
    key: str
    backend: str
    model: str
    prompt: str
    params: dict[str, Any]
    sample_index: int
    text: str
    finish_reason: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    latency_s: float | None
    attempts: int
    meta: dict[str, Any]


class GenerationCache:
    """A single-file SQLite store of teacher answers (WAL; one commit per answer)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(str(self.path), timeout=30.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            # With WAL, NORMAL keeps every committed answer across a process crash (only an OS crash may lose
            # the last ones), at a fraction of FULL's fsync cost.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            columns = [row[1] for row in self._db.execute("PRAGMA table_info(generations)")]
        except sqlite3.DatabaseError as err:
            raise DataError(f"not a usable teacher cache ({err})", path=self.path) from None
        if columns != _GENERATION_COLUMNS:
            self._db.close()
            raise DataError(f"not a teacher cache (table 'generations' has columns {columns})", path=self.path)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> GenerationCache:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def existing_keys(self, keys: Iterable[str]) -> set[str]:
        keys = list(keys)
        found: set[str] = set()
        with _reading(self.path):
            for start in range(0, len(keys), 500):
                chunk = keys[start:start + 500]
                rows = self._db.execute(f"SELECT key FROM generations WHERE key IN ({','.join('?' * len(chunk))})",
                                        chunk)
                found.update(r[0] for r in rows)
        return found

    def put(self, gen: CachedGeneration) -> None:
        with self._db:
            self._db.execute(
                "INSERT OR IGNORE INTO generations VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (gen.key, gen.backend, gen.model, gen.prompt, json.dumps(gen.params, sort_keys=True),
                 gen.sample_index, gen.text, gen.finish_reason, gen.prompt_tokens, gen.completion_tokens,
                 gen.latency_s, gen.attempts, json.dumps(gen.meta, sort_keys=True), time.time()))
            self._db.execute("DELETE FROM failures WHERE key = ?", (gen.key,))

    def put_failure(self, key: str, error: str, attempts: int) -> None:
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO failures VALUES (?,?,?,?)", (key, error, attempts, time.time()))

    def get(self, key: str) -> CachedGeneration | None:
        with _reading(self.path):
            row = self._db.execute(
                "SELECT key, backend, model, prompt, params, sample_index, text, finish_reason, prompt_tokens, "
                "completion_tokens, latency_s, attempts, meta FROM generations WHERE key = ?", (key,)).fetchone()
            if row is None:
                return None
            return CachedGeneration(key=row[0], backend=row[1], model=row[2], prompt=row[3],
                                    params=json.loads(row[4]), sample_index=row[5], text=row[6],
                                    finish_reason=row[7], prompt_tokens=row[8], completion_tokens=row[9],
                                    latency_s=row[10], attempts=row[11], meta=json.loads(row[12]))

    def failures(self, keys: Iterable[str] | None = None) -> dict[str, str]:
        with _reading(self.path):
            rows = self._db.execute("SELECT key, error FROM failures").fetchall()
        wanted = set(keys) if keys is not None else None
        return {k: e for k, e in rows if wanted is None or k in wanted}

    def __len__(self) -> int:
        with _reading(self.path):
            return self._db.execute("SELECT COUNT(*) FROM generations").fetchone()[0]
