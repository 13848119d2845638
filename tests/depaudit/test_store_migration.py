"""Upgrading a v3 store (whole environments as JSON, findings copied per state) to the
v4 layout (parts and findings stored once by content), on SQLite and PostgreSQL.

The v3 store is written with raw SQL in the v3 layout, from the same history that the
current writer stores directly; after ``migrate`` every read the reports and the
dashboard make gives the same answer from both, and the migrated store goes on
collecting.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    inspect,
    select,
    text,
)

from depaudit.model import (
    CodeModule,
    CommitInfo,
    ConfigEntry,
    Definition,
    EnvironmentSnapshot,
    FileAssignment,
    Finding,
    ImportRef,
    Package,
    Pair,
    Runtime,
    TreeAudit,
)
from depaudit.store import schema
from depaudit.store.engine import open_engine
from depaudit.store.live_snapshots import save_observation
from depaudit.store.parts import load_environments, load_paths
from depaudit.store.reader import StoreReader
from depaudit.store.writer import RepoWriter

# ------------------------------------------------------------- the v3 layout

V3 = MetaData()
for table in (
    schema.meta,
    schema.repos,
    schema.commits,
    schema.finding_runs,
    schema.locks,
    schema.live_snapshots,
    schema.state_environments,
):
    table.to_metadata(V3)
Table(
    "states",
    V3,
    Column("id", Integer, primary_key=True),
    Column("repo_id", Integer, ForeignKey("repos.id", ondelete="CASCADE"), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("config_origin", Text, nullable=False, default=""),
    Column("config_errors", Text, nullable=False, default="[]"),
    Column("unassigned", Text, nullable=False, default="[]"),
    Column("finding_count", Integer, nullable=False, default=0),
    Column("pairs", Text, nullable=False, default="[]"),
    UniqueConstraint("repo_id", "content_hash", name="uq_states_repo_hash"),
)
Table(
    "environments",
    V3,
    Column("id", Integer, primary_key=True),
    Column("content_hash", String(64), nullable=False, unique=True),
    Column("name", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("data", Text, nullable=False),
)
Table(
    "findings",
    V3,
    Column("id", Integer, primary_key=True),
    Column("state_id", Integer, ForeignKey("states.id", ondelete="CASCADE"), nullable=False),
    Column("key", Text, nullable=False),
    *(
        Column(name, Text if name != "line" else Integer, nullable=False)
        for name in (
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
    ),
    Column("position", Integer, nullable=False),
    Index("ix_findings_state", "state_id"),
)


# ------------------------------------------------------------- a history


def requirements(*pins: str) -> tuple[Package, ...]:
    return tuple(
        Package(p.split("==")[0], "training/requirements.txt", n, f"=={p.split('==')[1]}")
        for n, p in enumerate(pins, 1)
    )


def code(module: str, body: str) -> CodeModule:
    return CodeModule(
        module,
        f"{module.replace('.', '/')}.py",
        imports=(ImportRef("numpy", 1), ImportRef("sklearn.preprocessing", 2)),
        definitions=(Definition("preprocess", "function", 4, f"h-{body}", body),),
    )


def environments(version: int) -> tuple[EnvironmentSnapshot, ...]:
    training = EnvironmentSnapshot(
        "training",
        "training",
        "convention",
        files=(
            FileAssignment("training/requirements.txt", 'convention: folder "training/"'),
            FileAssignment("common/features.py", "shared code"),
        ),
        facts=(
            code("common.features", f"return x * {version % 2}"),
            *requirements("optuna==3.6.1", f"torch==2.{version % 3}.0"),
        ),
    )
    serving = EnvironmentSnapshot(
        "serving",
        "serving",
        "convention",
        files=(
            FileAssignment("serving/Dockerfile", 'convention: folder "serving/"'),
            FileAssignment("common/features.py", "shared code"),
        ),
        facts=(
            code("common.features", f"return x * {version % 2}"),
            ConfigEntry("DB_PASSWORD", "***masked:ab12***", "serving/.env", 1, secret=True),
            Package("optuna", "serving/requirements.txt", 1, "==3.6.1"),
            Runtime("python", f"3.1{version % 2}", "serving/Dockerfile", 1),
        ),
        entrypoints=("serving.app",),
    )
    return (training, serving)


def finding(item: str, status: str = "leftover", **extra: Any) -> Finding:
    return Finding(
        status=status,  # type: ignore[arg-type]
        kind="package",
        item=item,
        severity="medium",
        rule="DA101" if status == "leftover" else "DA104",
        message=f"{item} in serving",
        training_env="training",
        serving_env="serving",
        **extra,
    )


def audit(version: int, *items: str) -> TreeAudit:
    drift = finding("python", "drift", training="3.11", serving=f"3.1{version % 2}")
    findings = (*(finding(i) for i in items), drift)
    return TreeAudit(
        environments(version),
        findings,
        pairs=(Pair("training", "serving", "", "same repository"),),
        config_origin="conventions",
        unassigned=("notebooks/explore.ipynb",),
    )


HISTORY = [audit(0, "optuna"), audit(0, "optuna"), audit(1, "optuna", "wandb"), audit(2)]
HISTORY += [audit(0, "optuna"), audit(3, "wandb"), audit(1, "optuna", "wandb")]


def sha(n: int) -> str:
    return (f"{n:x}" + "beef" * 10)[:40]


def write_history(
    engine: Engine, name: str, commits: range, *, rewind_to: int | None = None
) -> None:
    with RepoWriter(engine, name, batch_size=3) as writer:
        if rewind_to is not None:
            writer.rewind(sha(rewind_to))
        for n in commits:
            st = HISTORY[n % len(HISTORY)]
            info = CommitInfo(
                sha(n), (sha(n - 1),) if n else (), "Ada", "ada@example.com",
                f"2024-02-01T00:{n:02d}:00Z", f"commit {n}",
            )  # fmt: skip
            writer.add_commit(
                info, signature=f"sig-{st.content_hash}", state_hash=writer.add_state(st)
            )
        writer.finish(branch="main", shallow=False, since=None, seconds=0.5)


def write_store(engine: Engine) -> None:
    """Two repos sharing environments, a rewritten history, a live observation."""
    write_history(engine, "fraud", range(7))
    write_history(engine, "fraud", range(20, 24), rewind_to=3)  # force-push after commit 3
    write_history(engine, "vision", range(4))
    save_observation(
        engine,
        repo="fraud",
        env_name="serving",
        commit_sha=sha(23),
        source="/opt/serving/bin/python",
        snapshot=dataclasses.replace(environments(1)[1], observed=True, origin="convention"),
        findings=[finding("optuna")],
        observed_at="2024-03-01T00:00:00Z",
    )


# ------------------------------------------------------------- v4 -> raw v3


def as_v3(source: Engine, target: Engine) -> None:
    """The store of ``source`` rewritten in the v3 layout into the empty ``target``,
    row ids kept (states, environments and live observations point at each other)."""
    reader = StoreReader(source)
    V3.create_all(target)
    with source.connect() as src, target.begin() as dst:

        def copy(name: str) -> list[dict[str, Any]]:
            rows = [dict(r._mapping) for r in src.execute(select(*V3.tables[name].c))]
            if rows:
                dst.execute(V3.tables[name].insert(), rows)
            return rows

        copy("repos")
        states = [dict(r._mapping) for r in src.execute(select(*V3.tables["states"].c))]
        for state in states:  # v3: the unassigned paths themselves, as JSON
            state["unassigned"] = json.dumps(load_paths(src, state["unassigned"]))
        dst.execute(V3.tables["states"].insert(), states)
        env_ids = list(src.execute(select(schema.environments.c.id)).scalars())
        for env_id, env in load_environments(src, env_ids).items():
            row = {"id": env_id, "content_hash": env.content_hash(), "name": env.name}
            data = json.dumps(env.to_dict(), sort_keys=True, separators=(",", ":"))
            dst.execute(V3.tables["environments"].insert(), {**row, "role": env.role, "data": data})
        for name in ("commits", "finding_runs", "state_environments", "live_snapshots"):
            copy(name)
        commit_of_state = {}
        for repo in reader.list_repos():
            for c in reader.commits(repo.name, include_unreachable=True):
                commit_of_state.setdefault(c.state_id, (repo.name, c.sha))
        for state in states:
            repo_name, commit = commit_of_state[state["id"]]
            rows = [
                {
                    "state_id": state["id"],
                    "key": r.finding.key,
                    "position": i,
                    **r.finding.to_dict(),
                }
                for i, r in enumerate(reader.findings_at(repo_name, commit))
            ]
            if rows:
                dst.execute(V3.tables["findings"].insert(), rows)
        dst.execute(text("INSERT INTO meta (key, value) VALUES ('schema_version', '3')"))
        if dst.dialect.name == "postgresql":  # rows copied with their ids: move the sequences on
            for name in ("repos", "commits", "finding_runs", "states", "environments", "findings",
                         "live_snapshots"):  # fmt: skip
                dst.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT coalesce(max(id), 1) FROM {name}))"
                    )
                )


def everything(engine: Engine) -> dict[str, Any]:
    """Every read of StoreReader, for every repo and commit."""
    reader = StoreReader(engine)
    out: dict[str, Any] = {}
    for repo in reader.list_repos():
        name = repo.name
        commits = reader.commits(name, include_unreachable=True)
        out[name] = {
            "repo": dataclasses.replace(repo, id=0, last_collected_at=""),
            "commits": [dataclasses.replace(c, state_id=0) for c in commits],
            "all": list(reader.findings_all_commits(name)),
            "at": {c.sha: reader.findings_at(name, c.sha) for c in commits},
            "envs": {c.sha: reader.environments_at(name, c.sha) for c in commits},
            "state": {c.sha: reader.state_at(name, c.sha) for c in commits},
            "pairs": {c.sha: reader.pairs_at(name, c.sha) for c in commits},
            "timeline": reader.timeline(name),
            "history": {
                key: reader.finding_history(name, key)
                for key in sorted({r.finding.key for r in reader.findings_all_commits(name)})
            },
            "values": {
                key: sorted(reader.item_values(name, key, {c.state_id for c in commits}).values())
                for key in sorted({r.finding.key for r in reader.findings_all_commits(name)})
            },
            "live": reader.live_records(name),
        }
    return out


@pytest.fixture
def stores(store_url: str, tmp_path: Path) -> tuple[Engine, Engine]:
    """(a store written by the current writer, the same store in the v3 layout)."""
    current = open_engine(f"sqlite:///{tmp_path / 'current.db'}")
    write_store(current)
    old = open_engine(store_url)
    as_v3(current, old)
    return current, old


def test_a_v3_store_reads_the_same_after_migration(stores: tuple[Engine, Engine]) -> None:
    current, old = stores
    with pytest.raises(Exception, match=r"older than this depaudit \(4\); run `depaudit collect`"):
        StoreReader(old)
    with old.connect() as conn:
        v3_findings = conn.execute(select(func.count()).select_from(V3.tables["findings"])).scalar()
    assert schema.migrate(old) == 4
    expected = everything(current)
    assert expected["fraud"]["live"] and expected["fraud"]["history"]  # the test reads something
    assert everything(old) == expected
    with old.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        assert "findings_v3" not in tables
        findings = conn.execute(select(func.count()).select_from(schema.findings)).scalar()
        data = list(conn.execute(select(schema.environments.c.data)).scalars())
    # one row per distinct finding of each repo instead of one per state
    distinct = sum(
        len(
            {r.finding for r in rows["all"]} | {r.finding for at in rows["at"].values() for r in at}
        )
        for rows in expected.values()
    )
    assert findings == distinct < v3_findings
    assert all(set(json.loads(d)) == {"origin", "entrypoints", "observed"} for d in data)


def test_a_migrated_store_goes_on_collecting_and_migrates_once(
    stores: tuple[Engine, Engine],
) -> None:
    current, old = stores
    schema.migrate(old)
    assert schema.migrate(old) == 4  # a second run has nothing to do
    for engine in (current, old):
        write_history(engine, "fraud", range(24, 30))
        write_history(engine, "vision", range(4, 9))
    assert everything(old) == everything(current)
    with old.connect() as conn:
        rows = conn.execute(
            select(schema.findings.c.repo_id, schema.findings.c.item, func.count())
            .group_by(schema.findings.c.repo_id, schema.findings.c.item)
            .group_by(*(c for c in schema.findings.c if c.name not in ("id",)))
            .having(func.count() > 1)
        ).all()
    assert rows == []  # the resumed writer reused the migrated findings


def test_migration_is_one_transaction(
    stores: tuple[Engine, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure half-way (a full disk) leaves the v3 store as it was."""
    _, old = stores
    from depaudit.store import compact_v4

    def fail(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(compact_v4, "_compact_findings", fail)
    with pytest.raises(OSError, match="disk full"):
        schema.migrate(old)
    with old.connect() as conn:
        assert schema.current_version(conn) == 3
        assert "parts" not in inspect(conn).get_table_names()
        assert "state_id" in {c["name"] for c in inspect(conn).get_columns("findings")}
    monkeypatch.undo()
    assert schema.migrate(old) == 4
