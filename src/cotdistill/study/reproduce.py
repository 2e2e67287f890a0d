"""Rerun one finished study cell from its manifest and compare its accuracy with the recorded one.

A cell's manifest holds its whole resolved config (task, student, variant, training and evaluation settings,
seed), so a one-cell study rebuilt from it has the same cell key; the rerun goes to a new directory and the
recorded cell is only read. The library versions the manifest recorded are compared with the installed ones: a
rerun under other versions (a newer transformers, say) need not give the same accuracy, and the result says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from cotdistill.errors import CotDistillError, DataError
from cotdistill.study.config import (StudyConfig, StudyEvalConfig, StudyStudentConfig, StudyTaskConfig,
                                     StudyVariantConfig, validate_study)
from cotdistill.study.runner import CELL_FORMAT, DONE_FILE, expand_grid, library_versions, run_study
from cotdistill.train.config import TrainConfig


@dataclass
class ReproduceResult:
    """Recorded and rerun accuracy per evaluation mode, and where the rerun is."""

    accuracy: dict[str, tuple[float, float]]
    rerun_dir: Path
    version_changes: dict[str, tuple[str, str | None]] = field(default_factory=dict)

    @property
    def identical(self) -> bool:
        return all(recorded == rerun for recorded, rerun in self.accuracy.values())


def version_changes(recorded: dict[str, str]) -> dict[str, tuple[str, str | None]]:
    """Libraries whose installed version is not the one the manifest recorded: (recorded, installed or None).
    Only libraries the manifest names are compared (older manifests record fewer)."""
    installed = library_versions()
    return {name: (version, installed.get(name)) for name, version in sorted(recorded.items())
            if installed.get(name) != version}


def study_config_from_manifest(manifest: dict, *, source: str) -> StudyConfig:
    """The one-cell study whose only cell has the manifest's resolved config (and therefore its key)."""
    resolved = manifest.get("config")
    if not isinstance(resolved, dict):
        raise DataError("no resolved cell config in the manifest", path=source, field="config")
    if resolved.get("format") != CELL_FORMAT:
        raise DataError(f"cell format {resolved.get('format')} was written by another cotdistill version "
                        f"(this one reads format {CELL_FORMAT})", path=source, field="config.format")
    try:
        variant = StudyVariantConfig(**resolved["variant"])
        eval_sections = resolved["eval"]
        cfg = StudyConfig(
            name=f"reproduce {Path(source).parent.name}",
            tasks=[StudyTaskConfig(**resolved["task"])],
            students=[StudyStudentConfig(**resolved["student"])],
            variants=[variant],
            seeds=[resolved["seed"]],
            baseline=variant.name_or_label,
            train=TrainConfig(**resolved["train"]),
            eval=StudyEvalConfig(**eval_sections,
                                 reasoning_first_for_all="reasoning_first" in eval_sections
                                 and variant.build_variant().answer_first),
        )
    except (KeyError, TypeError, ValueError) as err:
        raise DataError(f"the manifest's cell config cannot be read back: {err}", path=source,
                        field="config") from None
    validate_study(cfg, source=source)
    return cfg


def reproduce_cell(cell_dir: str | Path, output_dir: str | Path) -> ReproduceResult:
    """Retrain and re-evaluate the finished cell in ``cell_dir`` into the study directory ``output_dir``."""
    cell_dir = Path(cell_dir)
    manifest_path = cell_dir / "manifest.json"
    done_path = cell_dir / DONE_FILE
    if not manifest_path.is_file():
        raise DataError("not a study cell (no manifest.json)", path=cell_dir)
    if not done_path.is_file():
        raise DataError("the cell has not finished (no DONE file): nothing to compare with", path=cell_dir)
    if Path(output_dir).resolve() == cell_dir.parent.parent.resolve():
        raise CotDistillError("the rerun must go to another directory than the cell's own study",
                              field="--output")
    manifest = json.loads(manifest_path.read_text())
    cfg = study_config_from_manifest(manifest, source=str(manifest_path))
    (cell,) = expand_grid(cfg)
    if cell.key != cell_dir.name:
        raise DataError(f"the manifest's config gives cell key {cell.key}, not the directory's {cell_dir.name} "
                        "(was the manifest edited?)", path=manifest_path, field="config")
    run_study(cfg, output_dir, config_file=str(manifest_path), live=False)
    recorded = json.loads(done_path.read_text())["accuracy"]
    rerun_dir = Path(output_dir) / "cells" / cell.key
    rerun = json.loads((rerun_dir / DONE_FILE).read_text())["accuracy"]
    return ReproduceResult({mode: (float(recorded[mode]), float(rerun[mode])) for mode in recorded}, rerun_dir,
                           version_changes(manifest.get("versions", {})))
