"""Teacher rationales keyed by example id, and their JSONL store."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cotdistill.data.jsonl import read_jsonl
from cotdistill.errors import DataError
from cotdistill.files import write_text_atomic


@dataclass(frozen=True)
class Rationale:
    """A teacher's chain-of-thought for one example.

    ``text`` is the rationale as trained on; ``teacher_label`` is the answer the teacher stated (parsed from
    its output; ``None`` if it stated none), kept so filters can drop or relabel examples the teacher got
    wrong; ``source`` names the teacher or file it came from; ``meta`` holds provenance (prompt, sampling
    parameters, raw text, latency, ...).
    """

    id: str
    text: str
    teacher_label: str | None = None
    source: str = ""
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def write_rationales(path: str | Path, rationales: Iterable[Rationale], *, overwrite: bool = False) -> Path:
    """Write a rationale store (JSONL, one record per line). Refuses to overwrite unless asked."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise DataError("already exists; refusing to overwrite (choose another path or pass overwrite)", path=path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_text_atomic(path, "".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in rationales))


def read_rationales(path: str | Path) -> dict[str, Rationale]:
    """Read a rationale store; errors name file:line:field."""
    path = Path(path)
    if not path.is_file():
        raise DataError("rationale file not found", path=path)
    out: dict[str, Rationale] = {}
    for lineno, rec in read_jsonl(path):
        for key in ("id", "text"):
            if key not in rec:
                raise DataError("missing", path=path, line=lineno, field=key)
        for key, kinds, what in (("id", (str, int), "a string"), ("text", str, "a string"),
                                 ("teacher_label", (str, type(None)), "a string or null"),
                                 ("source", str, "a string"), ("meta", (dict, type(None)), "a mapping")):
            if key in rec and (not isinstance(rec[key], kinds) or isinstance(rec[key], bool)):
                raise DataError(f"must be {what}, got {type(rec[key]).__name__}", path=path, line=lineno,
                                field=key)
        if str(rec["id"]).strip() == "":
            raise DataError("empty id", path=path, line=lineno, field="id")
        rid = str(rec["id"])
        if rid in out:
            raise DataError(f"duplicate id '{rid}'", path=path, line=lineno, field="id")
        out[rid] = Rationale(id=rid, text=rec["text"], teacher_label=rec.get("teacher_label"),
                             source=rec.get("source", ""), meta=rec.get("meta") or {})
    return out
