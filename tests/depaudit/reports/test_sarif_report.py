"""SARIF output, validated against a hand-written subset of the SARIF 2.1.0 schema.

The official schema (sarif-schema-2.1.0.json) cannot be downloaded here (no network),
so tests/depaudit/reports/data/ vendors a minimal schema with the spec's required
properties and the enums of the fields depaudit writes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from depaudit.model import Finding
from depaudit.reports import report_for
from depaudit.reports.base import ReportRow
from depaudit.reports.sarif_report import SarifReport

SCHEMA = json.loads(
    (Path(__file__).parent / "data" / "sarif-2.1.0-minimal.schema.json").read_text("utf-8")
)


def finding(**kw: Any) -> Finding:
    base: dict[str, Any] = dict(
        status="leftover",
        kind="config",
        item="SNOWFLAKE_PASSWORD",
        severity="high",
        rule="DA301",
        message="training credential SNOWFLAKE_PASSWORD in serving config.",
        training_env="training",
        serving_env="serving",
        serving="***masked:1a2b3c4d***",
        file="serving/.env",
        line=4,
    )
    base.update(kw)
    return Finding(**base)


def render(*findings: Finding) -> dict[str, Any]:
    text = SarifReport().render([ReportRow(f, repo="r", commit="c" * 40) for f in findings])
    doc = json.loads(text)
    jsonschema.validate(doc, SCHEMA)
    return doc  # type: ignore[no-any-return]


def test_structure_and_levels() -> None:
    doc = render(
        finding(),
        finding(rule="DA102", kind="package", item="numpy", severity="medium", status="drift"),
        finding(rule="DA205", kind="code", item="requests", severity="low", status="serving_only"),
        finding(
            rule="DA404", kind="network", item="example.com", severity="info", status="serving_only"
        ),
    )
    assert doc["version"] == "2.1.0"
    assert doc["$schema"].endswith("sarif-2.1.0.json")
    (run,) = doc["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "depaudit"
    assert driver["version"]
    assert driver["informationUri"].startswith("https://")
    assert [r["id"] for r in driver["rules"]] == ["DA102", "DA205", "DA301", "DA404"]
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    assert levels == {"DA301": "error", "DA102": "warning", "DA205": "note", "DA404": "note"}
    for res in run["results"]:
        assert driver["rules"][res["ruleIndex"]]["id"] == res["ruleId"]


def test_location_region_and_fingerprint() -> None:
    f = finding()
    (res,) = render(f)["runs"][0]["results"]
    loc = res["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "serving/.env"
    assert loc["region"] == {"startLine": 4}
    assert res["partialFingerprints"] == {"depauditFindingKey/v1": f.key}
    assert res["message"]["text"] == f.message


def test_fingerprint_stable_when_line_moves() -> None:
    a = render(finding(line=4))["runs"][0]["results"][0]["partialFingerprints"]
    b = render(finding(line=40))["runs"][0]["results"][0]["partialFingerprints"]
    assert a == b


def test_line_zero_has_no_region_and_no_file_no_location() -> None:
    (res,) = render(
        finding(rule="DA501", kind="runtime", item="python", file="Dockerfile", line=0)
    )["runs"][0]["results"]
    assert "region" not in res["locations"][0]["physicalLocation"]
    (res,) = render(finding(file="", line=0))["runs"][0]["results"]
    assert "locations" not in res


def test_shared_findings_are_not_results() -> None:
    doc = render(finding(status="shared", rule="DA104", severity="info"), finding())
    results = doc["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["DA301"]
    assert [r["id"] for r in doc["runs"][0]["tool"]["driver"]["rules"]] == ["DA301"]


def test_unknown_rule_id_still_renders() -> None:
    doc = render(finding(rule="DA999"))
    (rule,) = doc["runs"][0]["tool"]["driver"]["rules"]
    assert rule["id"] == "DA999"
    assert rule["shortDescription"]["text"]


def test_path_with_space_is_a_uri_reference() -> None:
    (res,) = render(finding(file="ml api/app config.yaml"))["runs"][0]["results"]
    assert (
        res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        == "ml%20api/app%20config.yaml"
    )


def test_empty_report_is_valid() -> None:
    doc = render()
    assert doc["runs"][0]["results"] == []


def test_secret_never_unmasked() -> None:
    text = SarifReport().render([ReportRow(finding())])
    assert "***masked:1a2b3c4d***" in text


def test_schema_rejects_a_broken_document() -> None:
    # guards the vendored schema itself: it must catch a missing tool.driver and a bad level
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"version": "2.1.0", "runs": [{"tool": {}}]}, SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(
            {
                "version": "2.1.0",
                "runs": [
                    {
                        "tool": {"driver": {"name": "x"}},
                        "results": [{"message": {"text": "m"}, "level": "high"}],
                    }
                ],
            },
            SCHEMA,
        )


def test_dispatch_by_format_name() -> None:
    assert isinstance(report_for("sarif"), SarifReport)
