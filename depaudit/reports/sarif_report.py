"""SARIF 2.1.0 report, for GitHub code scanning and other SARIF viewers.

One run; the driver lists the rules that have results (metadata from the rule
registry, with a plain fallback for an id the registry does not know, so a report of
an older store never fails). ``shared`` findings are not results: they are what must
stay the same, not a problem. ``partialFingerprints`` carries the finding key, which is
stable across commits, so code scanning tracks one alert per finding instead of opening
a new one whenever a line moves.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import metadata
from typing import Any
from urllib.parse import quote

from depaudit.catalog import DOCS_URL_FRAGMENT, RULE_IDS, rule_info
from depaudit.reports.base import ReportRow

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
INFORMATION_URI = "https://github.com/depaudit/depaudit"
FINGERPRINT_NAME = "depauditFindingKey/v1"
LEVELS = {"high": "error", "medium": "warning", "low": "note", "info": "note"}


def tool_version() -> str:
    try:
        return metadata.version("depaudit")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def rule_descriptor(rule_id: str) -> dict[str, Any]:
    """A SARIF reportingDescriptor for ``rule_id`` from the rule registry, if it knows it."""
    descriptor: dict[str, Any] = {
        "id": rule_id,
        "helpUri": f"{INFORMATION_URI}/blob/main/{DOCS_URL_FRAGMENT}#{rule_id.lower()}",
    }
    if rule_id.upper() not in RULE_IDS:  # an id from an older store
        descriptor["shortDescription"] = {"text": f"depaudit rule {rule_id}"}
        return descriptor
    info = rule_info(rule_id)
    descriptor["name"] = "".join(w.capitalize() for w in str(info.title).split())
    descriptor["shortDescription"] = {"text": str(info.title)}
    descriptor["fullDescription"] = {"text": str(info.summary)}
    descriptor["defaultConfiguration"] = {"level": LEVELS.get(str(info.severity), "note")}
    descriptor["properties"] = {"kind": str(info.kind), "severity": str(info.severity)}
    return descriptor


def result(row: ReportRow, rule_index: int) -> dict[str, Any]:
    f = row.finding
    message = f.message or f"{f.status} {f.kind} {f.item}"
    out: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": rule_index,
        "level": LEVELS.get(f.severity, "note"),
        "message": {"text": message},
        "partialFingerprints": {FINGERPRINT_NAME: f.key},
        "properties": {
            "status": f.status,
            "kind": f.kind,
            "item": f.item,
            "severity": f.severity,
            "trainingEnv": f.training_env,
            "servingEnv": f.serving_env,
            "training": f.training,
            "serving": f.serving,
            # every pair that saw the fact; a baseline made of this report keeps them all
            "pairs": [{"training": t, "serving": s} for t, s in row.all_pairs()],
        },
    }
    if row.introduced_in:
        out["properties"]["introducedIn"] = row.introduced_in
    if f.file:
        # SARIF wants a URI reference: "ml api/app.py" becomes "ml%20api/app.py".
        physical: dict[str, Any] = {"artifactLocation": {"uri": quote(f.file)}}
        if f.line > 0:
            physical["region"] = {"startLine": f.line}
        out["locations"] = [{"physicalLocation": physical}]
    return out


class SarifReport:
    name = "sarif"

    def render(self, rows: Sequence[ReportRow]) -> str:
        reported = [r for r in rows if r.finding.status != "shared"]
        rule_ids = sorted({r.finding.rule for r in reported})
        index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
        run: dict[str, Any] = {
            "tool": {
                "driver": {
                    "name": "depaudit",
                    "version": tool_version(),
                    "informationUri": INFORMATION_URI,
                    "rules": [rule_descriptor(rule_id) for rule_id in rule_ids],
                }
            },
            "results": [result(r, index[r.finding.rule]) for r in reported],
        }
        doc = {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
