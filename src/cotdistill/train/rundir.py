"""The output directory of a training run: who may write into it, and the checkpoint a rerun resumes from.

A run writes ``cotdistill.json`` with ``{"finished": false, "run": identity}`` when it starts; a rerun with the same
identity (student and train configs, metadata, number of instances) resumes from the newest complete
``checkpoint-*``, anything else there is refused unless ``overwrite``.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

from transformers.trainer_utils import get_last_checkpoint

from cotdistill.errors import ConfigError
from cotdistill.models.config import StudentConfig
from cotdistill.models.metadata import read_metadata, write_metadata
from cotdistill.train.config import TrainConfig

logger = logging.getLogger(__name__)


def run_identity(student_cfg: StudentConfig, train_cfg: TrainConfig, metadata: dict[str, Any],
                 n_instances: int) -> dict[str, Any]:
    """What makes two runs the same run: an unfinished directory is resumed only by its own identity."""
    return {"student": student_cfg.model_dump(mode="json"), "train": train_cfg.model_dump(mode="json"),
            "metadata": json.loads(json.dumps(metadata, default=str)), "n_instances": n_instances}


def _is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def prepare_output_dir(output_dir: Path, identity: dict[str, Any], *, overwrite: bool) -> None:
    """Refuse to overwrite a finished run (unless asked) or a foreign directory; accept a matching unfinished one.

    Only the main process changes anything (other processes of a distributed run only refuse a finished run,
    which no one can be writing at the same time).
    """
    existing = read_metadata(output_dir)
    if existing is not None and existing.get("finished") and not overwrite:
        raise ConfigError("holds a finished training run; refusing to overwrite (choose another output "
                          "directory or pass overwrite)", path=output_dir)
    if not _is_main_process():
        return
    if existing is not None and not existing.get("finished") and existing.get("run") != identity and not overwrite:
        raise ConfigError("holds an unfinished run with a different configuration; refusing to resume or "
                          "overwrite it (choose another output directory or pass overwrite)", path=output_dir)
    if existing is None and output_dir.is_dir() and any(output_dir.iterdir()):
        raise ConfigError("exists and is not a cotdistill training directory; refusing to write into it",
                          path=output_dir)
    if existing is not None and (existing.get("finished") or existing.get("run") != identity):
        shutil.rmtree(output_dir)
        existing = None
    output_dir.mkdir(parents=True, exist_ok=True)
    if existing is None:
        write_metadata(output_dir, {"finished": False, "run": identity})


def latest_complete_checkpoint(output_dir: Path) -> str | None:
    """The newest resumable checkpoint; ones a kill interrupted while they were written are set aside first.

    transformers writes ``trainer_state.json`` last into a checkpoint, in place; without it, or with a file a kill
    cut short (it does not parse), the checkpoint is partial and ``Trainer`` cannot resume from it. It is renamed
    (``incomplete-checkpoint-N``), not deleted.
    """
    for checkpoint in sorted(output_dir.glob("checkpoint-*")):
        if checkpoint.is_dir() and not _trainer_state_is_whole(checkpoint / "trainer_state.json"):
            target = checkpoint.with_name(f"incomplete-{checkpoint.name}-{time.time_ns()}")
            try:
                checkpoint.rename(target)
            except FileNotFoundError:  # under torchrun every rank looks; another one set it aside first
                continue
            logger.warning("set aside a partially written checkpoint: %s -> %s", checkpoint, target.name)
    return get_last_checkpoint(str(output_dir))


def _trainer_state_is_whole(path: Path) -> bool:
    try:
        json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return True
