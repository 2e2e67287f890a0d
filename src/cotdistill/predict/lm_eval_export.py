"""An lm-evaluation-harness task that scores a trained student the way cotdistill's label-first evaluation does.

For each question the task holds the exact prompt the student is asked (its variant's prompt in its recorded
prompt format) and, as choices, the label texts the evaluation scores after it (choice texts or letters), without
their leading space: the task's ``target_delimiter`` is that space, so lm-eval scores the same continuation and
its ``acc_norm`` divides by the same character count as cotdistill's (which does not count the delimiter).
lm-eval's ``acc`` is then cotdistill's label-first ``accuracy`` and its ``acc_norm`` cotdistill's ``acc_norm``
(with ``normalisation: chars``), computed by another code base: a cross-check of the numbers.

Written into the export directory: ``<name>.yaml`` (the task, reading its data with the ``json`` loader) and
``<name>.jsonl`` (one line per question: ``id``, ``prompt``, ``choices``, ``gold`` as an index).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from cotdistill.data.example import Example
from cotdistill.errors import ConfigError, DataError
from cotdistill.evaluate.api import trained_variant_config

_TASK_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")


def lm_eval_task_config(name: str, data_file: Path) -> dict[str, Any]:
    """The lm-eval task YAML: multiple choice over the exported prompts and label texts."""
    return {
        "task": name,
        "dataset_path": "json",
        "dataset_kwargs": {"data_files": {"test": str(data_file.resolve())}},
        "test_split": "test",
        "output_type": "multiple_choice",
        "doc_to_text": "prompt",
        "doc_to_choice": "choices",
        "doc_to_target": "gold",
        "target_delimiter": " ",
        "metric_list": [{"metric": "acc", "aggregation": "mean", "higher_is_better": True},
                        {"metric": "acc_norm", "aggregation": "mean", "higher_is_better": True}],
        "metadata": {"version": 1.0},
    }


def lm_eval_records(examples: list[Example], metadata: dict[str, Any], student_dir: Path) -> list[dict[str, Any]]:
    """One record per labeled example: the student's prompt, the scored label texts, the gold index."""
    variant_cfg = trained_variant_config(metadata, student_dir)
    variant, prompt_format = variant_cfg.build_variant(), variant_cfg.prompt_format()
    records = []
    for ex in examples:
        if ex.answer is None:
            raise DataError(f"example '{ex.id}' has no gold label; lm-eval needs one to score accuracy",
                            field="answer")
        texts = [prompt_format.label_text(ex, label) for label in ex.labels]
        if any(not t.startswith(" ") or not t[1:] for t in texts):
            raise DataError(f"example '{ex.id}' has a choice whose label text is empty", field="choices")
        records.append({"id": ex.id, "prompt": variant.eval_prompt(ex, prompt_format),
                        "choices": [t[1:] for t in texts], "gold": ex.labels.index(ex.answer)})
    return records


def export_lm_eval_task(student_dir: str | Path, examples: list[Example], out_dir: str | Path, name: str, *,
                        overwrite: bool = False) -> Path:
    """Write ``<name>.yaml`` and ``<name>.jsonl`` into ``out_dir``; returns the YAML's path."""
    from cotdistill.models import read_metadata

    student_dir, out_dir = Path(student_dir), Path(out_dir)
    if not set(name) <= _TASK_NAME_CHARS or not name:
        raise ConfigError(f"task name '{name}' must be lower-case letters, digits and underscores", field="--name")
    if not student_dir.is_dir():
        raise DataError("trained student directory not found", path=student_dir)
    metadata = read_metadata(student_dir)
    if metadata is None:
        raise DataError("no cotdistill.json here; not a cotdistill training directory", path=student_dir)
    yaml_path, data_path = out_dir / f"{name}.yaml", out_dir / f"{name}.jsonl"
    for path in (yaml_path, data_path):
        if path.exists() and not overwrite:
            raise DataError("already exists; refusing to overwrite (choose another output or pass --overwrite)",
                            path=path)
    records = lm_eval_records(examples, metadata, student_dir)
    if not records:
        raise DataError("no examples to export")
    out_dir.mkdir(parents=True, exist_ok=True)
    data_path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    yaml_path.write_text(yaml.safe_dump(lm_eval_task_config(name, data_path), sort_keys=False, allow_unicode=True))
    return yaml_path
