"""JSON-lines files read record by record, with errors naming file and line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cotdistill.errors import DataError


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, record)`` of every non-blank line; each line must be a JSON object."""
    if not path.is_file():
        raise DataError("file not found", path=path)
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as err:
                raise DataError(f"unparseable JSON ({err.msg})", path=path, line=lineno) from None
            if not isinstance(rec, dict):
                raise DataError("each line must be a JSON object", path=path, line=lineno)
            yield lineno, rec
