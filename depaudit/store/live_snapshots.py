"""Live observations in the store (``depaudit live``): write one, read them back.

The observed snapshot goes into the shared, content-deduplicated ``environments`` table
by its parts (:mod:`.parts`: the same environment observed nightly is stored
once, and a package upgrade adds a part, not a copy); ``live_snapshots`` records each
observation: which declared environment, compared at which commit, when, from where,
and the live findings of that comparison.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, select

from depaudit.model import EnvironmentSnapshot, Finding
from depaudit.store import parts
from depaudit.store import schema as s
from depaudit.store.engine import StoreError


@dataclass(frozen=True, slots=True)
class LiveObservation:
    id: int
    repo: str
    env_name: str
    commit_sha: str
    observed_at: str
    source: str
    snapshot: EnvironmentSnapshot
    findings: tuple[Finding, ...]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _repo_id(conn: Connection, repo: str) -> int:
    row = conn.execute(select(s.repos.c.id).where(s.repos.c.name == repo)).first()
    if row is None:
        raise StoreError(f"no repository {repo!r} in the store (run `depaudit collect` first)")
    return int(row[0])


def _environment_id(conn: Connection, env: EnvironmentSnapshot) -> int:
    env_hash = env.content_hash()
    return parts.PartWriter().environment_ids(conn, [(env_hash, env)])[env_hash]


def save_observation(
    engine: Engine,
    *,
    repo: str,
    env_name: str,
    commit_sha: str,
    source: str,
    snapshot: EnvironmentSnapshot,
    findings: list[Finding],
    observed_at: str | None = None,
) -> int:
    """Store one live observation in one transaction; returns its id."""
    with engine.begin() as conn:
        repo_id = _repo_id(conn, repo)
        env_id = _environment_id(conn, snapshot)
        result = conn.execute(
            s.live_snapshots.insert().values(
                repo_id=repo_id,
                env_name=env_name,
                commit_sha=commit_sha,
                observed_at=observed_at or _now(),
                source=source,
                environment_id=env_id,
                findings=json.dumps([f.to_dict() for f in findings], ensure_ascii=False),
                finding_count=len(findings),
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])


def observations(engine: Engine, repo: str, env_name: str | None = None) -> list[LiveObservation]:
    """Observations of a repo (optionally one environment), oldest first."""
    ls, r = s.live_snapshots.c, s.repos.c
    query = (
        select(s.live_snapshots, r.name.label("repo_name"))
        .join(s.repos, r.id == ls.repo_id)
        .where(r.name == repo)
        .order_by(ls.observed_at, ls.id)
    )
    if env_name is not None:
        query = query.where(ls.env_name == env_name)
    with engine.connect() as conn:
        rows = list(conn.execute(query))
        snapshots = parts.load_environments(conn, {int(row.environment_id) for row in rows})
    return [
        LiveObservation(
            id=int(row.id),
            repo=row.repo_name,
            env_name=row.env_name,
            commit_sha=row.commit_sha,
            observed_at=row.observed_at,
            source=row.source,
            snapshot=snapshots[int(row.environment_id)],
            findings=tuple(Finding.from_dict(f) for f in json.loads(row.findings)),
        )
        for row in rows
    ]
