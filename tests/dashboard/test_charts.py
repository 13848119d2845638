"""The pure chart and frame functions, without Streamlit."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from depaudit.dashboard import charts, frames
from depaudit.model import Finding
from depaudit.reports.base import ReportRow
from depaudit.reports.csv_report import CsvReport


def timeline(counts: list[dict[str, int]]) -> pd.DataFrame:
    commits = frames.commits_frame(
        {
            "sha": f"{i:040x}",
            "committed_at": f"2024-01-{i + 1:02d}T00:00:00Z",
            "author": "Ada",
            "summary": f"c{i}",
            "seq": i,
        }
        for i in range(len(counts))
    )
    recs = [
        {"sha": f"{i:040x}", "status": k.split("_")[0], "severity": k.split("_")[1], "count": n}
        for i, c in enumerate(counts)
        for k, n in c.items()
    ]
    return frames.timeline_frame(commits, recs)


def test_history_chart_stacks_severities_and_carries_the_sha() -> None:
    tl = timeline([{"leftover_high": 1}, {"leftover_high": 1, "leftover_low": 2}, {}])
    fig = charts.history_chart(tl, status="leftover")
    assert isinstance(fig, go.Figure)
    assert [t.name for t in fig.data] == ["high", "low"]
    low = next(t for t in fig.data if t.name == "low")
    assert list(low.y) == [0, 2, 0]
    assert low.stackgroup == "severity"
    assert low.customdata[1][-1] == f"{1:040x}"  # the full sha, for click-to-select
    assert "Ada" in str(low.customdata[1])


def test_history_chart_without_findings_still_has_clickable_points() -> None:
    fig = charts.history_chart(timeline([{}, {}]), status="drift")
    assert len(fig.data) == 1 and list(fig.data[0].y) == [0, 0]


def test_empty_timeline_gives_a_message_not_an_error() -> None:
    for fig in (
        charts.history_chart(timeline([])),
        charts.trend_chart(timeline([])),
        charts.shared_share_chart(timeline([])),
    ):
        assert fig.layout.annotations and "no commits" in fig.layout.annotations[0].text


def test_shared_share_is_shared_over_compared_items() -> None:
    tl = timeline(
        [
            {"shared_info": 3, "drift_medium": 1},
            {"error_low": 4},
            {"shared_info": 2, "leftover_high": 2},
        ]
    )
    assert list(charts.shared_share(tl)) == [0.75, 0.0, 0.5]
    fig = charts.shared_share_chart(tl)
    assert list(fig.data[0].y) == [0.75, 0.0, 0.5]


def test_value_timeline_orders_versions_numerically_and_shows_gaps() -> None:
    history = pd.DataFrame(
        {
            "committed_at": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"], utc=True),
            "short": ["a", "b", "c"],
            "training": ["1.10.0", "1.9.2", "1.10.0"],
            "serving": ["1.9.2", "", "1.10.0"],
        }
    )
    fig = charts.value_timeline_chart(history, item="numpy")
    assert list(fig.layout.yaxis.categoryarray) == ["1.9.2", "1.10.0"]
    serving = next(t for t in fig.data if t.name == "serving")
    assert list(serving.y) == ["1.9.2", None, "1.10.0"]


def test_severity_bar_chart_counts_per_kind() -> None:
    findings = pd.DataFrame(
        {"kind": ["package", "package", "config"], "severity": ["high", "low", "high"]}
    )
    fig = charts.severity_bar_chart(findings)
    high = next(t for t in fig.data if t.name == "high")
    assert sorted(zip(high.y, high.x, strict=True)) == [("config", 1), ("package", 1)]


def test_findings_csv_matches_csv_report_byte_for_byte() -> None:
    rows = [
        ReportRow(
            Finding(
                "leftover",
                "config",
                "ENV.WANDB_API_KEY",
                "high",
                "DA301",
                'a "quoted", message\nsecond line',
                "training",
                "serving",
                "",
                "****",
                "serving/.env",
                1,
            ),
            repo="r",
            commit="b" * 40,
            committed_at="2024-01-01T00:00:00Z",
            introduced_in="a" * 40,
        ),
        ReportRow(
            Finding("drift", "runtime", "python", "medium", "DA501", "m", "t", "s", "3.10", "3.11"),
            repo="r",
        ),
    ]
    frame = frames.findings_frame(rows)
    assert list(frame.columns[: len(frames.CSV_COLUMNS)]) == list(frames.CSV_COLUMNS)
    assert frames.findings_csv(frame) == CsvReport().render(rows)
    assert frames.findings_csv(frame.iloc[0:0]) == CsvReport().render([])


def test_drift_distance() -> None:
    assert frames.drift_distance("1.26.4", "1.24.0") == "minor"
    assert frames.drift_distance("==2.0.1", "==1.9") == "major"
    assert frames.drift_distance("3.10.1", "3.10.4") == "patch"
    assert frames.drift_distance("<1.2", ">=1.3", rule="DA103") == "incompatible specifiers"
    assert frames.drift_distance("python:3.11-slim", "python:3.11-bookworm") == "different"
    assert frames.drift_distance("", "1.0") == "one side only"


def test_finding_changes_by_key() -> None:
    def row(item: str) -> ReportRow:
        return ReportRow(Finding("leftover", "package", item, "medium", "DA101", "m", "t", "s"))

    before = frames.findings_frame([row("optuna"), row("wandb")])
    after = frames.findings_frame([row("wandb"), row("mlflow")])
    added, resolved = frames.finding_changes(before, after)
    assert list(added["item"]) == ["mlflow"] and list(resolved["item"]) == ["optuna"]


def test_evidence_chain_and_diff_split() -> None:
    assert frames.evidence_chain("serving.app -> common.io -> training.train") == (
        "serving.app\n    └─ common.io\n        └─ training.train"
    )
    left, right = frames.split_unified_diff(
        "--- training\n+++ serving\n@@ -1,2 +1,2 @@\n def f(x):\n-    return x / 255\n+    return x / 256\n"
    )
    assert left == "def f(x):\n    return x / 255" and right == "def f(x):\n    return x / 256"


def test_rule_url_uses_the_configured_docs_base(monkeypatch: object) -> None:
    assert (
        frames.rule_url("DA101", "https://example.org/rules.md")
        == "https://example.org/rules.md#da101"
    )
    assert frames.rule_url("DA101", "") == "./rules#da101"


def test_long_histories_send_only_the_commits_where_counts_change() -> None:
    tl = timeline([{"leftover_high": 1}] * 500 + [{"leftover_high": 2}] * 500)
    fig = charts.history_chart(tl, status="leftover")
    assert list(fig.data[0].y) == [1, 2, 2]  # first, the change, the last commit
    assert [c[-1] for c in fig.data[0].customdata] == [f"{0:040x}", f"{500:040x}", f"{999:040x}"]
