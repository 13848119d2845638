"""JSON report: the CSV contract fields plus ``evidence``, as a list under ``findings``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from depaudit.reports.base import ReportRow


class JsonReport:
    name = "json"

    def render(self, rows: Sequence[ReportRow], *, meta: dict[str, Any] | None = None) -> str:
        findings = []
        for row in rows:
            data = row.contract_fields()
            data["line"] = row.finding.line or None
            data["evidence"] = row.finding.evidence
            findings.append(data)
        doc = {"version": 1, **(meta or {}), "findings": findings}
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
