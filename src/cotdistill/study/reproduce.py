"""Rerun one finished study cell from its manifest and compare its accuracy with the recorded one (an untrained
cell is only re-evaluated).

A cell's manifest holds its whole resolved config (task, student, variant, training and evaluation settings,
seed), so a one-cell study rebuilt from it has the same cell key; the rerun goes to a new directory and the
recorded cell is only read. The library versions and the CPU the manifest recorded are compared with this run's: a
rerun under other versions or on another processor (bf16 kernels differ between CPUs) need not give the same
accuracy, and the result names each difference.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cotdistill.errors import CotDistillError, DataError
from cotdistill.models.device import resolve_device
from cotdistill.study.config import (StudyConfig, StudyEvalConfig, StudyStudentConfig, StudyTaskConfig,
                                     StudyVariantConfig, validate_study)
from cotdistill.study import layout
from cotdistill.study.grid import CELL_FORMAT, UNTRAINED, expand_grid, untrained_cells
from cotdistill.study.provenance import host_info, library_versions
from cotdistill.study.runner import run_study
from cotdistill.train.config import TrainConfig


@dataclass
class ReproduceResult:
    """Recorded and rerun accuracy per evaluation mode, and where the rerun is."""

    accuracy: dict[str, tuple[float, float]]
    rerun_dir: Path
    environment_changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    @property
    def identical(self) -> bool:
        return all(recorded == rerun for recorded, rerun in self.accuracy.values())


HOST_KEYS = ("cpu", "cpu_bf16", "torch_threads")


def environment_changes(manifest: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """What differs between the recorded run and this one: each library whose installed version is not the
    recorded one, and the CPU model, its bf16 instruction sets and the thread count: (recorded, here; None when
    missing). Only the libraries the manifest names are compared (older manifests name fewer); a manifest without
    a CPU (written before it was recorded) gives ("not recorded", this CPU)."""
    installed = library_versions()
    changes: dict[str, tuple[Any, Any]] = {
        name: (version, installed.get(name)) for name, version in sorted(manifest.get("versions", {}).items())
        if installed.get(name) != version}
    recorded_host = manifest.get("host", {})
    here = host_info()
    changes.update({key: (recorded_host[key], here.get(key)) for key in HOST_KEYS
                    if key in recorded_host and recorded_host[key] != here.get(key)})
    if "cpu" not in recorded_host:  # manifests before the CPU was recorded: the rerun may be on another processor
        changes["cpu"] = ("not recorded", here.get("cpu"))
    return changes


def study_config_from_manifest(manifest: dict, *, source: str, device: str = "auto") -> StudyConfig:
    """The one-cell study whose only cell has the manifest's resolved config (and therefore its key), run on
    ``device`` (a device setting: not part of a cell's config)."""
    resolved = manifest.get("config")
    if not isinstance(resolved, dict):
        raise DataError("no resolved cell config in the manifest", path=source, field="config")
    if resolved.get("format") != CELL_FORMAT:
        raise DataError(f"cell format {resolved.get('format')} was written by another cotdistill version "
                        f"(this one reads format {CELL_FORMAT})", path=source, field="config.format")
    try:
        variant = StudyVariantConfig(**resolved["variant"])
        eval_sections = resolved["eval"]
        if resolved.get("untrained"):
            # An eval-only cell: the study around it only needs what the untrained cell's key is made of.
            cfg = StudyConfig(
                name=f"reproduce {Path(source).parent.name}", tasks=[StudyTaskConfig(**resolved["task"])],
                students=[StudyStudentConfig(**resolved["student"])], variants=[variant],
                baseline=variant.name_or_label, eval=StudyEvalConfig(**eval_sections), device=device)
            validate_study(cfg, source=source)
            return cfg
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
            device=device,
        )
    except (KeyError, TypeError, ValueError) as err:
        raise DataError(f"the manifest's cell config cannot be read back: {err}", path=source,
                        field="config") from None
    validate_study(cfg, source=source)
    return cfg


def reproduce_cell(cell_dir: str | Path, output_dir: str | Path, *, device: str = "auto") -> ReproduceResult:
    """Retrain and re-evaluate the finished cell in ``cell_dir`` into the study directory ``output_dir``; its
    evaluation, key-token scorer and local teacher run on ``device`` (a device setting)."""
    resolve_device(device, field="device")  # a device that is not there fails before anything is read
    cell_dir = Path(cell_dir)
    manifest_path = cell_dir / layout.MANIFEST_FILE
    if not manifest_path.is_file():
        raise DataError(f"not a study cell (no {layout.MANIFEST_FILE})", path=cell_dir)
    if not layout.is_finished(cell_dir):
        raise DataError("the cell has not finished (no DONE file): nothing to compare with", path=cell_dir)
    if Path(output_dir).resolve() == cell_dir.parent.parent.resolve():
        raise CotDistillError("the rerun must go to another directory than the cell's own study",
                              field="--output")
    manifest = json.loads(manifest_path.read_text())
    cfg = study_config_from_manifest(manifest, source=str(manifest_path), device=device)
    untrained = bool(manifest["config"].get("untrained"))
    (cell,) = untrained_cells(cfg) if untrained else expand_grid(cfg)
    if cell.key != cell_dir.name:
        raise DataError(f"the manifest's config gives cell key {cell.key}, not the directory's {cell_dir.name} "
                        "(was the manifest edited?)", path=manifest_path, field="config")
    run_study(cfg, output_dir, config_file=str(manifest_path), live=False,
              only={"variant": [UNTRAINED]} if untrained else None)
    recorded = layout.read_accuracy(cell_dir)
    rerun_dir = layout.cell_dir(Path(output_dir), cell.key)
    rerun = layout.read_accuracy(rerun_dir)
    return ReproduceResult({mode: (float(recorded[mode]), float(rerun[mode])) for mode in recorded}, rerun_dir,
                           environment_changes(manifest))
