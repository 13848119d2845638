from __future__ import annotations

from dataclasses import replace

from depaudit.model import Finding
from depaudit.reports import report_for
from depaudit.reports.base import ReportRow
from depaudit.reports.markdown_report import MarkdownReport

SHA = "0123456789abcdef0123456789abcdef01234567"


def row(**kw: object) -> ReportRow:
    base: dict[str, object] = dict(
        status="leftover",
        kind="package",
        item="wandb",
        severity="medium",
        rule="DA101",
        message="wandb (experiment-tracking) is installed in serving.",
        training_env="training",
        serving_env="serving",
        training="0.16.0",
        serving="0.16.0",
        file="serving/requirements.txt",
        line=3,
    )
    introduced = str(kw.pop("introduced_in", SHA))
    base.update(kw)
    return ReportRow(Finding(**base), repo="fraud-model", commit=SHA, introduced_in=introduced)  # type: ignore[arg-type]


def test_summary_counts_by_status_and_severity() -> None:
    rows = [
        row(),
        row(item="optuna", severity="high"),
        row(
            status="drift",
            rule="DA102",
            item="numpy",
            severity="medium",
            training="1.26.4",
            serving="1.24.0",
        ),
        row(status="shared", rule="DA104", item="pandas", severity="info"),
    ]
    text = MarkdownReport().render(rows)
    assert "| status | high | medium | low | info | total |" in text
    assert "| leftover | 1 | 1 | 0 | 0 | 2 |" in text
    assert "| drift | 0 | 1 | 0 | 0 | 1 |" in text
    assert "| shared | 0 | 0 | 0 | 1 | 1 |" in text
    assert "Repository **fraud-model** at `0123456789`." in text


def test_leftovers_then_drift_with_links_locations_and_short_sha() -> None:
    rows = [
        row(
            status="drift",
            rule="DA501",
            kind="runtime",
            item="python",
            training="3.11",
            serving="3.10",
            file="Dockerfile.serve",
            line=1,
        ),
        row(),
    ]
    text = MarkdownReport().render(rows)
    leftovers = text.index("## Training leftovers in serving (1)")
    drift = text.index("## Drift between training and serving (1)")
    assert leftovers < drift
    # no link into the audited repository: the report explains its rules itself
    assert "docs/rules.md" not in text and "](" not in text
    rules = text.split("## Rules")[1]
    assert "| DA101 | Training-only package in serving |" in rules
    assert "| DA501 | Python version differs |" in rules
    linked = MarkdownReport().render(rows, docs_base="https://docs.example/rules")
    assert "[DA101](https://docs.example/rules#da101)" in linked
    assert "serving/requirements.txt:3" in text
    assert "| 0123456789 |" in text
    assert SHA not in text.split("## Training")[1]  # only the short sha in tables


def test_shared_only_counted_not_listed() -> None:
    text = MarkdownReport().render(
        [row(status="shared", rule="DA104", item="pandas", severity="info")]
    )
    assert "pandas" not in text
    assert "## Training leftovers" not in text


def test_leftovers_sorted_high_first() -> None:
    text = MarkdownReport().render(
        [row(item="jupyter", severity="low"), row(item="optuna", severity="high")]
    )
    assert text.index("optuna") < text.index("jupyter")


def test_cells_escape_pipes_newlines_and_markup() -> None:
    text = MarkdownReport().render(
        [
            row(
                item="a|b",
                message="line one\nline two | <script>",
                file="",
                line=0,
                introduced_in="",
            )
        ]
    )
    table_line = next(line for line in text.splitlines() if "a\\|b" in line)
    # 8 columns -> 9 unescaped pipes
    assert table_line.replace("\\|", "").count("|") == 9
    assert "line one line two \\| \\<script\\>" in table_line
    assert "\n" not in table_line


def test_masked_secret_stays_masked() -> None:
    masked = "***masked:1a2b3c4d***"
    text = MarkdownReport().render(
        [
            row(
                rule="DA301",
                kind="config",
                item="WANDB_API_KEY",
                severity="high",
                serving=masked,
                training=masked,
            )
        ]
    )
    assert "\\*\\*\\*masked:1a2b3c4d\\*\\*\\*" in text


def test_several_pairs_get_a_pair_column() -> None:
    text = MarkdownReport().render([row(), row(serving_env="batch-serving")])
    assert "| pair | severity |" in text
    assert "training → batch-serving" in text


def test_a_fact_several_pairs_saw_lists_them_in_its_pair_cell() -> None:
    shared = replace(row(), pairs=(("training", "serving"), ("notebooks", "serving")))
    text = MarkdownReport().render([shared])
    assert "| pair | severity |" in text
    rows = [line for line in text.splitlines() if "| wandb |" in line]
    assert len(rows) == 1 and rows[0].startswith("| training → serving; notebooks → serving |")


def test_no_findings() -> None:
    text = MarkdownReport().render([])
    assert "No findings." in text
    assert text.endswith("\n")


def test_dispatch_by_format_name() -> None:
    assert isinstance(report_for("markdown"), MarkdownReport)


def test_working_tree_without_commit() -> None:
    r = ReportRow(row().finding, repo="svc")
    assert "Repository **svc** (working tree)." in MarkdownReport().render([r])
