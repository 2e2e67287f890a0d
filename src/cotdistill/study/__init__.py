"""Studies: one YAML -> a grid of (task, student, variant, seed) cells, each trained and evaluated once,
with statistics (CIs over seeds and items, paired tests against a baseline) for the report."""

from cotdistill.study.config import StudyConfig, load_study_config, parse_study_config, validate_study
from cotdistill.study.grid import Cell, expand_grid
from cotdistill.study.runner import StudyRunner, run_study

__all__ = ["Cell", "StudyConfig", "StudyRunner", "expand_grid", "load_study_config", "parse_study_config",
           "run_study", "validate_study"]
