"""The dashboard's ONE data-access boundary: cached, read-only reads of the store.

Every function takes the store URL and a *marker* (a cheap fingerprint of the store:
commit count, newest commit id, last collection time). The marker is part of the cache
key, so a collector that adds commits while the dashboard is open invalidates the cached
frames on the next rerun; the ttl bounds memory when nobody writes. The store URL comes
only from the command line / environment (:func:`store_url`), never from a widget or the
page URL, and it is opened read-only (SQLite ``mode=ro``).

Every read goes through :class:`depaudit.store.reader.StoreReader` (import-linter checks
that the dashboard imports no SQL and no store table); rule titles and their docs come
from :mod:`depaudit.catalog`.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import streamlit as st

from depaudit.dashboard import frames
from depaudit.dburl import normalize_db_url
from depaudit.entrypoints import build_analysis
from depaudit.model import EnvironmentSnapshot, Package, Pair, Runtime
from depaudit.reports.base import ReportRow
from depaudit.split import Proposal, outline_split
from depaudit.store.engine import StoreError, display_url, sqlite_path
from depaudit.store.reader import StoreReader, StoreStatus

ENV_DB = "DEPAUDIT_DASHBOARD_DB"
# Short: a running collector's commits show up within this many seconds even if the
# marker query itself is cached.
MARKER_TTL_S = 3
DATA_TTL_S = 600
# A lock heartbeat younger than this means a collector is writing right now.
LIVE_LOCK_S = 120
TREND_POINTS = 120


class StoreUnavailable(Exception):
    """The store cannot be read; the message is one line for the page."""


def store_url(argv: list[str] | None = None) -> str:
    """``--db URL`` after ``--`` on the streamlit command line, else ``$DEPAUDIT_DASHBOARD_DB``,
    else ``$DEPAUDIT_DB``, else the CLI's embedded default."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--db", default=None)
    known, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    return normalize_db_url(known.db or os.environ.get(ENV_DB))


@st.cache_resource(show_spinner=False)
def _reader(url: str) -> StoreReader:
    return StoreReader(url)


def reader(url: str) -> StoreReader:
    """The shared read-only reader; :class:`StoreUnavailable` with a clear message if none."""
    path = sqlite_path(url) if "://" in url else None
    if path is not None and not path.exists():
        raise StoreUnavailable(
            f"No depaudit store at {path}. Run `depaudit collect PATH --db {display_url(url)}` first."
        )
    try:
        return _reader(url)
    except StoreError as exc:
        raise StoreUnavailable(str(exc)) from None


@st.cache_data(ttl=MARKER_TTL_S, show_spinner=False)
def store_status(url: str) -> StoreStatus:
    """Fingerprint of the store and the repos being collected; raises StoreUnavailable."""
    try:
        return reader(url).status(live_lock_seconds=LIVE_LOCK_S)
    except StoreError as exc:
        raise StoreUnavailable(f"cannot read the store {display_url(url)}: {exc}") from None


def _guard(call: Any, *args: Any) -> Any:
    try:
        return call(*args)
    except StoreError as exc:  # an unknown repo or commit, or a database error: one line
        raise StoreUnavailable(str(exc)) from None


# ------------------------------------------------------------------ repositories


@st.cache_data(ttl=DATA_TTL_S, max_entries=32, show_spinner=False)
def repos(url: str, marker: str) -> pd.DataFrame:
    """One row per repository: head, last collection, head counts, trends, environments."""
    rd = reader(url)
    records = []
    for info in _guard(rd.list_repos):
        timeline = timeline_frame(url, marker, info.name)
        head = timeline.iloc[-1] if not timeline.empty else None
        envs = environments_at(url, marker, info.name, info.head_sha) if info.head_sha else []
        origin = (
            state_at(url, marker, info.name, info.head_sha).get("config_origin", "")
            if info.head_sha
            else ""
        )
        tail = timeline.tail(TREND_POINTS)
        records.append(
            {
                "repo": info.name,
                "head": frames.short_sha(info.head_sha or ""),
                "head_sha": info.head_sha or "",
                "commits": info.commit_count,
                "last_collected_at": frames.parse_time(info.last_collected_at or ""),
                "leftover_high": int(head["leftover_high"]) if head is not None else 0,
                "leftover_medium": int(head["leftover_medium"]) if head is not None else 0,
                "leftover_low": int(head["leftover_low"]) if head is not None else 0,
                "drift": int(frames.status_total(timeline.tail(1), "drift").sum())
                if head is not None
                else 0,
                "shared": int(frames.status_total(timeline.tail(1), "shared").sum())
                if head is not None
                else 0,
                "errors": int(frames.status_total(timeline.tail(1), "error").sum())
                if head is not None
                else 0,
                "leftover_trend": [int(v) for v in frames.status_total(tail, "leftover")],
                "drift_trend": [int(v) for v in frames.status_total(tail, "drift")],
                "projects": len(projects_at(url, marker, info.name, info.head_sha))
                if info.head_sha
                else 0,
                "environments": "; ".join(f"{e.name} ({e.role}, {e.origin})" for e in envs)
                or "none found",
                "found_by": origin or ("convention" if envs else ""),
                "branch": info.branch,
            }
        )
    frame = pd.DataFrame.from_records(records)
    if not frame.empty:
        frame["last_collected_at"] = pd.to_datetime(frame["last_collected_at"], utc=True)
    return frame


def repo_names(url: str, marker: str) -> list[str]:
    return [info.name for info in _guard(reader(url).list_repos)]


# ----------------------------------------------------------------------- commits


@st.cache_data(ttl=DATA_TTL_S, max_entries=32, show_spinner=False)
def commits(url: str, marker: str, repo: str) -> pd.DataFrame:
    """Reachable commits oldest first, with ``state_id`` and ``changed`` (state differs from previous)."""
    rows = _guard(reader(url).commits, repo)
    frame = frames.commits_frame(
        {
            "sha": c.sha,
            "committed_at": c.committed_at,
            "author": c.author,
            "summary": c.summary,
            "seq": c.seq,
        }
        for c in rows
    )
    frame["state_id"] = [c.state_id for c in rows]
    frame["changed"] = frame["state_id"].ne(frame["state_id"].shift())
    return frame


@st.cache_data(ttl=DATA_TTL_S, max_entries=32, show_spinner=False)
def timeline_frame(url: str, marker: str, repo: str) -> pd.DataFrame:
    """Commits with ``{status}_{severity}`` count columns."""
    entries = _guard(reader(url).timeline, repo)
    base = frames.commits_frame(entries)
    counts = (
        {"sha": e["sha"], "status": status, "severity": severity, "count": n}
        for e in entries
        for status, per in e["counts"].items()
        for severity, n in per.items()
    )
    return frames.timeline_frame(base, counts)


# ---------------------------------------------------------------------- findings


def findings(url: str, marker: str, repo: str, sha: str) -> pd.DataFrame:
    """The findings of one commit, the rows ``depaudit report`` writes for it, in its order
    (CSV contract columns first), with introducing commit, age and project: the stored
    findings, then those of the newest live observation of each environment (marked by
    their ``serving_env``, e.g. ``serving@live``)."""
    return _findings(url, marker, _live_marker(url), repo, sha)


@st.cache_data(ttl=DATA_TTL_S, max_entries=64, show_spinner=False)
def _findings(url: str, marker: str, live_marker: str, repo: str, sha: str) -> pd.DataFrame:
    rd = reader(url)
    rows = _guard(rd.findings_at, repo, sha)
    if live_marker != "none" and not live_marker.startswith("0:"):  # "count:newest id"
        rows += _guard(rd.live_report_rows, repo, _guard(rd.latest_live, repo, sha))
    history = commits(url, marker, repo)
    head = _guard(rd.head, repo)
    as_of = datetime.now(UTC)
    if head is None or head.sha != sha:
        match = history[history["sha"] == sha]
        if not match.empty and not pd.isna(match.iloc[0]["committed_at"]):
            as_of = match.iloc[0]["committed_at"].to_pydatetime()
    frame = frames.findings_frame(rows, commits=history, as_of=as_of)
    return frames.assign_projects(
        frame, pairs_at(url, marker, repo, sha), environments_at(url, marker, repo, sha)
    )


@st.cache_data(ttl=DATA_TTL_S, max_entries=64, show_spinner=False)
def item_history(url: str, marker: str, repo: str, key: str) -> pd.DataFrame:
    """Each side's value of the item of finding ``key`` at every commit.

    Matched on (environment pair, kind, item), not on the rule: a package that drifts
    (DA102) was shared (DA104) before, and the chart shows both sides' versions over the
    whole history, not only while the drift lasted.
    """
    history = commits(url, marker, repo)
    if history.empty:
        return frames.item_history(history, [], key=key)
    state_ids = [int(x) for x in history["state_id"]]
    values = _guard(reader(url).item_values, repo, key, state_ids)
    occurrences = [
        {"sha": sha, "key": key, "training": values[int(sid)][0], "serving": values[int(sid)][1]}
        for sha, sid in zip(history["sha"], history["state_id"], strict=True)
        if int(sid) in values
    ]
    return frames.item_history(history, occurrences, key=key)


@st.cache_data(ttl=DATA_TTL_S, max_entries=64, show_spinner=False)
def finding_runs(url: str, marker: str, repo: str, key: str) -> pd.DataFrame:
    """When one finding appeared and was resolved, run by run."""
    runs = _guard(reader(url).finding_history, repo, key)
    return pd.DataFrame.from_records(
        runs,
        columns=[
            "start_sha",
            "start_committed_at",
            "end_sha",
            "resolved_sha",
            "resolved_at",
            "reachable",
        ],
    )


# ------------------------------------------------------------------ environments


@st.cache_data(ttl=DATA_TTL_S, max_entries=64, show_spinner=False)
def environments_at(url: str, marker: str, repo: str, sha: str) -> list[EnvironmentSnapshot]:
    return list(_guard(reader(url).environments_at, repo, sha))


@st.cache_data(ttl=DATA_TTL_S, max_entries=64, show_spinner=False)
def pairs_at(url: str, marker: str, repo: str, sha: str) -> list[Pair]:
    """The training x serving pairs the commit compared, each with its project and reason."""
    return list(_guard(reader(url).pairs_at, repo, sha))


@st.cache_data(ttl=DATA_TTL_S, max_entries=64, show_spinner=False)
def unpaired_at(url: str, marker: str, repo: str, sha: str) -> list[tuple[str, str]]:
    """The environments the commit compared with nothing, each with why."""
    return list(_guard(reader(url).unpaired_at, repo, sha))


def projects_at(url: str, marker: str, repo: str, sha: str) -> list[str]:
    """The projects of a commit (a monorepo of examples has one per example)."""
    return frames.projects_of(
        pairs_at(url, marker, repo, sha), environments_at(url, marker, repo, sha)
    )


@st.cache_data(ttl=DATA_TTL_S, max_entries=64, show_spinner=False)
def state_at(url: str, marker: str, repo: str, sha: str) -> dict[str, Any]:
    """config_origin, config_errors, unassigned paths of a commit."""
    return dict(_guard(reader(url).state_at, repo, sha))


# --------------------------------------------------------- live (observed) environments

LIVE_PACKAGE_COLUMNS = ["name", "version", "direct", "requires"]


@dataclass(frozen=True, slots=True)
class LiveSnapshot:
    """One ``depaudit live`` observation, ready for the page."""

    env_name: str  # the declared environment that was observed
    observed_at: pd.Timestamp | None
    commit_sha: str  # the declared side's commit when it was observed
    source: str  # interpreter path or captured pipdeptree file
    python: str
    os: str
    packages: pd.DataFrame  # LIVE_PACKAGE_COLUMNS
    findings: pd.DataFrame  # frames.findings_frame columns
    findings_recorded: bool  # False for a row an older `depaudit live` wrote without findings


@st.cache_data(ttl=MARKER_TTL_S, show_spinner=False)
def _live_marker(url: str) -> str:
    """``depaudit live`` adds no commit, so the store marker alone would keep a new
    observation off the page until the ttl ran out."""
    return str(_guard(reader(url).live_marker))


def live_snapshots(url: str, marker: str, repo: str) -> list[LiveSnapshot]:
    """The live observations of ``repo``, newest first (empty when none were recorded)."""
    return _live_snapshots(url, marker, _live_marker(url), repo)


def _live_packages(env: EnvironmentSnapshot) -> pd.DataFrame:
    return pd.DataFrame.from_records(
        [
            {
                "name": p.name,
                "version": p.version,
                "direct": p.direct,
                "requires": ", ".join(p.requires),
            }
            for p in sorted(env.of_type(Package), key=lambda p: p.name)
        ],
        columns=LIVE_PACKAGE_COLUMNS,
    )


def _runtime(env: EnvironmentSnapshot, item: str) -> str:
    return next((r.value for r in env.of_type(Runtime) if r.item == item), "")


@st.cache_data(ttl=DATA_TTL_S, max_entries=32, show_spinner=False)
def _live_snapshots(url: str, marker: str, live_marker: str, repo: str) -> list[LiveSnapshot]:
    if live_marker == "none":
        return []
    result = []
    for record in _guard(reader(url).live_records, repo):
        recorded = record.findings is not None
        report_rows = [
            ReportRow(f, repo=repo, commit=record.commit_sha) for f in record.findings or ()
        ]
        result.append(
            LiveSnapshot(
                env_name=record.env_name,
                observed_at=frames.parse_time(record.observed_at),
                commit_sha=record.commit_sha,
                source=record.source,
                python=_runtime(record.observed, "python"),
                os=_runtime(record.observed, "os"),
                packages=_live_packages(record.observed),
                findings=frames.sort_by_severity(frames.findings_frame(report_rows)),
                findings_recorded=recorded,
            )
        )
    return result


# ------------------------------------------------------------------------- split


@st.cache_data(ttl=DATA_TTL_S, max_entries=64, show_spinner=False)
def split_outline(
    url: str, marker: str, repo: str, sha: str, training: str, serving: str
) -> Proposal | None:
    """What ``depaudit split`` changes for one pair at a commit, from the stored facts and
    findings (:func:`depaudit.split.outline_split`, pure); None if the pair is not stored."""
    pair = next(
        (
            p
            for p in pairs_at(url, marker, repo, sha)
            if (p.training, p.serving) == (training, serving)
        ),
        None,
    )
    if pair is None:
        return None
    envs = environments_at(url, marker, repo, sha)
    found = [row.finding for row in _guard(reader(url).findings_at, repo, sha)]
    known = {a.path for e in envs for a in e.files} | set(
        state_at(url, marker, repo, sha)["unassigned"]
    )
    by_name = {e.name: e for e in envs}
    code = build_analysis(by_name[training], by_name[serving])
    starts = None if code.fallback else [s.module for s in code.starts]
    return outline_split(envs, pair, found, tree_paths=known, starts=starts)
