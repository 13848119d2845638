"""``depaudit report`` and ``depaudit history``: read the store, print a report.

Both open the store read-only; an unknown repo or commit is one line and exit 2.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from depaudit.cli.app import app, check_output_path, fail, normalize_db_url, write_output

if TYPE_CHECKING:
    from depaudit.reports.base import ReportRow
    from depaudit.store.reader import LiveRecord, StoreReader

REPORT_FORMATS = ("csv", "json", "markdown", "sarif")
HISTORY_FORMATS = ("table", "csv", "json")
HISTORY_STATUSES = ("shared", "drift", "leftover")
HISTORY_SEVERITIES = ("high", "medium", "low", "info")


def _open_reader(db: str | None) -> StoreReader:
    from depaudit.store.engine import StoreError
    from depaudit.store.reader import StoreReader

    url = normalize_db_url(db)
    try:
        return StoreReader(url)
    except StoreError as exc:
        fail(str(exc))
    except Exception as exc:  # unreachable server, not a database file
        fail(f"cannot open the store: {' '.join(str(exc).split())[:200]}")


@app.command()
def report(
    format: Annotated[str, typer.Option("--format", "-f", help="csv, json, markdown or sarif.")],
    db: Annotated[
        str | None,
        typer.Option(help="Store URL or SQLite file (default: $DEPAUDIT_DB, else embedded)."),
    ] = None,
    repo: Annotated[
        str | None, typer.Option(help="Repository name (may be omitted when the store holds one).")
    ] = None,
    commit: Annotated[
        str | None, typer.Option(help="Commit sha or prefix (default: the collected head).")
    ] = None,
    all_commits: Annotated[
        bool, typer.Option("--all-commits", help="Findings of every collected commit.")
    ] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report to FILE.")
    ] = None,
) -> None:
    """Export the findings of a collected commit (default: the head) as CSV, JSON, Markdown or SARIF."""
    if format not in REPORT_FORMATS:
        fail(f"--format must be one of {', '.join(REPORT_FORMATS)} (got {format!r})")
    if commit and all_commits:
        fail("give --commit or --all-commits, not both")
    check_output_path(output)
    from depaudit.reports import report_for
    from depaudit.reports.grouping import one_row_per_fact, projects_of
    from depaudit.store.engine import StoreError

    reader = _open_reader(db)
    try:
        info = reader.repo(repo)
        pairs = None
        unpaired: list[tuple[str, str]] = []
        # each pair's project, to show a fact several pairs of one project share once (for
        # every commit: the head's pairs)
        projects = {}
        if all_commits:
            rows, live = _all_commits_with_live(reader, info.name)
            meta: dict[str, Any] = {"repo": info.name, "commit": "", "all_commits": True}
            head = reader.head(info.name)
            projects = projects_of(reader.pairs_at(info.name, head.sha)) if head else {}
        else:
            target = reader.commit(info.name, commit) if commit else reader.head(info.name)
            if target is None:
                fail(f"repo {info.name!r} has no collected commit yet")
            rows = reader.findings_at(info.name, target.sha)
            # what `depaudit live` found: the newest observation of each environment
            live = reader.latest_live(info.name, target.sha)
            rows += reader.live_report_rows(info.name, live)
            meta = {"repo": info.name, "commit": target.sha, "committed_at": target.committed_at}
            pairs = reader.pairs_at(info.name, target.sha)
            unpaired = reader.unpaired_at(info.name, target.sha)
            projects = projects_of(pairs)
    except StoreError as exc:
        fail(str(exc))
    finally:
        reader.close()
    rows = one_row_per_fact(rows, projects)
    try:
        renderer = report_for(format)
    except (ValueError, ImportError):
        fail(f"the {format} report is not available in this build")
    if format == "json":
        from depaudit.reports.json_report import JsonReport

        meta["live"] = [_live_meta(record) for record in live]
        text = JsonReport().render(rows, meta=meta, pairs=pairs, unpaired=unpaired)
    else:
        text = renderer.render(rows)
    write_output(text, output)


def _all_commits_with_live(
    reader: StoreReader, repo: str
) -> tuple[list[ReportRow], list[LiveRecord]]:
    """Every reachable commit's findings, each commit's followed by those of the newest
    live observation of each environment compared with it."""
    newest: dict[tuple[str, str], LiveRecord] = {}
    for record in reader.live_records(repo):  # newest first
        if record.findings is not None:
            newest.setdefault((record.commit_sha, record.env_name), record)
    live_of: dict[str, list[LiveRecord]] = {}
    for (sha, _env), record in sorted(newest.items()):
        live_of.setdefault(sha, []).append(record)
    stored: dict[str, list[ReportRow]] = {}
    for row in reader.findings_all_commits(repo):
        stored.setdefault(row.commit, []).append(row)
    rows: list[ReportRow] = []
    reported: list[LiveRecord] = []
    for commit in reader.commits(repo):
        rows += stored.get(commit.sha, [])
        live = live_of.get(commit.sha, [])
        rows += reader.live_report_rows(repo, live)
        reported += live
    return rows, reported


def _live_meta(record: LiveRecord) -> dict[str, Any]:
    observed = record.observed.name  # "serving@live": the serving_env of its findings
    return {
        "environment": record.env_name,
        "observed_as": observed,
        "observed_at": record.observed_at,
        "commit": record.commit_sha,
        "source": record.source,
        "findings": len(record.findings or ()),
    }


@app.command()
def history(
    db: Annotated[
        str | None,
        typer.Option(help="Store URL or SQLite file (default: $DEPAUDIT_DB, else embedded)."),
    ] = None,
    repo: Annotated[
        str | None, typer.Option(help="Repository name (may be omitted when the store holds one).")
    ] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="table, csv or json.")] = "table",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to FILE.")] = None,
) -> None:
    """Per collected commit: how many shared / drift / leftover findings, by severity."""
    if format not in HISTORY_FORMATS:
        fail(f"--format must be one of {', '.join(HISTORY_FORMATS)} (got {format!r})")
    check_output_path(output)
    from depaudit.store.engine import StoreError

    reader = _open_reader(db)
    try:
        info = reader.repo(repo)
        timeline = reader.timeline(info.name)
    except StoreError as exc:
        fail(str(exc))
    finally:
        reader.close()
    rows = [_history_row(info.name, point) for point in timeline]
    if format == "json":
        text = json.dumps({"repo": info.name, "commits": rows}, indent=2, ensure_ascii=False) + "\n"
    elif format == "csv":
        text = _history_csv(rows)
    else:
        text = _history_table(rows)
    write_output(text, output)


def _history_row(repo: str, point: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "repo": repo,
        "commit": point["sha"],
        "committed_at": point["committed_at"],
        "author": point["author"],
        "summary": point["summary"],
    }
    for status in HISTORY_STATUSES:
        per = point["counts"].get(status, {})
        for severity in HISTORY_SEVERITIES:
            row[f"{status}_{severity}"] = int(per.get(severity, 0))
    row["errors"] = sum(point["counts"].get("error", {}).values())
    return row


def _history_columns() -> list[str]:
    cols = ["repo", "commit", "committed_at", "author", "summary"]
    cols += [f"{st}_{sev}" for st in HISTORY_STATUSES for sev in HISTORY_SEVERITIES]
    return [*cols, "errors"]


def _history_csv(rows: Sequence[dict[str, Any]]) -> str:
    from depaudit.reports.csv_report import csv_text  # commit subjects can be formulas

    return csv_text(_history_columns(), rows)


def _history_table(rows: Sequence[dict[str, Any]]) -> str:
    """Plain aligned text: commit, date, then status counts as high/medium/low/info."""
    header = [
        "commit",
        "committed_at",
        *(f"{s} h/m/l/i" for s in HISTORY_STATUSES),
        "errors",
        "summary",
    ]
    lines = [header]
    for row in rows:
        cells = [row["commit"][:12], row["committed_at"]]
        for status in HISTORY_STATUSES:
            cells.append("/".join(str(row[f"{status}_{sev}"]) for sev in HISTORY_SEVERITIES))
        cells += [str(row["errors"]), row["summary"][:60]]
        lines.append(cells)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    out = []
    for line in lines:
        out.append(
            "  ".join(cell.ljust(w) for cell, w in zip(line[:-1], widths, strict=True))
            + "  "
            + line[-1]
        )
    if len(lines) == 1:
        out.append("(no collected commits)")
    return "\n".join(s.rstrip() for s in out) + "\n"
