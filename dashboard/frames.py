"""Pure builders: store records (ReportRows, snapshots, commit rows) -> pandas DataFrames.

No streamlit and no database here: :mod:`depaudit.dashboard.queries` fetches and caches, this
module shapes, so the shapes can be tested without a running app. Findings frames start
with exactly the report CSV columns (``CSV_COLUMNS``) so that a download of any findings
table is byte-for-byte what ``depaudit report --format csv`` writes.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from packaging.version import InvalidVersion, Version
from pandas.api.types import is_object_dtype, is_string_dtype

from depaudit.catalog import rule_title
from depaudit.model import (
    SEVERITIES,
    SEVERITY_RANK,
    STATUSES,
    ConfigEntry,
    EnvironmentSnapshot,
    Finding,
    NetworkTarget,
    Package,
    Pair,
    ParseError,
    Resource,
    Runtime,
    SystemPackage,
)
from depaudit.reports.base import CSV_COLUMNS, ReportRow
from depaudit.reports.csv_report import CsvReport, neutralise
from depaudit.reports.grouping import one_row_per_fact

# Columns after the CSV contract ones: what the dashboard shows but the CSV leaves out.
EXTRA_FINDING_COLUMNS: tuple[str, ...] = (
    "pair",
    "project",
    "rule_title",
    "rule_url",
    "introduced_at",
    "introduced_by",
    "days_open",
    "evidence",
    "key",
    "position",  # the row's place in the report (``depaudit report`` order)
)
# What makes two findings of one project the same fact, whichever pair saw it.
FACT_COLUMNS: tuple[str, ...] = (
    "project",
    "rule",
    "kind",
    "item",
    "status",
    "file",
    "line",
    "training",
    "serving",
)
# Columns a grouped frame (:func:`group_by_fact`) adds.
GROUP_COLUMNS: tuple[str, ...] = ("pairs", "pair_list", "pair_count")
# ``depaudit live`` names the observed environment after the declared one it observed.
LIVE_SUFFIX = "@live"
FINDING_COLUMNS: tuple[str, ...] = CSV_COLUMNS + EXTRA_FINDING_COLUMNS
COUNT_COLUMNS: tuple[str, ...] = tuple(f"{s}_{v}" for s in STATUSES for v in SEVERITIES)
COMMIT_COLUMNS: tuple[str, ...] = ("sha", "short", "committed_at", "author", "summary", "seq")


def rule_url(rule: str, base: str | None = None) -> str:
    """Link to a rule's docs section: ``{RULES_DOC_URL}#da101``, else the dashboard's Rules page."""
    if base is None:
        base = os.environ.get("DEPAUDIT_RULES_DOC_URL") or os.environ.get("RULES_DOC_URL") or ""
    anchor = rule.lower()
    return f"{base.rstrip('#')}#{anchor}" if base else f"./rules#{anchor}"


def short_sha(sha: str) -> str:
    return sha[:10]


def parse_time(value: str) -> pd.Timestamp | None:
    if not value:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        return None
    return stamp.tz_convert("UTC") if stamp.tzinfo else stamp.tz_localize("UTC")


# ----------------------------------------------------------------------- commits


def commits_frame(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Commits oldest first: ``sha, short, committed_at (UTC datetime), author, summary, seq``."""
    records = [
        {
            "sha": str(r["sha"]),
            "short": short_sha(str(r["sha"])),
            "committed_at": parse_time(str(r.get("committed_at") or "")),
            "author": str(r.get("author") or r.get("author_name") or ""),
            "summary": str(r.get("summary") or ""),
            "seq": int(r.get("seq") or 0),
        }
        for r in rows
    ]
    frame = pd.DataFrame.from_records(records, columns=list(COMMIT_COLUMNS))
    frame["committed_at"] = pd.to_datetime(frame["committed_at"], utc=True)
    return frame.sort_values("seq", kind="stable").reset_index(drop=True)


def commit_label(row: Mapping[str, Any]) -> str:
    """``a1b2c3d4e5 2026-03-01 summary`` for pickers."""
    when = row.get("committed_at")
    date = when.strftime("%Y-%m-%d") if isinstance(when, datetime) else str(when or "")[:10]
    summary = str(row.get("summary") or "")
    if len(summary) > 60:
        summary = summary[:57] + "..."
    return f"{row['short']} {date} {summary}".strip()


def timeline_frame(commits: pd.DataFrame, counts: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """``commits`` plus one count column per ``{status}_{severity}`` (zeros where none).

    ``counts``: records ``{"sha", "status", "severity", "count"}``.
    """
    frame = commits.copy()
    for column in COUNT_COLUMNS:
        frame[column] = 0
    if frame.empty:
        return frame
    index = {sha: i for i, sha in enumerate(frame["sha"])}
    matrix = {column: [0] * len(frame) for column in COUNT_COLUMNS}
    for rec in counts:
        column = f"{rec['status']}_{rec['severity']}"
        i = index.get(str(rec["sha"]))
        if i is not None and column in matrix:
            matrix[column][i] += int(rec["count"])
    for column, values in matrix.items():
        frame[column] = values
    return frame


def status_total(frame: pd.DataFrame, status: str) -> pd.Series:
    columns = [f"{status}_{s}" for s in SEVERITIES if f"{status}_{s}" in frame]
    if not columns:
        return pd.Series([0] * len(frame), index=frame.index)
    return frame[columns].sum(axis=1)


# ---------------------------------------------------------------------- findings


def findings_frame(
    rows: Sequence[ReportRow],
    *,
    commits: pd.DataFrame | None = None,
    as_of: datetime | None = None,
) -> pd.DataFrame:
    """One row per finding: the CSV contract columns, then :data:`EXTRA_FINDING_COLUMNS`.

    ``commits`` (a :func:`commits_frame`) gives the introducing commit's date and author;
    ``days_open`` counts from that date to ``as_of`` (default: now).
    """
    by_sha: dict[str, tuple[Any, str]] = {}
    if commits is not None and not commits.empty:
        by_sha = dict(
            zip(
                commits["sha"],
                zip(commits["committed_at"], commits["author"], strict=True),
                strict=True,
            )
        )
    now = pd.Timestamp(as_of or datetime.now(UTC))
    if now.tzinfo is None:
        now = now.tz_localize("UTC")
    records = []
    for position, row in enumerate(rows):
        fields = row.contract_fields()
        fields["line"] = row.finding.line  # an int for sorting; the CSV writes 0 as ""
        introduced_at, introduced_by = by_sha.get(row.introduced_in, (None, ""))
        days: int | None = None
        if introduced_at is not None and not pd.isna(introduced_at):
            days = max(0, int((now - introduced_at).total_seconds() // 86400))
        f = row.finding
        records.append(
            {
                **fields,
                "pair": pair_label(f.training_env, f.serving_env),
                "project": "",
                "rule_title": rule_title(f.rule),
                "rule_url": rule_url(f.rule),
                "introduced_at": introduced_at,
                "introduced_by": introduced_by,
                "days_open": days,
                "evidence": f.evidence,
                "key": f.key,
                "position": position,
            }
        )
    frame = pd.DataFrame.from_records(records, columns=list(FINDING_COLUMNS))
    return _finding_dtypes(frame)


def _finding_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    frame["line"] = frame["line"].astype("int64")
    frame["position"] = frame["position"].astype("int64")
    frame["days_open"] = frame["days_open"].astype("Int64")
    frame["introduced_at"] = pd.to_datetime(frame["introduced_at"], utc=True)
    return frame


PAIR_ARROW = " → "


def pair_label(training_env: str, serving_env: str) -> str:
    return f"{training_env}{PAIR_ARROW}{serving_env}"


# ---------------------------------------------------------------------- projects


def project_label(project: str) -> str:
    """How a project is named on a page: ``.`` is the repository root."""
    if project == ".":
        return "(repository root)"
    return project or "(no project)"


def projects_of(pairs: Sequence[Pair], envs: Sequence[EnvironmentSnapshot]) -> list[str]:
    """The projects of a commit: those of its pairs and of its environments."""
    names = {p.project for p in pairs} | {e.project for e in envs if not e.observed}
    return sorted(n for n in names if n)


def assign_projects(
    frame: pd.DataFrame, pairs: Sequence[Pair], envs: Sequence[EnvironmentSnapshot]
) -> pd.DataFrame:
    """``frame`` with each finding's ``project``: its pair's, else (a live finding, whose
    pair was made by ``depaudit live``) the observed environment's, else ``""`` (a
    finding of the whole repository, such as an invalid config)."""
    by_pair = {(p.training, p.serving): p.project for p in pairs}
    by_env = {e.name: e.project for e in envs}

    def project_of(training: str, serving: str) -> str:
        known = by_pair.get((training, serving))
        if known is not None:
            return known
        return by_env.get(serving.removesuffix(LIVE_SUFFIX)) or by_env.get(training) or ""

    out = frame.copy()
    out["project"] = [
        project_of(str(t), str(s))
        for t, s in zip(frame["training_env"], frame["serving_env"], strict=True)
    ]
    return out


def in_project(frame: pd.DataFrame, project: str | None) -> pd.DataFrame:
    """The findings of one project (None: all), with the repository-wide ones (no pair)."""
    if project is None or frame.empty:
        return frame
    repo_wide = (frame["training_env"] == "") & (frame["serving_env"] == "")
    return frame[(frame["project"] == project) | repo_wide].reset_index(drop=True)


def pairs_frame(
    pairs: Sequence[Pair], findings: pd.DataFrame, envs: Sequence[EnvironmentSnapshot]
) -> pd.DataFrame:
    """The training x serving pairs a commit compared, each with its project and reason.

    A state collected before depaudit recorded its pairs compared every pair: those are
    read back from its findings, with the reason left unknown.
    """
    columns = ["training", "serving", "project", "reason"]
    records = [
        {"training": p.training, "serving": p.serving, "project": p.project, "reason": p.reason}
        for p in pairs
    ]
    if not records and not findings.empty:
        by_env = {e.name: e.project for e in envs}
        declared = findings[
            (findings["training_env"] != "")
            & (findings["serving_env"] != "")
            & ~findings["serving_env"].str.endswith(LIVE_SUFFIX)
        ]
        seen = dict.fromkeys(zip(declared["training_env"], declared["serving_env"], strict=True))
        records = [
            {
                "training": training,
                "serving": serving,
                "project": by_env.get(serving, ""),
                "reason": "not recorded (collected by a depaudit that compared every pair)",
            }
            for training, serving in seen
        ]
    return pd.DataFrame.from_records(records, columns=columns)


def unpaired_frame(
    unpaired: Sequence[tuple[str, str]], envs: Sequence[EnvironmentSnapshot]
) -> pd.DataFrame:
    """The environments compared with nothing, with their role, project and why."""
    by_name = {e.name: e for e in envs}
    return pd.DataFrame.from_records(
        [
            {
                "environment": name,
                "role": by_name[name].role if name in by_name else "",
                "project": by_name[name].project if name in by_name else "",
                "why": why,
            }
            for name, why in unpaired
        ],
        columns=["environment", "role", "project", "why"],
    )


def group_by_fact(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per fact (:data:`FACT_COLUMNS`) however many pairs of its project saw it.

    A monorepo example with a notebook and a training folder against one API sees the
    same leftover line twice; it is one thing to fix. Each row is the finding of the pair
    that has had it longest (its ``introduced_*`` and ``days_open`` say since when), plus
    ``pairs`` (every pair that saw it, "; "-joined), ``pair_list`` and ``pair_count``.
    """
    columns = [*frame.columns, *GROUP_COLUMNS]
    if frame.empty:
        return pd.DataFrame(columns=columns).astype(frame.dtypes.to_dict())
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for rec in frame.to_dict("records"):
        groups.setdefault(tuple(rec[c] for c in FACT_COLUMNS), []).append(rec)
    records = []
    for members in groups.values():
        first = min(members, key=_longest_open)
        pairs = sorted({str(m["pair"]) for m in members})
        records.append(
            {
                **first,
                "pairs": "; ".join(pairs),
                "pair_list": tuple(pairs),
                "pair_count": len(pairs),
            }
        )
    grouped = pd.DataFrame.from_records(records, columns=columns)
    grouped = _finding_dtypes(grouped)
    grouped["pair_count"] = grouped["pair_count"].astype("int64")
    return grouped.sort_values("position", kind="stable").reset_index(drop=True)


def _longest_open(rec: Mapping[str, Any]) -> tuple[bool, int, str]:
    when = rec["introduced_at"]
    missing = when is None or pd.isna(when)
    return (missing, 0 if missing else int(pd.Timestamp(when).value), str(rec["pair"]))


def sort_by_severity(frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return frame
    rank = frame["severity"].map(SEVERITY_RANK).fillna(-1)
    return (
        frame.assign(_rank=-rank)
        .sort_values(["_rank", "kind", "item", "rule"], kind="stable")
        .drop(columns="_rank")
        .reset_index(drop=True)
    )


def report_rows(frame: pd.DataFrame) -> list[ReportRow]:
    """The report rows a findings frame was built from, in report order."""
    ordered = frame.sort_values("position", kind="stable") if "position" in frame else frame
    return [
        ReportRow(
            Finding(
                status=rec["status"],
                kind=rec["kind"],
                item=str(rec["item"]),
                severity=rec["severity"],
                rule=str(rec["rule"]),
                message=str(rec["message"]),
                training_env=str(rec["training_env"]),
                serving_env=str(rec["serving_env"]),
                training=str(rec["training"]),
                serving=str(rec["serving"]),
                file=str(rec["file"]),
                line=int(rec["line"] or 0),
                evidence=str(rec.get("evidence", "")),
            ),
            repo=str(rec["repo"]),
            commit=str(rec["commit"]),
            committed_at=str(rec["committed_at"]),
            introduced_in=str(rec["introduced_in"]),
        )
        for rec in ordered.to_dict("records")
    ]


def findings_csv(frame: pd.DataFrame) -> str:
    """The report CSV of a findings frame, written by ``CsvReport`` itself (same header,
    quoting, CRLF and cell neutralisation as ``depaudit report --format csv``), rows in
    report order and, as in the report, one row per fact of a project with every pair
    that saw it (``pairs``, last). A frame the page grouped (:func:`group_by_fact`) keeps
    its rows; another is grouped as the report groups it."""
    rows = report_rows(frame)
    if "pair_list" in frame.columns:
        ordered = frame.sort_values("position", kind="stable") if "position" in frame else frame
        rows = [
            dataclasses.replace(row, pairs=tuple(_pair_of(label) for label in labels))
            for row, labels in zip(rows, ordered["pair_list"], strict=True)
        ]
    else:
        projects = {}
        if "project" in frame.columns:
            projects = {
                (str(t), str(s)): str(p)
                for t, s, p in zip(
                    frame["training_env"], frame["serving_env"], frame["project"], strict=True
                )
            }
        rows = one_row_per_fact(rows, projects)
    return CsvReport().render(rows)


def _pair_of(label: str) -> tuple[str, str]:
    training, _, serving = str(label).partition(PAIR_ARROW)
    return training, serving


def table_csv(frame: pd.DataFrame) -> str:
    """CSV of any other table (RFC 4180, CRLF), formula cells neutralised as in ``CsvReport``."""
    text = [c for c in frame.columns if is_object_dtype(frame[c]) or is_string_dtype(frame[c])]
    safe = frame.assign(**{c: frame[c].map(neutralise) for c in text}) if text else frame
    return safe.to_csv(index=False, lineterminator="\r\n")


def filter_findings(
    frame: pd.DataFrame,
    *,
    severities: Sequence[str] = (),
    kinds: Sequence[str] = (),
    pairs: Sequence[str] = (),
    statuses: Sequence[str] = (),
) -> pd.DataFrame:
    """Rows matching every non-empty filter (an empty filter keeps everything)."""
    mask = pd.Series(True, index=frame.index)
    for column, wanted in (
        ("severity", severities),
        ("kind", kinds),
        ("status", statuses),
    ):
        if wanted:
            mask &= frame[column].isin(list(wanted))
    if pairs:
        chosen = set(pairs)
        if "pair_list" in frame:  # a grouped row is kept when any of its pairs is chosen
            mask &= frame["pair_list"].map(lambda seen: not chosen.isdisjoint(seen)).astype(bool)
        else:
            mask &= frame["pair"].isin(chosen)
    return frame[mask].reset_index(drop=True)


def pair_options(frame: pd.DataFrame) -> list[str]:
    """The pairs a (grouped or not) findings frame names, for a filter."""
    if "pair_list" in frame:
        return sorted({p for seen in frame["pair_list"] for p in seen})
    return sorted(set(frame["pair"]))


def finding_changes(before: pd.DataFrame, after: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(added, resolved) between two findings frames, matched by finding key."""
    before_keys, after_keys = set(before["key"]), set(after["key"])
    added = after[~after["key"].isin(before_keys)].reset_index(drop=True)
    resolved = before[~before["key"].isin(after_keys)].reset_index(drop=True)
    return added, resolved


def evidence_chain(evidence: str) -> str:
    """An import chain (``a -> b -> c`` or one module per line) as an indented tree."""
    text = evidence.strip()
    if not text:
        return ""
    parts = [p.strip() for p in re.split(r"\s*(?:->|→|\n)\s*", text) if p.strip()]
    return "\n".join(("    " * i + ("└─ " if i else "") + part) for i, part in enumerate(parts))


# ------------------------------------------------------------------------ drift

_NUMERIC = re.compile(r"(\d+(?:\.\d+)*)")


def _first_version(value: str) -> Version | None:
    match = _NUMERIC.search(value)
    if not match:
        return None
    try:
        return Version(match.group(1))
    except InvalidVersion:
        return None


def drift_distance(training: str, serving: str, *, rule: str = "") -> str:
    """How far apart two values are: major / minor / patch, incompatible specifiers, or different."""
    if rule == "DA103":
        return "incompatible specifiers"
    if training == serving:
        return "same"
    if not training or not serving:
        return "one side only"
    left, right = _first_version(training), _first_version(serving)
    if left is None or right is None:
        return "different"
    a, b = [*left.release, 0, 0, 0][:3], [*right.release, 0, 0, 0][:3]
    if a[0] != b[0]:
        return "major"
    if a[1] != b[1]:
        return "minor"
    if a[2] != b[2]:
        return "patch"
    return "different"


def drift_frame(findings: pd.DataFrame) -> pd.DataFrame:
    """The drift rows of a findings frame with a ``distance`` column and a ``since`` date."""
    drift = findings[findings["status"] == "drift"].copy()
    drift["distance"] = [
        drift_distance(str(t), str(s), rule=str(r))
        for t, s, r in zip(drift["training"], drift["serving"], drift["rule"], strict=True)
    ]
    drift["since"] = drift["introduced_at"]
    return drift.reset_index(drop=True)


def item_history(
    commits: pd.DataFrame, occurrences: Iterable[Mapping[str, Any]], *, key: str
) -> pd.DataFrame:
    """Per commit, each side's value of the finding ``key`` (empty where it is absent).

    ``occurrences``: records ``{"sha", "key", "training", "serving"}`` over all commits.
    """
    values = {
        str(o["sha"]): (str(o["training"]), str(o["serving"]))
        for o in occurrences
        if o["key"] == key
    }
    frame = commits[["sha", "short", "committed_at"]].copy()
    frame["training"] = [values.get(sha, ("", ""))[0] for sha in frame["sha"]]
    frame["serving"] = [values.get(sha, ("", ""))[1] for sha in frame["sha"]]
    frame["present"] = [sha in values for sha in frame["sha"]]
    return frame


# ------------------------------------------------------------------ environments


def environments_frame(envs: Sequence[EnvironmentSnapshot]) -> pd.DataFrame:
    """One row per environment: name, project, role, origin (config / convention), file
    and fact counts."""
    return pd.DataFrame.from_records(
        [
            {
                "environment": e.name,
                "project": e.project,
                "role": e.role,
                "origin": e.origin,
                "files": len(e.files),
                "packages": len(e.of_type(Package)),
                "parse_errors": len(e.of_type(ParseError)),
                "observed": e.observed,
            }
            for e in envs
        ],
        columns=[
            "environment",
            "project",
            "role",
            "origin",
            "files",
            "packages",
            "parse_errors",
            "observed",
        ],
    )


def packages_frame(env: EnvironmentSnapshot) -> pd.DataFrame:
    columns = [
        "name",
        "specifier",
        "version",
        "direct",
        "group",
        "manager",
        "extras",
        "marker",
        "requires",
        "file",
        "line",
        "scope",
    ]
    return pd.DataFrame.from_records(
        [
            {
                "name": p.name,
                "specifier": p.specifier,
                "version": p.version,
                "direct": p.direct,
                "group": p.group,
                "manager": p.manager,
                "extras": ", ".join(p.extras),
                "marker": p.marker,
                "requires": ", ".join(p.requires),
                "file": p.file,
                "line": p.line,
                "scope": p.scope,
            }
            for p in sorted(env.of_type(Package), key=lambda p: (p.name, p.file, p.line))
        ],
        columns=columns,
    )


def dependency_tree(env: EnvironmentSnapshot) -> str:
    """The lock file's dependency graph as an indented text tree (direct packages at the root).

    Empty when no package lists ``requires`` (plain requirements files do not say).
    """
    packages: dict[str, Package] = {}
    for p in env.of_type(Package):
        packages.setdefault(p.name, p)
    if not any(p.requires for p in packages.values()):
        return ""
    roots = sorted(n for n, p in packages.items() if p.direct) or sorted(packages)
    lines: list[str] = []

    def walk(name: str, depth: int, seen: frozenset[str]) -> None:
        pkg = packages.get(name)
        version = (
            f"=={pkg.version}"
            if pkg and pkg.version
            else (pkg.specifier if pkg else " [not locked]")
        )
        cycle = " (cycle)" if name in seen else ""
        lines.append("  " * depth + ("- " if depth else "") + f"{name}{version}{cycle}")
        if cycle or pkg is None or depth > 30 or len(lines) > 5000:
            return
        for child in sorted(pkg.requires):
            walk(child, depth + 1, seen | {name})

    for root in roots:
        walk(root, 0, frozenset())
    return "\n".join(lines)


def runtime_frame(env: EnvironmentSnapshot) -> pd.DataFrame:
    return pd.DataFrame.from_records(
        [
            {
                "item": r.item,
                "value": r.value,
                "detail": r.detail,
                "file": r.file,
                "line": r.line,
                "scope": r.scope,
            }
            for r in env.of_type(Runtime)
        ],
        columns=["item", "value", "detail", "file", "line", "scope"],
    )


def system_packages_frame(env: EnvironmentSnapshot) -> pd.DataFrame:
    return pd.DataFrame.from_records(
        [
            {
                "name": p.name,
                "version": p.version,
                "manager": p.manager,
                "file": p.file,
                "line": p.line,
                "scope": p.scope,
            }
            for p in env.of_type(SystemPackage)
        ],
        columns=["name", "version", "manager", "file", "line", "scope"],
    )


def config_frame(env: EnvironmentSnapshot) -> pd.DataFrame:
    """Config keys with their values as stored (secret values were masked at collection)."""
    return pd.DataFrame.from_records(
        [
            {
                "key": c.key,
                "value": c.value,
                "secret": c.secret,
                "file": c.file,
                "line": c.line,
                "scope": c.scope,
            }
            for c in env.of_type(ConfigEntry)
        ],
        columns=["key", "value", "secret", "file", "line", "scope"],
    )


def network_frame(env: EnvironmentSnapshot) -> pd.DataFrame:
    return pd.DataFrame.from_records(
        [
            {
                "target": n.target,
                "kind": n.kind,
                "key": n.key,
                "file": n.file,
                "line": n.line,
                "scope": n.scope,
            }
            for n in env.of_type(NetworkTarget)
        ],
        columns=["target", "kind", "key", "file", "line", "scope"],
    )


def resources_frame(env: EnvironmentSnapshot) -> pd.DataFrame:
    return pd.DataFrame.from_records(
        [
            {
                "name": r.name,
                "bound": r.bound,
                "raw": r.raw,
                "amount": r.amount,
                "file": r.file,
                "line": r.line,
                "scope": r.scope,
            }
            for r in env.of_type(Resource)
        ],
        columns=["name", "bound", "raw", "amount", "file", "line", "scope"],
    )


def parse_errors_frame(env: EnvironmentSnapshot) -> pd.DataFrame:
    return pd.DataFrame.from_records(
        [{"file": e.file, "line": e.line, "message": e.message} for e in env.of_type(ParseError)],
        columns=["file", "line", "message"],
    )


def files_frame(env: EnvironmentSnapshot) -> pd.DataFrame:
    """The environment's files and why each one was assigned to it."""
    return pd.DataFrame.from_records(
        [{"file": a.path, "reason": a.reason} for a in env.files], columns=["file", "reason"]
    )


def split_unified_diff(diff: str) -> tuple[str, str]:
    """The two sides of a unified diff (training is ``-``, serving is ``+``), for side by side."""
    left: list[str] = []
    right: list[str] = []
    for line in diff.splitlines():
        if line.startswith(("---", "+++", "@@")):
            continue
        if line.startswith("-"):
            left.append(line[1:])
        elif line.startswith("+"):
            right.append(line[1:])
        else:
            text = line[1:] if line.startswith(" ") else line
            left.append(text)
            right.append(text)
    return "\n".join(left), "\n".join(right)


def is_unified_diff(evidence: str) -> bool:
    return evidence.startswith("---") or "\n@@" in evidence or evidence.startswith("@@")
