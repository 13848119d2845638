"""CSV report: RFC 4180, UTF-8, a header row, one row per finding (DESIGN.md §6)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from depaudit.reports.base import CSV_COLUMNS, ReportRow


class CsvReport:
    name = "csv"

    def render(self, rows: Sequence[ReportRow]) -> str:
        buf = io.StringIO()
        # RFC 4180 wants CRLF line ends; csv's default dialect writes them.
        writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(row.contract_fields())
        return buf.getvalue()
