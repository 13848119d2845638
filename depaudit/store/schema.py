"""The store's tables (SQLAlchemy Core) and its migration path.

Layout (DESIGN.md §7): a commit points at a *state* (the environments and findings of
its tree); states are deduplicated per repo by content hash and environments globally,
so a history of 10,000 commits with 50 distinct environment states stores 50 states.
``finding_runs`` records, per finding key, each unbroken run of reachable commits that
have it: the run's first commit is the finding's ``introduced_in``, the commit after its
last is where it was resolved.

v4 stores each thing once by content: an environment is a header and packed lists of
references to ``parts`` (a run of facts from one file, a file assignment; see
:mod:`.parts`), a finding is one row per repo however many states have it, and a state
lists its findings and its unassigned paths by reference (packed by :mod:`.refs`).
Consecutive states that share almost everything share almost all rows.

``migrate(engine)`` creates a new store or upgrades an old one step by step; every
version ever released keeps its step in :data:`MIGRATIONS`.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    inspect,
    select,
)

SCHEMA_VERSION = 4

metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

repos = Table(
    "repos",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("path", Text, nullable=False, default=""),
    Column("url", Text, nullable=False, default=""),
    Column("branch", String(255), nullable=False, default=""),
    Column("head_sha", String(64), nullable=True),  # last commit stored (resume point)
    Column("since", String(64), nullable=True),  # --since of the first collect, if any
    Column("shallow", Boolean, nullable=False, default=False),
    Column("last_collected_at", String(32), nullable=True),  # ISO 8601 UTC
    Column("last_run", Text, nullable=True),  # JSON stats of the last collect
)

states = Table(
    "states",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("repo_id", Integer, ForeignKey("repos.id", ondelete="CASCADE"), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("config_origin", Text, nullable=False, default=""),  # a --config path can be long
    Column("config_errors", Text, nullable=False, default="[]"),  # JSON [[file, message], ...]
    # v4: packed ids of path parts; before v4 JSON [path, ...]
    Column("unassigned", Text, nullable=False, default=""),
    Column("finding_count", Integer, nullable=False, default=0),
    # v3: the compared pairs, JSON [[training, serving, project, reason], ...]
    Column("pairs", Text, nullable=False, default="[]"),
    # v4: the state's findings in order (packed ids of ``findings`` rows), and their
    # counts as JSON {status: {severity: n}} (the timeline reads no finding)
    Column("finding_ids", Text, nullable=False, default=""),
    Column("counts", Text, nullable=False, default="{}"),
    UniqueConstraint("repo_id", "content_hash", name="uq_states_repo_hash"),
)

environments = Table(
    "environments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("content_hash", String(64), nullable=False, unique=True),
    Column("name", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    # v4: JSON of the header only {"origin", "entrypoints", "observed"[, "project"]};
    # before v4 the whole EnvironmentSnapshot.to_dict()
    Column("data", Text, nullable=False),
    Column("files", Text, nullable=False, default=""),  # v4: packed ids of parts
    Column("facts", Text, nullable=False, default=""),  # v4: packed ids of parts
)

# v4: what environments and states are made of, each stored once by the sha256 of its
# JSON: [fact dict, ...] (a run of facts of one file), [path, reason] or "path"
parts = Table(
    "parts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("content_hash", String(64), nullable=False, unique=True),
    Column("data", Text, nullable=False),
)

state_environments = Table(
    "state_environments",
    metadata,
    Column("state_id", Integer, ForeignKey("states.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("environment_id", Integer, ForeignKey("environments.id"), nullable=False),
)

commits = Table(
    "commits",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("repo_id", Integer, ForeignKey("repos.id", ondelete="CASCADE"), nullable=False),
    Column("sha", String(64), nullable=False),
    Column("parents", Text, nullable=False, default=""),  # space-separated shas
    Column("author_name", Text, nullable=False, default=""),
    Column("author_email", Text, nullable=False, default=""),
    Column("committed_at", String(32), nullable=False, default=""),  # ISO 8601 UTC
    Column("summary", Text, nullable=False, default=""),
    Column("seq", Integer, nullable=False),  # walk order within the repo
    Column("state_id", Integer, ForeignKey("states.id"), nullable=False),
    Column("env_signature", String(96), nullable=False),  # lets a later run reuse states
    Column("reachable", Boolean, nullable=False, default=True),
    UniqueConstraint("repo_id", "sha", name="uq_commits_repo_sha"),
    Index("ix_commits_repo_seq", "repo_id", "seq"),
    Index("ix_commits_repo_signature", "repo_id", "env_signature"),
)

# v4: one row per distinct finding of a repo; states list them (states.finding_ids).
# Before v4 each state had its own copy (state_id, key, position).
findings = Table(
    "findings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("repo_id", Integer, ForeignKey("repos.id", ondelete="CASCADE"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("item", Text, nullable=False),
    Column("severity", String(8), nullable=False),
    Column("rule", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Column("training_env", String(255), nullable=False, default=""),
    Column("serving_env", String(255), nullable=False, default=""),
    Column("training", Text, nullable=False, default=""),
    Column("serving", Text, nullable=False, default=""),
    Column("file", Text, nullable=False, default=""),
    Column("line", Integer, nullable=False, default=0),
    Column("evidence", Text, nullable=False, default=""),
    Index("ix_findings_repo_item", "repo_id", "kind", "item"),
)

finding_runs = Table(
    "finding_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("repo_id", Integer, ForeignKey("repos.id", ondelete="CASCADE"), nullable=False),
    Column("key", Text, nullable=False),
    Column("start_seq", Integer, nullable=False),
    Column("start_sha", String(64), nullable=False),
    Column("end_seq", Integer, nullable=True),  # last commit that has it; NULL: still open
    Column("end_sha", String(64), nullable=True),
    Column("resolved_seq", Integer, nullable=True),  # first commit without it
    Column("resolved_sha", String(64), nullable=True),
    Column("reachable", Boolean, nullable=False, default=True),
    Index("ix_runs_repo_key", "repo_id", "key"),
    Index("ix_runs_repo_start", "repo_id", "start_seq"),
)

locks = Table(
    "locks",
    metadata,
    Column("repo_name", String(255), primary_key=True),
    Column("holder", String(255), nullable=False),  # host:pid:token
    Column("acquired_at", Integer, nullable=False),  # unix seconds
    Column("heartbeat_at", Integer, nullable=False),
)


# v2: live (pipdeptree) observations of an environment, compared with the declared
# environment of the repo's head commit at the time (``depaudit live``).
live_snapshots = Table(
    "live_snapshots",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("repo_id", Integer, ForeignKey("repos.id", ondelete="CASCADE"), nullable=False),
    Column("env_name", String(255), nullable=False),  # the declared environment observed
    Column("commit_sha", String(64), nullable=False, default=""),  # declared side's commit
    Column("observed_at", String(32), nullable=False),  # ISO 8601 UTC
    Column("source", Text, nullable=False, default=""),  # interpreter path or captured file
    Column("environment_id", Integer, ForeignKey("environments.id"), nullable=False),
    Column("findings", Text, nullable=False, default="[]"),  # JSON [Finding.to_dict(), ...]
    Column("finding_count", Integer, nullable=False, default=0),
    Index("ix_live_repo_env", "repo_id", "env_name", "observed_at"),
)


class SchemaError(Exception):
    """The store was written by a newer depaudit, or is not a depaudit store."""


def current_version(conn: Connection) -> int:
    """0 for an empty database, else the stored schema version."""
    if not inspect(conn).has_table("meta"):
        return 0
    row = conn.execute(select(meta.c.value).where(meta.c.key == "schema_version")).first()
    if row is None:
        return 0
    try:
        return int(row[0])
    except ValueError:
        raise SchemaError(f"meta.schema_version is not a number: {row[0]!r}") from None


def _create_v1(conn: Connection) -> None:
    metadata.create_all(conn)


# version reached -> step from the version before it. A future schema change adds
# ``2: _v1_to_v2`` (ALTER TABLE ... via conn.execute) and bumps SCHEMA_VERSION.
def _v1_to_v2(conn: Connection) -> None:
    # checkfirst: a store created at v2 already has it from create_all in _create_v1
    live_snapshots.create(conn, checkfirst=True)
    # v1 had config_origin VARCHAR(64): PostgreSQL rejected a long --config path
    # (SQLite never enforced the length, so only PostgreSQL needs the change)
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ALTER TABLE states ALTER COLUMN config_origin TYPE TEXT")


def _v2_to_v3(conn: Connection) -> None:
    # states record the pairs they compared (and why); older states compared every
    # training x serving pair, which an empty list means
    columns = {c["name"] for c in inspect(conn).get_columns("states")}
    if "pairs" not in columns:
        conn.exec_driver_sql("ALTER TABLE states ADD COLUMN pairs TEXT NOT NULL DEFAULT '[]'")


def _v3_to_v4(conn: Connection) -> None:
    from depaudit.store.compact_v4 import compact

    compact(conn)


MIGRATIONS: dict[int, Callable[[Connection], None]] = {
    1: _create_v1,
    2: _v1_to_v2,
    3: _v2_to_v3,
    4: _v3_to_v4,
}


def migrate(engine: Engine, *, attempts: int = 10) -> int:
    """Bring the store at ``engine`` to :data:`SCHEMA_VERSION`; returns the version.

    Two collectors started at once on a new store both see version 0 and race to create
    the tables; the loser's transaction fails ("table ... already exists") and is rolled
    back, so it waits a moment and looks again: by then the winner has committed.
    """
    import time

    from sqlalchemy.exc import DatabaseError

    before = 0
    for attempt in range(attempts):
        try:
            before = _migrate_once(engine)
            break
        except DatabaseError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    if 0 < before < 4 and engine.dialect.name == "sqlite":
        _give_space_back(engine)
    return SCHEMA_VERSION


def _migrate_once(engine: Engine) -> int:
    """Run the missing steps in one transaction; the version found before them."""
    with engine.begin() as conn:
        version = current_version(conn)
        if version > SCHEMA_VERSION:
            raise SchemaError(
                f"the store has schema version {version}, newer than this depaudit ({SCHEMA_VERSION}); upgrade depaudit"
            )
        if version == SCHEMA_VERSION:
            return version
        if conn.dialect.name == "sqlite":
            # pysqlite begins a transaction only before INSERT / UPDATE / DELETE, so each
            # step's DDL would commit on its own: begin one (and take the write lock, so
            # a second collector waits here and then finds the store migrated)
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            version = current_version(conn)
        for target in range(version + 1, SCHEMA_VERSION + 1):
            MIGRATIONS[target](conn)
            _set_version(conn, target)
    return version


def _give_space_back(engine: Engine) -> None:
    """After the v4 compaction most of an old SQLite file is free pages: VACUUM returns
    them to the file system (a 1.4 GB store becomes tens of MB). Best effort: with a
    reader holding the file it fails, and the free pages are reused by later writes."""
    from sqlalchemy.exc import DatabaseError

    try:
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM")
    except DatabaseError:
        pass


def _set_version(conn: Connection, version: int) -> None:
    updated = conn.execute(
        meta.update().where(meta.c.key == "schema_version").values(value=str(version))
    ).rowcount
    if not updated:
        conn.execute(meta.insert().values(key="schema_version", value=str(version)))
