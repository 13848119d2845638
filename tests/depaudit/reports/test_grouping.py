"""one_row_per_fact: the reports' rule for showing a fact once with the pairs that saw it."""

from __future__ import annotations

from depaudit.model import Finding, Pair
from depaudit.reports.base import ReportRow
from depaudit.reports.grouping import one_row_per_fact, projects_of
from depaudit.reports.table_report import TableReport


def row(training_env: str, serving_env: str, item: str = "cuda", **kw: object) -> ReportRow:
    fields: dict[str, object] = {
        "status": "leftover",
        "kind": "runtime",
        "item": item,
        "severity": "medium",
        "rule": "DA504",
        "message": "serving runs CUDA 12.1.0 with the devel toolchain",
        "training_env": training_env,
        "serving_env": serving_env,
        "serving": "12.1.0",
        "file": f"{serving_env}/Dockerfile",
        "line": 1,
        **kw,
    }
    return ReportRow(Finding(**fields), repo="examples", commit="abc")  # type: ignore[arg-type]


PAIRS = [
    Pair("a/train", "a/api", project="a"),
    Pair("a/notebooks", "a/api", project="a"),
    Pair("b/train", "b/api", project="b"),
]


def test_same_fact_of_one_project_is_one_row_in_report_order() -> None:
    rows = [row("a/train", "a/api"), row("b/train", "b/api"), row("a/notebooks", "a/api")]
    out = one_row_per_fact(rows, projects_of(PAIRS))
    assert [r.finding.serving_env for r in out] == ["a/api", "b/api"]
    assert out[0].all_pairs() == (("a/train", "a/api"), ("a/notebooks", "a/api"))
    assert out[0].pairs_text() == "a/train x a/api; a/notebooks x a/api"
    assert out[1].pairs == () and out[1].all_pairs() == (("b/train", "b/api"),)


def test_a_difference_a_reader_sees_keeps_rows_apart() -> None:
    rows = [
        row("a/train", "a/api"),
        row("a/notebooks", "a/api", training="12.1.0"),  # another value
        row("a/notebooks", "a/api", line=2),  # another line
        row("a/notebooks", "a/api", severity="high"),
    ]
    assert one_row_per_fact(rows, projects_of(PAIRS)) == rows


def test_without_projects_the_serving_environment_stands_for_the_project() -> None:
    rows = [row("a/train", "a/api"), row("a/notebooks", "a/api"), row("x", "other/api")]
    out = one_row_per_fact(rows)
    assert len(out) == 2 and out[0].pairs == (("a/train", "a/api"), ("a/notebooks", "a/api"))


def test_commits_are_never_merged() -> None:
    first = row("a/train", "a/api")
    later = ReportRow(row("a/notebooks", "a/api").finding, repo="examples", commit="def")
    assert one_row_per_fact([first, later], projects_of(PAIRS)) == [first, later]


def test_the_table_names_the_pairs_only_when_there_are_several() -> None:
    grouped = one_row_per_fact(
        [row("a/train", "a/api"), row("a/notebooks", "a/api")], projects_of(PAIRS)
    )
    text = TableReport().render(grouped, width=200)
    assert "pairs" in text and "a/train x a/api; a/notebooks x a/api" in text
    alone = TableReport().render([row("a/train", "a/api")], width=200)
    assert "pairs" not in alone and "a/train x a/api" not in alone
