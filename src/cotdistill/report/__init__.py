"""Study reports: a paper-style table with CIs and significance, plots, costs, teacher audit, provenance."""

from cotdistill.report.build import ReportFiles, write_report
from cotdistill.report.outputs import StudyOutputs
from cotdistill.report.tables import paper_table

__all__ = ["ReportFiles", "StudyOutputs", "paper_table", "write_report"]
