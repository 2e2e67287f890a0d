"""The metadata file of a trained student: ``cotdistill.json`` beside its weights.

It records how the student was trained (student and train configs, variant and prompt format, task, rationales,
result, loss log) and, once evaluated, its evaluations. Training writes it when a run starts (``{"finished":
false, "run": ...}``, so that a rerun can tell its own unfinished run from a foreign one) and again when the run
finishes. Every stage reads it through :func:`read_metadata`, and the prompt format a student was trained with
through :func:`recorded_prompt_format`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cotdistill.errors import DataError
from cotdistill.files import read_text, write_json_atomic

METADATA_FILE = "cotdistill.json"
#: The prompt format of a student whose metadata records none (or only part of one): labels written as the choice
#: texts, the choices listed in the prompt (the defaults of the variants' ``PromptFormat``).
DEFAULT_PROMPT_FORMAT: dict[str, Any] = {"label_style": "text", "show_choices": True}


def metadata_path(student_dir: str | Path) -> Path:
    return Path(student_dir) / METADATA_FILE


def read_metadata(student_dir: str | Path) -> dict[str, Any] | None:
    """The metadata of a training directory; ``None`` where there is no metadata file (not a training directory,
    or one whose run has not started). A file that is not a JSON object is a :class:`DataError` naming it."""
    path = metadata_path(student_dir)
    if not path.is_file():
        return None
    try:
        metadata = json.loads(read_text(path))
    except json.JSONDecodeError as err:
        raise DataError(f"not valid JSON ({err.msg})", path=path, line=err.lineno) from None
    if not isinstance(metadata, dict):
        raise DataError(f"holds a JSON {type(metadata).__name__}, not an object", path=path)
    return metadata


def write_metadata(student_dir: str | Path, record: dict[str, Any]) -> Path:
    """Write (atomically) ``record`` as the metadata of a training directory."""
    return write_json_atomic(metadata_path(student_dir), record)


def recorded_prompt_format(metadata: dict[str, Any]) -> dict[str, Any]:
    """``label_style`` and ``show_choices`` of the prompt format a student was trained with (the keyword arguments of
    ``PromptFormat``), each defaulted from :data:`DEFAULT_PROMPT_FORMAT` where its metadata records none."""
    recorded = metadata.get("prompt_format")
    recorded = recorded if isinstance(recorded, dict) else {}
    return {key: recorded.get(key, default) for key, default in DEFAULT_PROMPT_FORMAT.items()}
