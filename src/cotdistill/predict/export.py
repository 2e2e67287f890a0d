"""Export what a variant trains a student on, for trainers other than cotdistill's (TRL's ``SFTTrainer``, ...).

The instances are built exactly as ``cotdistill train`` builds them from the same run config (task, rationales,
variant, student tokenizer, seed) and written twice into the export directory:

* ``instances.jsonl``: one line per training sequence (see :func:`instance_record`);
* ``dataset/``: the same records as a ``datasets`` dataset (``datasets.load_from_disk``).

``input_ids`` and ``completion_mask`` are the exact tokens cotdistill trains on (prompt tokens masked, cut to
``train.max_length``), which is the pre-tokenized form TRL's ``SFTTrainer`` trains on with completion-only loss
as it is; ``loss_weights`` keeps cotdistill's per-token weights (``train.label_weight`` / ``rationale_weight``,
both 1 by default, when a 0/1 mask is not enough). ``prompt`` / ``completion`` and each segment's ``text`` are the
tokens decoded (special tokens such as EOS shown), for reading and for tools that want text.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from cotdistill.data.example import Example
from cotdistill.errors import ConfigError, DataError
from cotdistill.variants.base import TrainingInstance

INSTANCES_FILE = "instances.jsonl"
DATASET_DIR = "dataset"
EXPORT_METADATA_FILE = "cotdistill-export.json"


def instance_record(instance: TrainingInstance, example: Example, tokenizer: Any,
                    train_cfg: Any) -> dict[str, Any]:
    """``id``, ``prompt``, ``completion``, ``segments`` (kind, text, num_tokens each), ``label`` and
    ``label_text`` (the gold choice); ``input_ids``, ``loss_weights`` and ``completion_mask`` (1 where the weight is
    not 0) exactly as cotdistill's trainer encodes them (cut to ``train.max_length``)."""
    from cotdistill.train.batching import encode_instance

    encoded = encode_instance(instance, train_cfg)
    return {
        "id": instance.example_id,
        "prompt": tokenizer.decode(list(instance.prompt_ids)),
        "completion": tokenizer.decode(encoded["input_ids"][len(instance.prompt_ids):]),
        "segments": [{"kind": s.kind, "text": tokenizer.decode(list(s.token_ids)), "num_tokens": len(s.token_ids)}
                     for s in instance.segments],
        "label": example.answer,
        "label_text": example.answer_text,
        "input_ids": encoded["input_ids"],
        "loss_weights": encoded["loss_weights"],
        "completion_mask": [int(weight > 0) for weight in encoded["loss_weights"]],
    }


def check_export_dir(out_dir: Path, *, overwrite: bool) -> None:
    """Refuse, before any work, a directory that already holds something (unless ``overwrite``)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise DataError("exists and is not a directory", path=out_dir)
    if out_dir.is_dir() and any(out_dir.iterdir()) and not overwrite:
        raise DataError("is not empty; refusing to overwrite (choose another output directory or pass --overwrite)",
                        path=out_dir)


def write_export(records: Sequence[dict[str, Any]], out_dir: Path, metadata: dict[str, Any], *,
                 overwrite: bool = False) -> None:
    """Write ``instances.jsonl``, ``dataset/`` and ``cotdistill-export.json`` into ``out_dir``."""
    import datasets

    check_export_dir(out_dir, overwrite=overwrite)
    if not records:
        raise ConfigError("there are no training instances to export (empty task or every example filtered out)")
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_text_atomic(out_dir / INSTANCES_FILE, (json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    dataset_dir = out_dir / DATASET_DIR
    if dataset_dir.exists():
        import shutil

        shutil.rmtree(dataset_dir)
    datasets.Dataset.from_list(list(records)).save_to_disk(str(dataset_dir))
    _write_text_atomic(out_dir / EXPORT_METADATA_FILE, [json.dumps(metadata, indent=2, default=str) + "\n"])


def _write_text_atomic(path: Path, chunks: Iterable[str]) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.writelines(chunks)
    tmp.replace(path)


def export_instances(cfg: Any, out_dir: str | Path, *, overwrite: bool = False) -> int:
    """Build the training instances of ``cfg`` (a ``TrainRunConfig``) as ``cotdistill train`` would and export
    them to ``out_dir``; returns how many were written."""
    from cotdistill.keytokens import prepare_key_token_extras, variant_selector
    from cotdistill.models import load_tokenizer
    from cotdistill.train.pipeline import run_metadata, training_examples
    from cotdistill.variants import build_instances

    out_dir = Path(out_dir)
    check_export_dir(out_dir, overwrite=overwrite)
    variant = cfg.variant.build_variant()
    variant_selector(variant)  # a bad selector fails before the data and the tokenizer are loaded
    examples, rationales = training_examples(cfg, variant)
    tokenizer = load_tokenizer(cfg.student)
    extras = prepare_key_token_extras(variant, examples, rationales, tokenizer, cache_dir=cfg.keytoken_cache)
    instances = build_instances(examples, rationales, variant, tokenizer, seed=cfg.train.seed,
                                prompt_format=cfg.variant.prompt_format(), extras=extras)
    by_id = {ex.id: ex for ex in examples}
    records = [instance_record(inst, by_id[inst.example_id], tokenizer, cfg.train) for inst in instances]
    metadata = {**run_metadata(cfg, len(examples), len(instances)), "student": cfg.student.model_dump(mode="json"),
                "seed": cfg.train.seed}
    write_export(records, out_dir, metadata, overwrite=overwrite)
    return len(records)
