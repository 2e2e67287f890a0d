"""A SQLite store of selector scores, so a study never computes the scores of a rationale twice.

Keyed by a hash of (selector and its parameters, scorer identity and reading order, the text scored: prompt,
labels and rationale); the selector and scorer are stored in clear beside the key for inspection. Rows are only
ever added: a key's scores are a pure function of what the key hashes.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

CACHE_FILE = "keytoken_scores.sqlite"


def cache_key(selector: str, settings: dict[str, Any], scorer: dict[str, Any] | None, text: str) -> str:
    payload = json.dumps([selector, settings, scorer, text], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


class ScoreCache:
    """Scores by key in ``<directory>/keytoken_scores.sqlite``."""

    def __init__(self, directory: str | Path):
        self.path = Path(directory) / CACHE_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS scores (key TEXT PRIMARY KEY, selector TEXT, scorer TEXT, "
                       "example_id TEXT, payload TEXT)")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # Several study workers may share one cache; wait for each other's writes.
        with closing(sqlite3.connect(self.path, timeout=60)) as db, db:
            yield db

    def get_many(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        keys = list(keys)
        out: dict[str, dict[str, Any]] = {}
        with self._connect() as db:
            for start in range(0, len(keys), 500):
                chunk = keys[start:start + 500]
                marks = ",".join("?" * len(chunk))
                for key, payload in db.execute(f"SELECT key, payload FROM scores WHERE key IN ({marks})", chunk):
                    out[key] = json.loads(payload)
        return out

    def put_many(self, rows: Iterable[tuple[str, str, str, str, dict[str, Any]]]) -> None:
        """Add ``(key, selector, scorer, example_id, payload)`` rows; existing keys are kept as they are."""
        with self._connect() as db:
            db.executemany("INSERT OR IGNORE INTO scores VALUES (?, ?, ?, ?, ?)",
                           [(k, sel, sc, eid, json.dumps(p)) for k, sel, sc, eid, p in rows])

    def __len__(self) -> int:
        with self._connect() as db:
            return db.execute("SELECT COUNT(*) FROM scores").fetchone()[0]
