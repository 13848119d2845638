"""CSV report: RFC 4180, UTF-8, a header row, one row per fact (DESIGN.md §6).

The columns are the contract's, then ``pairs``: the training x serving pairs that saw the
row's fact ("; "-separated). A fact several pairs of one project share is one row.

Cells come from the audited repository (package names, config values, commands, commit
subjects), which anyone who can open a pull request writes. A spreadsheet runs a cell
that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (``=HYPERLINK(...)``,
``=cmd|'/c calc'!A1``), and some also after a leading tab or carriage return. Following
OWASP's advice on CSV injection, such a cell is written with a single quote in front:
spreadsheets show the text, nothing runs. Only the CSV is changed; JSON and the other
formats carry the values as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from depaudit.reports.base import CSV_COLUMNS, PAIRS_COLUMN, ReportRow

# First characters that make a spreadsheet read a cell as a formula (OWASP "CSV
# Injection"; NUL as in OWASP ASVS 5, V1.2.10).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\x00")


def neutralise(cell: Any) -> Any:
    """``'=SUM(1)`` for ``=SUM(1)``; other cells, and every non-text cell, unchanged."""
    if isinstance(cell, str) and cell.startswith(FORMULA_TRIGGERS):
        return "'" + cell
    return cell


def csv_text(columns: Sequence[str], records: Iterable[Mapping[str, Any]]) -> str:
    """RFC 4180 CSV (CRLF, minimal quoting) of ``records``, formula cells neutralised."""
    buf = io.StringIO()
    # RFC 4180 wants CRLF line ends; csv's default dialect writes them.
    writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\r\n")
    writer.writeheader()
    for record in records:
        writer.writerow({key: neutralise(value) for key, value in record.items()})
    return buf.getvalue()


class CsvReport:
    name = "csv"

    def render(self, rows: Sequence[ReportRow]) -> str:
        records = ({**row.contract_fields(), PAIRS_COLUMN: row.pairs_text()} for row in rows)
        return csv_text((*CSV_COLUMNS, PAIRS_COLUMN), records)
