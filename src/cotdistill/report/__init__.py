"""Study reports: a paper-style table with CIs and significance, plots, costs, teacher audit, provenance."""

from cotdistill.report.build import ReportFiles, StudyOutputs, paper_table, write_report

__all__ = ["ReportFiles", "StudyOutputs", "paper_table", "write_report"]
