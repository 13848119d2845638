"""Report formats, one module per format; each renders rows to a string."""

from __future__ import annotations

from depaudit.reports.base import CSV_COLUMNS, Report, ReportRow


def report_for(name: str) -> Report:
    """The report class for a ``--format`` value (imported lazily)."""
    if name == "csv":
        from depaudit.reports.csv_report import CsvReport

        return CsvReport()
    if name == "json":
        from depaudit.reports.json_report import JsonReport

        return JsonReport()
    if name == "markdown":
        from depaudit.reports.markdown_report import MarkdownReport

        return MarkdownReport()
    if name == "sarif":
        from depaudit.reports.sarif_report import SarifReport

        return SarifReport()
    raise ValueError(f"unknown report format {name!r}")


__all__ = ["CSV_COLUMNS", "Report", "ReportRow", "report_for"]
