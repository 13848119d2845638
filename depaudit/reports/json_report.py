"""JSON report: the CSV contract fields plus ``evidence`` and ``pairs`` (every training x
serving pair that saw the fact: a fact several pairs of one project share is one finding),
as a list under ``findings``.

With ``pairs``, the report also says which training x serving pairs were compared and
why (``pairs``), and which environments were compared with nothing and why
(``unpaired``), so a tool reading it can tell "no finding" from "not compared".
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from depaudit.model import Pair
from depaudit.reports.base import ReportRow


class JsonReport:
    name = "json"

    def render(
        self,
        rows: Sequence[ReportRow],
        *,
        meta: dict[str, Any] | None = None,
        pairs: Sequence[Pair] | None = None,
        unpaired: Sequence[tuple[str, str]] = (),
    ) -> str:
        findings = []
        for row in rows:
            data = row.contract_fields()
            data["line"] = row.finding.line or None
            data["evidence"] = row.finding.evidence
            data["pairs"] = [{"training": t, "serving": s} for t, s in row.all_pairs()]
            findings.append(data)
        doc: dict[str, Any] = {"version": 1, **(meta or {})}
        if pairs is not None:
            doc["pairs"] = [
                {
                    "training": p.training,
                    "serving": p.serving,
                    "project": p.project,
                    "reason": p.reason,
                }
                for p in pairs
            ]
            doc["unpaired"] = [{"environment": env, "why": why} for env, why in unpaired]
        doc["findings"] = findings
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
