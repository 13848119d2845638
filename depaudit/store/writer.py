"""Collect-side writes: commits, deduplicated states, findings and finding runs.

The writer buffers a batch of commits and writes it in ONE transaction together with
the repo's resume point (``repos.head_sha``) and the lease's heartbeat, so a collector
killed at any moment leaves a store that is consistent at a batch boundary, and the
next run resumes right after it.

What it delegates: the lease to :mod:`depaudit.store.lock`, which runs open and close
to :mod:`depaudit.store.runs` (pure); this module turns their answers into batched SQL.
A commit whose state equals its predecessor's changes no run, so run work grows with
state *changes*, not with commits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, func, insert, select, update

from depaudit.model import CommitInfo, TreeAudit
from depaudit.store import schema as s
from depaudit.store.engine import StoreError
from depaudit.store.finding_rows import FindingWriter, counts_json, insert_returning_ids
from depaudit.store.lock import DEFAULT_STALE_LOCK_SECONDS, LockTimeout, RepoLock
from depaudit.store.parts import PartWriter
from depaudit.store.refs import pack, unpack
from depaudit.store.runs import Closed, Opened, Point, RunTracker

__all__ = ["DEFAULT_BATCH_SIZE", "LockTimeout", "RepoWriter", "RunStats"]

DEFAULT_BATCH_SIZE = 200


@dataclass(slots=True)
class RunStats:
    commits: int = 0
    states_new: int = 0
    findings_new: int = 0  # runs opened
    findings_resolved: int = 0  # runs closed
    unreachable: int = 0  # commits marked unreachable by a history rewrite
    batches: int = 0


@dataclass(slots=True)
class _Head:
    point: Point
    state_hash: str


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class RepoWriter:
    """Writes one repository's history. Use as a context manager (holds the repo lock)."""

    def __init__(
        self,
        engine: Engine,
        name: str,
        *,
        path: str = "",
        url: str = "",
        branch: str = "",
        batch_size: int = DEFAULT_BATCH_SIZE,
        lock_timeout: float = 0.0,
        stale_lock_seconds: float = DEFAULT_STALE_LOCK_SECONDS,
    ) -> None:
        self.engine = engine
        self.name = name
        self.batch_size = max(1, batch_size)
        self.lock = RepoLock(engine, name, timeout=lock_timeout, stale_seconds=stale_lock_seconds)
        self.stats = RunStats()
        self._path, self._url, self._branch = path, url, branch
        self.repo_id = 0
        self.stored_branch = ""  # the branch the stored history was collected from
        self.head: _Head | None = None
        self.next_seq = 0
        self.runs = RunTracker()
        # resume caches: what the store already holds, so a commit costs no query
        self._sig_to_hash: dict[str, str] = {}
        self._state_ids: dict[str, int] = {}
        self._state_keys: dict[str, frozenset[str]] = {}
        self.parts = PartWriter()  # parts and environments: shared by every repo of the store
        self.findings = FindingWriter(0)  # this repo's; given its id by _load
        # the batch being built
        self._pending_states: dict[str, TreeAudit] = {}
        self._pending_commits: list[dict[str, Any]] = []
        self._open_new: dict[tuple[str, int], dict[str, Any]] = {}  # runs opened in this batch
        self._closed_new: list[dict[str, Any]] = []  # runs opened and closed in this batch
        self._closes: list[dict[str, Any]] = []  # closes of runs already in the store

    @property
    def holder(self) -> str:
        return self.lock.holder

    # ------------------------------------------------------------ lifecycle
    def __enter__(self) -> RepoWriter:
        s.migrate(self.engine)
        self.lock.acquire()
        try:
            self._load()
        except BaseException:
            self.lock.release()
            raise
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if exc_type is None:
                self.flush()
        finally:
            self.lock.release()

    def _load(self) -> None:
        with self.engine.begin() as conn:
            row = conn.execute(select(s.repos).where(s.repos.c.name == self.name)).first()
            if row is None:
                self.repo_id = int(
                    conn.execute(
                        insert(s.repos).values(
                            name=self.name,
                            path=self._path,
                            url=self._url,
                            branch=self._branch,
                            shallow=False,
                        )
                    ).inserted_primary_key[0]  # type: ignore[index]
                )
                self.findings = FindingWriter(self.repo_id)
                return
            self.repo_id = int(row.id)
            self.findings = FindingWriter(self.repo_id)
            self.stored_branch = str(row.branch or "")
            head_sha = row.head_sha
            for h, sid in conn.execute(
                select(s.states.c.content_hash, s.states.c.id).where(
                    s.states.c.repo_id == self.repo_id
                )
            ):
                self._state_ids[h] = int(sid)
            id_to_hash = {v: k for k, v in self._state_ids.items()}
            for sig, sid in conn.execute(
                select(s.commits.c.env_signature, s.commits.c.state_id)
                .where(s.commits.c.repo_id == self.repo_id)
                .distinct()
            ):
                self._sig_to_hash[sig] = id_to_hash[int(sid)]
            max_seq = conn.execute(
                select(func.max(s.commits.c.seq)).where(s.commits.c.repo_id == self.repo_id)
            ).scalar()
            self.next_seq = 0 if max_seq is None else int(max_seq) + 1
            if head_sha:
                self._set_head(conn, head_sha)

    def _set_head(self, conn: Connection, sha: str | None) -> None:
        """Resume at stored commit ``sha``: its state, and the runs open at it."""
        if sha is None:
            self.head, self.runs = None, RunTracker()
            return
        c, r = s.commits.c, s.finding_runs.c
        row = conn.execute(
            select(c.seq, c.sha, c.state_id).where(c.repo_id == self.repo_id, c.sha == sha)
        ).first()
        if row is None:
            raise StoreError(
                f"store is inconsistent: head {sha[:12]} of repo {self.name!r} has no commit row"
            )
        state_hash = next(h for h, i in self._state_ids.items() if i == row.state_id)
        point = Point(int(row.seq), str(row.sha))
        self.head = _Head(point, state_hash)
        open_runs = {
            str(key): Point(int(seq), str(start_sha))
            for key, seq, start_sha in conn.execute(
                select(r.key, r.start_seq, r.start_sha).where(
                    r.repo_id == self.repo_id, r.reachable.is_(True), r.end_seq.is_(None)
                )
            )
        }
        self.runs = RunTracker(point, open_runs)
        # the head state's keys are the open runs' keys (the invariant of runs.py)
        self._state_keys.setdefault(state_hash, self.runs.open_keys)

    def _keys_of(self, state_hash: str) -> frozenset[str]:
        keys = self._state_keys.get(state_hash)
        if keys is None:
            if state_hash in self._pending_states:
                keys = frozenset(f.key for f in self._pending_states[state_hash].findings)
            else:  # an earlier state that comes back (A -> B -> A)
                st = s.states.c
                with self.engine.connect() as conn:
                    packed = conn.execute(
                        select(st.finding_ids).where(st.id == self._state_ids[state_hash])
                    ).scalar_one()
                    keys = self.findings.keys_of(conn, unpack(packed))
            self._state_keys[state_hash] = keys
        return keys

    # ---------------------------------------------------------------- reads
    @property
    def head_sha(self) -> str | None:
        return self.head.point.sha if self.head else None

    def reachable_shas(self) -> list[tuple[int, str]]:
        """(seq, sha) of the stored reachable commits, oldest first."""
        c = s.commits.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(c.seq, c.sha)
                .where(c.repo_id == self.repo_id, c.reachable.is_(True))
                .order_by(c.seq)
            )
            return [(int(q), str(h)) for q, h in rows]

    def state_for_signature(self, signature: str) -> str | None:
        """The state hash of an earlier commit with the same environment files, if any."""
        return self._sig_to_hash.get(signature)

    def has_state(self, state_hash: str) -> bool:
        return state_hash in self._state_ids or state_hash in self._pending_states

    # --------------------------------------------------------------- writes
    def add_state(self, state: TreeAudit) -> str:
        if not self.has_state(state.content_hash):
            self._pending_states[state.content_hash] = state
            self._state_keys[state.content_hash] = frozenset(f.key for f in state.findings)
        return state.content_hash

    def add_commit(self, info: CommitInfo, *, signature: str, state_hash: str) -> None:
        sha = info.sha
        point = Point(self.next_seq, sha)
        self.next_seq += 1
        keys = (
            self.runs.open_keys
            if self.head is not None and self.head.state_hash == state_hash
            else self._keys_of(state_hash)
        )
        for event in self.runs.advance(point, keys):
            if isinstance(event, Opened):
                self._open_run(event)
            else:
                self._close_run(event)
        self._sig_to_hash[signature] = state_hash
        self._pending_commits.append(
            {
                "repo_id": self.repo_id,
                "sha": sha,
                "parents": " ".join(info.parents),
                "author_name": info.author_name,
                "author_email": info.author_email,
                "committed_at": info.committed_at,
                "summary": info.summary,
                "seq": point.seq,
                "state_hash": state_hash,
                "env_signature": signature,
                "reachable": True,
            }
        )
        self.head = _Head(point, state_hash)
        self.stats.commits += 1
        if len(self._pending_commits) >= self.batch_size:
            self.flush()

    def _open_run(self, event: Opened) -> None:
        self.stats.findings_new += 1
        self._open_new[(event.key, event.start.seq)] = {
            "repo_id": self.repo_id,
            "key": event.key,
            "start_seq": event.start.seq,
            "start_sha": event.start.sha,
            "end_seq": None,
            "end_sha": None,
            "resolved_seq": None,
            "resolved_sha": None,
            "reachable": True,
        }

    def _close_run(self, event: Closed) -> None:
        self.stats.findings_resolved += 1
        values = {
            "end_seq": event.end.seq,
            "end_sha": event.end.sha,
            "resolved_seq": event.resolved.seq,
            "resolved_sha": event.resolved.sha,
        }
        opened = self._open_new.pop((event.key, event.start.seq), None)
        if opened is not None:
            opened.update(values)
            self._closed_new.append(opened)
        else:  # a run already in the store: closed by UPDATE
            self._closes.append({"k": event.key, "s": event.start.seq, **values})

    def flush(self) -> None:
        """Write the buffered batch and the resume point in one transaction."""
        if not self._pending_commits and not self._pending_states:
            return
        try:
            with self.engine.begin() as conn:
                new_ids = self._insert_states(conn, list(self._pending_states.values()))
                ids = {**self._state_ids, **new_ids}
                self._write_commits(conn, ids)
                self._write_runs(conn)
                self._touch(conn, head_sha=self.head_sha)
        except BaseException:
            self.parts.rollback()
            self.findings.rollback()
            raise
        self.parts.commit()
        self.findings.commit()
        self._state_ids.update(new_ids)
        self.stats.states_new += len(new_ids)
        self.stats.batches += 1
        self._pending_states.clear()
        self._pending_commits.clear()
        self._closed_new.clear()
        self._closes.clear()
        # runs opened in this batch are now in the store: close them by UPDATE later
        self._open_new.clear()

    def _insert_states(self, conn: Connection, states: list[TreeAudit]) -> dict[str, int]:
        if not states:
            return {}
        env_ids = self.parts.environment_ids(
            conn,
            (
                (h, env)
                for state in states
                for env, h in zip(state.environments, state.environment_hashes, strict=True)
            ),
        )
        rows = [
            {
                "repo_id": self.repo_id,
                "content_hash": state.content_hash,
                "config_origin": state.config_origin,
                "config_errors": json.dumps([[e.file, e.message] for e in state.config_errors]),
                "pairs": json.dumps(
                    [[p.training, p.serving, p.project, p.reason] for p in state.pairs]
                ),
                "unassigned": pack(self.parts.path_ids(conn, state.unassigned)),
                "finding_count": len(state.findings),
                "finding_ids": pack(self.findings.ids(conn, state.findings)),
                "counts": counts_json(state.findings),
            }
            for state in states
        ]
        state_ids = insert_returning_ids(conn, s.states, rows)
        links = [
            {"state_id": sid, "position": i, "environment_id": env_ids[h]}
            for sid, state in zip(state_ids, states, strict=True)
            for i, h in enumerate(state.environment_hashes)
        ]
        if links:
            conn.execute(insert(s.state_environments), links)
        return {state.content_hash: sid for state, sid in zip(states, state_ids, strict=True)}

    def _write_commits(self, conn: Connection, ids: dict[str, int]) -> None:
        if not self._pending_commits:
            return
        rows = []
        for row in self._pending_commits:
            out = {k: v for k, v in row.items() if k != "state_hash"}
            out["state_id"] = ids[row["state_hash"]]
            rows.append(out)
        c = s.commits.c
        # a commit that was unreachable (rewritten away) and is back again is updated
        existing = set(
            conn.execute(
                select(c.sha).where(c.repo_id == self.repo_id, c.sha.in_([r["sha"] for r in rows]))
            ).scalars()
        )
        fresh = [r for r in rows if r["sha"] not in existing]
        if fresh:
            conn.execute(insert(s.commits), fresh)
        again = [{**r, "b_sha": r["sha"]} for r in rows if r["sha"] in existing]
        if again:
            conn.execute(
                update(s.commits)
                .where(c.repo_id == self.repo_id, c.sha == bindparam("b_sha"))
                .values(
                    seq=bindparam("seq"),
                    state_id=bindparam("state_id"),
                    env_signature=bindparam("env_signature"),
                    reachable=True,
                ),
                [
                    {
                        "b_sha": r["b_sha"],
                        "seq": r["seq"],
                        "state_id": r["state_id"],
                        "env_signature": r["env_signature"],
                    }
                    for r in again
                ],
            )

    def _write_runs(self, conn: Connection) -> None:
        r = s.finding_runs.c
        # the close of a stored run names its start, so a key closed and reopened in
        # this batch never closes the new run
        if self._closes:
            conn.execute(
                update(s.finding_runs)
                .where(
                    and_(
                        r.repo_id == self.repo_id,
                        r.key == bindparam("k"),
                        r.start_seq == bindparam("s"),
                        r.end_seq.is_(None),
                        r.reachable.is_(True),
                    )
                )
                .values(
                    end_seq=bindparam("end_seq"),
                    end_sha=bindparam("end_sha"),
                    resolved_seq=bindparam("resolved_seq"),
                    resolved_sha=bindparam("resolved_sha"),
                ),
                self._closes,
            )
        new_runs = self._closed_new + list(self._open_new.values())
        if new_runs:
            conn.execute(insert(s.finding_runs), new_runs)

    def _touch(self, conn: Connection, **values: Any) -> None:
        conn.execute(update(s.repos).where(s.repos.c.id == self.repo_id).values(**values))
        self.lock.heartbeat(conn)

    def rewind(self, base_sha: str | None) -> int:
        """History was rewritten: commits after ``base_sha`` (a stored reachable commit,
        or None for none at all) become unreachable. The runs change as
        :func:`depaudit.store.runs.rewind` says, in three UPDATEs.
        Returns the number of commits marked unreachable.
        """
        self.flush()
        c, r = s.commits.c, s.finding_runs.c
        with self.engine.begin() as conn:
            base_seq = -1
            if base_sha is not None:
                base_seq = int(
                    conn.execute(
                        select(c.seq).where(c.repo_id == self.repo_id, c.sha == base_sha)
                    ).scalar_one()
                )
            old_head = self.head.point if self.head is not None else None
            marked = conn.execute(
                update(s.commits)
                .where(c.repo_id == self.repo_id, c.seq > base_seq, c.reachable.is_(True))
                .values(reachable=False)
            ).rowcount
            # runs that began in the abandoned commits: closed at the old head, kept as history
            if old_head is not None:
                conn.execute(
                    update(s.finding_runs)
                    .where(
                        r.repo_id == self.repo_id,
                        r.start_seq > base_seq,
                        r.reachable.is_(True),
                        r.end_seq.is_(None),
                    )
                    .values(end_seq=old_head.seq, end_sha=old_head.sha)
                )
            conn.execute(
                update(s.finding_runs)
                .where(r.repo_id == self.repo_id, r.start_seq > base_seq, r.reachable.is_(True))
                .values(reachable=False)
            )
            # runs alive at the base continue into the new history
            conn.execute(
                update(s.finding_runs)
                .where(
                    r.repo_id == self.repo_id,
                    r.reachable.is_(True),
                    r.start_seq <= base_seq,
                    r.end_seq >= base_seq,
                )
                .values(end_seq=None, end_sha=None, resolved_seq=None, resolved_sha=None)
            )
            self._touch(conn, head_sha=base_sha)
            self._set_head(conn, base_sha)
        self.stats.unreachable += int(marked or 0)
        return int(marked or 0)

    def finish(self, *, branch: str, shallow: bool, since: str | None, seconds: float) -> None:
        """Flush and record the run on the repo row."""
        self.flush()
        stats = {
            "commits": self.stats.commits,
            "states_new": self.stats.states_new,
            "findings_new": self.stats.findings_new,
            "findings_resolved": self.stats.findings_resolved,
            "unreachable": self.stats.unreachable,
            "seconds": round(seconds, 3),
        }
        values: dict[str, Any] = {
            "branch": branch,
            "shallow": shallow,
            "path": self._path,
            "url": self._url,
            "last_collected_at": _now_iso(),
            "last_run": json.dumps(stats, sort_keys=True),
        }
        with self.engine.begin() as conn:
            row = conn.execute(select(s.repos.c.since).where(s.repos.c.id == self.repo_id)).first()
            if since and row is not None and not row.since:
                values["since"] = since
            self._touch(conn, **values)
