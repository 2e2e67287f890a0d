"""JSON-lines files read record by record, with errors naming file and line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cotdistill.errors import DataError
from cotdistill.files import read_text


def parse_json_line(line: str, source: str | Path, lineno: int) -> dict[str, Any] | None:
    """One line of a JSON-lines file as a dict; None for a blank line; else a one-line error naming file:line."""
    if not line.strip():
        return None
    try:
        rec = json.loads(line)
    except (json.JSONDecodeError, RecursionError) as err:
        raise DataError(f"unparseable JSON ({getattr(err, 'msg', 'nested too deeply')})", path=source,
                        line=lineno) from None
    if not isinstance(rec, dict):
        raise DataError("each line must be a JSON object", path=source, line=lineno)
    return rec


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, record)`` of every non-blank line; each line must be a JSON object. A file without any
    record is an error: a reader never returns nothing silently."""
    # Split on "\n" only: JSON strings may hold U+2028 and other characters str.splitlines() breaks at.
    lines = read_text(path).split("\n")
    found = False
    for lineno, line in enumerate(lines, 1):
        rec = parse_json_line(line, path, lineno)
        if rec is None:
            continue
        found = True
        yield lineno, rec
    if not found:
        raise DataError("no records (the file is empty)", path=path)
