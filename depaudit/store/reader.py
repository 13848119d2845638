"""Read-side API of the store, for ``depaudit report`` / ``history`` and the dashboard.

Everything here opens the store read-only (a SQLite file is opened with ``mode=ro``) and
returns plain dataclasses, dicts and lists: no SQLAlchemy rows, no pandas. Commits
rewritten away by a force-push (``reachable = False``) are left out unless asked for.

Errors a user can cause (an unknown repo or commit) raise :class:`UnknownRepo` /
:class:`UnknownCommit` with a one-line message.
"""

from __future__ import annotations

import bisect
import functools
import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Engine, Integer, cast, func, select
from sqlalchemy.exc import SQLAlchemyError

from depaudit.model import EnvironmentSnapshot, Finding, FindingKey, Pair
from depaudit.reports.base import ReportRow
from depaudit.store import schema as s
from depaudit.store.engine import StoreError, display_url, open_engine

StoreReaderT = TypeVar("StoreReaderT")

_FINDING_FIELDS = (
    "status",
    "kind",
    "item",
    "severity",
    "rule",
    "message",
    "training_env",
    "serving_env",
    "training",
    "serving",
    "file",
    "line",
    "evidence",
)


class UnknownRepo(StoreError):
    pass


@dataclass(frozen=True, slots=True)
class StoreStatus:
    """A cheap fingerprint of the store, and the repositories being collected right now."""

    marker: str  # changes whenever a collector commits a batch
    repo_count: int
    collecting: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LiveRecord:
    """One ``depaudit live`` observation as stored."""

    env_name: str  # the declared environment that was observed
    observed_at: str  # ISO 8601 UTC
    commit_sha: str  # the declared side's commit when it was observed
    source: str  # interpreter path or captured pipdeptree file
    observed: EnvironmentSnapshot
    findings: tuple[Finding, ...] | None  # None: the row holds none (an older depaudit live)


class UnknownCommit(StoreError):
    pass


@dataclass(frozen=True, slots=True)
class RepoInfo:
    id: int
    name: str
    path: str
    url: str
    branch: str
    head_sha: str | None  # last collected commit of the branch
    last_collected_at: str | None  # ISO 8601 UTC
    last_run: dict[
        str, Any
    ]  # {"commits", "states_new", "findings_new", "findings_resolved", "unreachable", "seconds"}
    shallow: bool
    commit_count: int  # reachable commits


@dataclass(frozen=True, slots=True)
class CommitRow:
    sha: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    committed_at: str  # ISO 8601 UTC "YYYY-MM-DDTHH:MM:SSZ"
    summary: str
    seq: int  # walk order (oldest first)
    state_id: int
    reachable: bool

    @property
    def author(self) -> str:
        return (
            f"{self.author_name} <{self.author_email}>" if self.author_email else self.author_name
        )


def _finding(row: Any) -> Finding:
    return Finding(**{name: getattr(row, name) for name in _FINDING_FIELDS})


def _read_errors_as_store_errors(cls: type[StoreReaderT]) -> type[StoreReaderT]:
    """Every public read raises :class:`StoreError` with one line for a database error
    (a dropped connection, a file that is not a database): callers never see SQL."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def reading(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except SQLAlchemyError as exc:
                first = str(getattr(exc, "orig", None) or exc).splitlines()[0]
                raise StoreError(f"the store could not be read: {first}") from None

        return reading

    for name, member in list(vars(cls).items()):
        if callable(member) and not name.startswith("_"):
            setattr(cls, name, wrap(member))
    return cls


@_read_errors_as_store_errors
class StoreReader:
    """Read-only access to a store by URL (or an existing engine)."""

    def __init__(self, url_or_engine: str | Engine) -> None:
        self.engine = (
            open_engine(url_or_engine, read_only=True)
            if isinstance(url_or_engine, str)
            else url_or_engine
        )
        try:
            with self.engine.connect() as conn:
                version = s.current_version(conn)
        except SQLAlchemyError as exc:
            first = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            # the URL as given: the read-only engine's own URL is a sqlite "file:" URI
            given = url_or_engine if isinstance(url_or_engine, str) else str(self.engine.url)
            url = display_url(given)
            raise StoreError(f"cannot read the store {url}: {first}") from None
        if version == 0:
            raise StoreError("the database is not a depaudit store (run `depaudit collect` first)")
        if version > s.SCHEMA_VERSION:
            raise StoreError(
                f"the store has schema version {version}, newer than this depaudit; upgrade depaudit"
            )

    def close(self) -> None:
        self.engine.dispose()

    # ---------------------------------------------------------------- status
    def status(self, *, live_lock_seconds: int = 120) -> StoreStatus:
        """The store's fingerprint (commit count, newest commit, heads, last collection)
        and the repos whose lock heartbeat is younger than ``live_lock_seconds``."""
        c, r, lk = s.commits.c, s.repos.c, s.locks.c
        with self.engine.connect() as conn:
            n, newest, reachable = conn.execute(
                select(func.count(), func.max(c.id), func.sum(cast(c.reachable, Integer)))
            ).one()
            repo_count, last = conn.execute(
                select(func.count(), func.max(r.last_collected_at))
            ).one()
            heads = ",".join(
                str(h) for h in conn.execute(select(r.head_sha).order_by(r.id)).scalars()
            )
            since = int(time.time()) - live_lock_seconds
            collecting = tuple(
                conn.execute(
                    select(lk.repo_name).where(lk.heartbeat_at >= since).order_by(lk.repo_name)
                ).scalars()
            )
        return StoreStatus(
            f"{n}:{newest}:{reachable}:{last}:{heads}", int(repo_count or 0), collecting
        )

    # ---------------------------------------------------------------- repos
    def list_repos(self) -> list[RepoInfo]:
        """Every collected repository, by name."""
        r, c = s.repos.c, s.commits.c
        counts = (
            select(c.repo_id, func.count().label("n"))
            .where(c.reachable.is_(True))
            .group_by(c.repo_id)
            .subquery()
        )
        query = (
            select(s.repos, counts.c.n).outerjoin(counts, counts.c.repo_id == r.id).order_by(r.name)
        )
        with self.engine.connect() as conn:
            return [
                RepoInfo(
                    id=int(row.id),
                    name=row.name,
                    path=row.path or "",
                    url=row.url or "",
                    branch=row.branch or "",
                    head_sha=row.head_sha,
                    last_collected_at=row.last_collected_at,
                    last_run=json.loads(row.last_run) if row.last_run else {},
                    shallow=bool(row.shallow),
                    commit_count=int(row.n or 0),
                )
                for row in conn.execute(query)
            ]

    def repo(self, name: str | None = None) -> RepoInfo:
        """The repo called ``name``; with None, the only repo of the store."""
        repos = self.list_repos()
        if name is None:
            if len(repos) == 1:
                return repos[0]
            if not repos:
                raise UnknownRepo("the store holds no repository yet (run `depaudit collect PATH`)")
            names = ", ".join(r.name for r in repos)
            raise UnknownRepo(
                f"the store holds several repositories; choose one with --repo ({names})"
            )
        for repo in repos:
            if repo.name == name:
                return repo
        known = ", ".join(r.name for r in repos) or "none"
        raise UnknownRepo(f"no repository {name!r} in the store (known: {known})")

    # -------------------------------------------------------------- commits
    def commits(self, repo: str | None, *, include_unreachable: bool = False) -> list[CommitRow]:
        """The repo's commits in walk order (oldest first)."""
        info = self.repo(repo)
        c = s.commits.c
        query = select(s.commits).where(c.repo_id == info.id).order_by(c.seq)
        if not include_unreachable:
            query = query.where(c.reachable.is_(True))
        with self.engine.connect() as conn:
            return [_commit_row(row) for row in conn.execute(query)]

    def head(self, repo: str | None) -> CommitRow | None:
        """The last collected commit of the repo's branch, or None before any collect."""
        info = self.repo(repo)
        if not info.head_sha:
            return None
        return self.commit(info.name, info.head_sha)

    def commit(self, repo: str | None, sha: str) -> CommitRow:
        """A commit by full sha or unambiguous prefix (4+ hex digits); reachable ones first."""
        info = self.repo(repo)
        prefix = sha.strip().lower()
        if len(prefix) < 4 or any(ch not in "0123456789abcdef" for ch in prefix):
            raise UnknownCommit(f"{sha!r} is not a commit sha (give at least 4 hex digits)")
        c = s.commits.c
        query = (
            select(s.commits)
            .where(c.repo_id == info.id, c.sha.startswith(prefix, autoescape=True))
            .order_by(c.reachable.desc(), c.seq)
            .limit(20)
        )
        with self.engine.connect() as conn:
            rows = [_commit_row(row) for row in conn.execute(query)]
        if not rows:
            raise UnknownCommit(f"no commit {sha!r} collected for repo {info.name!r}")
        reachable = [r for r in rows if r.reachable] or rows
        if len({r.sha for r in reachable}) > 1:
            raise UnknownCommit(f"commit prefix {sha!r} is ambiguous in repo {info.name!r}")
        return reachable[0]

    # ------------------------------------------------------------- findings
    def findings_at(self, repo: str | None, sha: str) -> list[ReportRow]:
        """The findings of one commit, as report rows (repo, commit, committed_at, introduced_in)."""
        info = self.repo(repo)
        commit = self.commit(info.name, sha)
        f, r = s.findings.c, s.finding_runs.c
        with self.engine.connect() as conn:
            rows = list(
                conn.execute(
                    select(s.findings).where(f.state_id == commit.state_id).order_by(f.position)
                )
            )
            runs = conn.execute(
                select(r.key, r.start_seq, r.start_sha, r.reachable).where(
                    r.repo_id == info.id,
                    r.start_seq <= commit.seq,
                    (r.end_seq.is_(None)) | (r.end_seq >= commit.seq),
                )
            )
            introduced: dict[str, tuple[int, str]] = {}
            for key, start_seq, start_sha, run_reachable in runs:
                if commit.reachable and not run_reachable:
                    continue
                # an unreachable commit may be covered by a run that continues into the new
                # history and by one that began in the abandoned part: the later start wins
                if key not in introduced or start_seq > introduced[key][0]:
                    introduced[key] = (int(start_seq), str(start_sha))
        return [
            ReportRow(
                _finding(row),
                repo=info.name,
                commit=commit.sha,
                committed_at=commit.committed_at,
                introduced_in=introduced.get(row.key, (0, ""))[1],
            )
            for row in rows
        ]

    def findings_all_commits(self, repo: str | None) -> Iterator[ReportRow]:
        """The findings of every reachable commit, oldest commit first.

        Each state's findings are read once and each finding's run found by bisection,
        so the cost is the size of the output, not commits × queries.
        """
        info = self.repo(repo)
        commits = self.commits(info.name)
        f, r = s.findings.c, s.finding_runs.c
        by_state: dict[int, list[tuple[str, Finding]]] = defaultdict(list)
        runs: dict[str, list[tuple[int, int, str]]] = defaultdict(list)  # key -> (start, end, sha)
        state_ids = sorted({c.state_id for c in commits})
        with self.engine.connect() as conn:
            for chunk in _chunks(state_ids, 500):
                query = (
                    select(s.findings).where(f.state_id.in_(chunk)).order_by(f.state_id, f.position)
                )
                for row in conn.execute(query):
                    by_state[int(row.state_id)].append((row.key, _finding(row)))
            query2 = select(r.key, r.start_seq, r.end_seq, r.start_sha).where(
                r.repo_id == info.id, r.reachable.is_(True)
            )
            for key, start, end, start_sha in conn.execute(query2):
                runs[key].append(
                    (int(start), int(end) if end is not None else 1 << 62, str(start_sha))
                )
        starts = {k: sorted(v) for k, v in runs.items()}
        start_keys = {k: [x[0] for x in v] for k, v in starts.items()}
        for commit in commits:
            for key, finding in by_state.get(commit.state_id, ()):
                introduced = ""
                if key in starts:
                    i = bisect.bisect_right(start_keys[key], commit.seq) - 1
                    if i >= 0 and starts[key][i][1] >= commit.seq:
                        introduced = starts[key][i][2]
                yield ReportRow(
                    finding,
                    repo=info.name,
                    commit=commit.sha,
                    committed_at=commit.committed_at,
                    introduced_in=introduced,
                )

    def environments_at(self, repo: str | None, sha: str) -> list[EnvironmentSnapshot]:
        """The environment snapshots of one commit, in the order they were found."""
        info = self.repo(repo)
        commit = self.commit(info.name, sha)
        se, e = s.state_environments.c, s.environments.c
        query = (
            select(e.data)
            .join(s.state_environments, se.environment_id == e.id)
            .where(se.state_id == commit.state_id)
            .order_by(se.position)
        )
        with self.engine.connect() as conn:
            return [
                EnvironmentSnapshot.from_dict(json.loads(data)) for (data,) in conn.execute(query)
            ]

    def state_at(self, repo: str | None, sha: str) -> dict[str, Any]:
        """How the commit's environments were found:
        ``{"config_origin": str, "config_errors": [[file, message], ...], "unassigned": [path, ...],
        "finding_count": int}``."""
        info = self.repo(repo)
        commit = self.commit(info.name, sha)
        with self.engine.connect() as conn:
            row = conn.execute(select(s.states).where(s.states.c.id == commit.state_id)).one()
        return {
            "config_origin": row.config_origin,
            "config_errors": json.loads(row.config_errors),
            "unassigned": json.loads(row.unassigned),
            "finding_count": int(row.finding_count),
        }

    def pairs_at(self, repo: str | None, sha: str) -> list[Pair]:
        """The training x serving pairs the commit's state compared, with their reasons."""
        info = self.repo(repo)
        commit = self.commit(info.name, sha)
        with self.engine.connect() as conn:
            raw = conn.execute(
                select(s.states.c.pairs).where(s.states.c.id == commit.state_id)
            ).scalar_one()
        return [Pair(*entry) for entry in json.loads(raw or "[]")]

    def unpaired_at(self, repo: str | None, sha: str) -> list[tuple[str, str]]:
        """The declared environments of the commit that were compared with nothing, each
        with why: ``[(environment, why), ...]`` in the order they were found.

        States record their pairs but not the planner's reasons for the environments left
        out, so the reason is told again from what is stored (each environment's role and
        project). A state stored before pairs were recorded compared every training x
        serving pair: it has no unpaired environment.
        """
        envs = [e for e in self.environments_at(repo, sha) if not e.observed]
        pairs = self.pairs_at(repo, sha)
        legacy = not pairs and {e.role for e in envs} == {"training", "serving"}
        if legacy and self._compared_before_pairs(repo, sha):
            return []
        paired = {p.training for p in pairs} | {p.serving for p in pairs}
        return [(e.name, _why_unpaired(e, envs)) for e in envs if e.name not in paired]

    def _compared_before_pairs(self, repo: str | None, sha: str) -> bool:
        """True for a state whose findings name an environment pair although no pair was
        recorded: it was collected by a depaudit that compared every pair."""
        commit = self.commit(self.repo(repo).name, sha)
        f = s.findings.c
        query = (
            select(f.id)
            .where(f.state_id == commit.state_id, f.training_env != "", f.serving_env != "")
            .limit(1)
        )
        with self.engine.connect() as conn:
            return conn.execute(query).first() is not None

    def latest_live(self, repo: str | None, sha: str | None = None) -> list[LiveRecord]:
        """The newest live observation of each environment that recorded its findings,
        by environment name.

        ``sha`` None (or the head): the newest of each environment whatever commit its
        declared side was read at: what is installed now. Another commit: the newest
        compared with that commit's declared environment.
        """
        info = self.repo(repo)
        at: str | None = None
        if sha is not None:
            at = self.commit(info.name, sha).sha
            if at == info.head_sha:
                at = None
        newest: dict[str, LiveRecord] = {}
        for record in self.live_records(info.name):  # newest first
            if record.findings is None or (at is not None and record.commit_sha != at):
                continue
            newest.setdefault(record.env_name, record)
        return [newest[name] for name in sorted(newest)]

    def live_report_rows(self, repo: str | None, records: Iterable[LiveRecord]) -> list[ReportRow]:
        """The findings of live observations as report rows: each row's commit is the one
        its declared side was read at; ``serving_env`` names the observed environment
        (``serving@live``), so the rows read apart from the collected ones.
        ``introduced_in`` stays empty: an observation has no history of commits."""
        info = self.repo(repo)
        dates: dict[str, str] = {}
        rows: list[ReportRow] = []
        for record in records:
            if record.commit_sha and record.commit_sha not in dates:
                try:
                    dates[record.commit_sha] = self.commit(
                        info.name, record.commit_sha
                    ).committed_at
                except StoreError:  # rewritten away since: the sha still says what was read
                    dates[record.commit_sha] = ""
            rows.extend(
                ReportRow(
                    finding,
                    repo=info.name,
                    commit=record.commit_sha,
                    committed_at=dates.get(record.commit_sha, ""),
                )
                for finding in record.findings or ()
            )
        return rows

    def timeline(self, repo: str | None) -> list[dict[str, Any]]:
        """One dict per reachable commit, oldest first::

            {"sha": str, "seq": int, "committed_at": "YYYY-MM-DDTHH:MM:SSZ", "author": "Name <email>",
             "summary": str, "total": int,
             "counts": {status: {severity: n}}}   # only non-zero entries

        Counts are computed once per distinct state, not per commit.
        """
        info = self.repo(repo)
        commits = self.commits(info.name)
        f = s.findings.c
        counts: dict[int, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
        state_ids = sorted({c.state_id for c in commits})
        with self.engine.connect() as conn:
            for chunk in _chunks(state_ids, 500):
                query = (
                    select(f.state_id, f.status, f.severity, func.count())
                    .where(f.state_id.in_(chunk))
                    .group_by(f.state_id, f.status, f.severity)
                )
                for sid, status, severity, n in conn.execute(query):
                    counts[int(sid)][status][severity] = int(n)
        out = []
        for c in commits:
            per = {status: dict(sev) for status, sev in counts.get(c.state_id, {}).items()}
            out.append(
                {
                    "sha": c.sha,
                    "seq": c.seq,
                    "committed_at": c.committed_at,
                    "author": c.author,
                    "summary": c.summary,
                    "total": sum(sum(v.values()) for v in per.values()),
                    "counts": per,
                }
            )
        return out

    def item_values(
        self, repo: str | None, key: str, state_ids: Iterable[int]
    ) -> dict[int, tuple[str, str]]:
        """Each side's value of the item of finding ``key`` in each of ``state_ids``.

        Matched on (environment pair, kind, item), not on the rule: a package that drifts
        (DA102) was shared (DA104) before, and both sides' values are wanted over the
        whole history. When several rules name the item, the row with both sides wins.
        """
        parsed = FindingKey.parse(key)
        if parsed is None:
            return {}
        f = s.findings.c
        ids = sorted(set(state_ids))
        values: dict[int, tuple[str, str]] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(ids, 500):
                query = select(f.state_id, f.training, f.serving).where(
                    f.training_env == parsed.training_env,
                    f.serving_env == parsed.serving_env,
                    f.kind == parsed.kind,
                    f.item == parsed.item,
                    f.state_id.in_(chunk),
                )
                for sid, training, serving in conn.execute(query):
                    known = values.get(int(sid))
                    if known is None or (training and serving and not all(known)):
                        values[int(sid)] = (training, serving)
        return values

    def live_marker(self) -> str:
        """Fingerprint of the live observations: ``depaudit live`` adds no commit."""
        ls = s.live_snapshots.c
        with self.engine.connect() as conn:
            if not self.engine.dialect.has_table(conn, s.live_snapshots.name):
                return "none"  # a store older than `depaudit live` (read-only: no migration)
            count, newest = conn.execute(select(func.count(), func.max(ls.id))).one()
        return f"{count}:{newest}"

    def live_records(self, repo: str | None) -> list[LiveRecord]:
        """The live observations of a repository, newest first; an unreadable one is skipped."""
        info = self.repo(repo)
        ls, e = s.live_snapshots.c, s.environments.c
        query = (
            select(ls.env_name, ls.observed_at, ls.commit_sha, ls.source, ls.findings, e.data)
            .join(s.environments, e.id == ls.environment_id)
            .where(ls.repo_id == info.id)
            .order_by(ls.observed_at.desc(), ls.id.desc())
        )
        with self.engine.connect() as conn:
            if not self.engine.dialect.has_table(conn, s.live_snapshots.name):
                return []
            rows = list(conn.execute(query))
        out = []
        for row in rows:
            try:
                observed = EnvironmentSnapshot.from_dict(json.loads(row.data))
            except (ValueError, TypeError, KeyError):
                continue  # an unreadable observation must not hide the others
            out.append(
                LiveRecord(
                    env_name=row.env_name,
                    observed_at=row.observed_at or "",
                    commit_sha=row.commit_sha or "",
                    source=row.source or "",
                    observed=observed,
                    findings=_stored_findings(row.findings),
                )
            )
        return out

    def finding_history(self, repo: str | None, key: str) -> list[dict[str, Any]]:
        """The runs of one finding key, oldest first::

        {"start_sha", "start_committed_at", "end_sha" (last commit with it, None: still open),
         "resolved_sha" (first commit without it, None: not resolved), "resolved_at",
         "reachable": bool}
        """
        info = self.repo(repo)
        r, c = s.finding_runs.c, s.commits.c
        with self.engine.connect() as conn:
            runs = list(
                conn.execute(
                    select(s.finding_runs)
                    .where(r.repo_id == info.id, r.key == key)
                    .order_by(r.start_seq)
                )
            )
            shas = {x.start_sha for x in runs} | {x.resolved_sha for x in runs if x.resolved_sha}
            dates = {
                sha: at
                for sha, at in conn.execute(
                    select(c.sha, c.committed_at).where(
                        c.repo_id == info.id, c.sha.in_(sorted(shas))
                    )
                )
            }
        return [
            {
                "start_sha": x.start_sha,
                "start_committed_at": dates.get(x.start_sha, ""),
                "end_sha": x.end_sha,
                "resolved_sha": x.resolved_sha,
                "resolved_at": dates.get(x.resolved_sha, "") if x.resolved_sha else None,
                "reachable": bool(x.reachable),
            }
            for x in runs
        ]


def _why_unpaired(env: EnvironmentSnapshot, envs: list[EnvironmentSnapshot]) -> str:
    other = "serving" if env.role == "training" else "training"
    if not any(e.role == other for e in envs):
        return f"no {other} environment in the repository"
    if not env.project:
        return (
            f"in no project: no {other} environment in its folder or a folder above it "
            "that is not another project's"
        )
    project = "the repository root" if env.project == "." else env.project
    if not any(e.role == other and e.project == env.project for e in envs):
        return f"its project ({project}) has no {other} environment"
    return f"its project ({project}) has no {other} environment of the same name"


def _stored_findings(raw: str | None) -> tuple[Finding, ...] | None:
    """The findings a live row holds, or None when it holds none or they are unreadable."""
    if not raw:
        return None
    try:
        return tuple(Finding.from_dict(f) for f in json.loads(raw))
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def _commit_row(row: Any) -> CommitRow:
    return CommitRow(
        sha=row.sha,
        parents=tuple(row.parents.split()),
        author_name=row.author_name,
        author_email=row.author_email,
        committed_at=row.committed_at,
        summary=row.summary,
        seq=int(row.seq),
        state_id=int(row.state_id),
        reachable=bool(row.reachable),
    )


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
