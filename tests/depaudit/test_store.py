"""The store on its own: schema and migrations, engine settings, writer runs and locks,
and the reader API the dashboard uses. Runs on SQLite, and on PostgreSQL when
``DEPAUDIT_TEST_POSTGRES_URL`` is set (``store_url`` fixture)."""

from __future__ import annotations

import os
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, inspect, select, text

from depaudit.model import CommitInfo, EnvironmentSnapshot, Finding, Package, Pair, TreeAudit
from depaudit.store import schema
from depaudit.store.engine import StoreError, open_engine
from depaudit.store.reader import StoreReader, UnknownCommit, UnknownRepo
from depaudit.store.runs import Point, Run, RunTracker, apply, open_runs, rewind
from depaudit.store.writer import LockTimeout, RepoWriter

TRAIN = EnvironmentSnapshot(
    "training",
    "training",
    "convention",
    facts=(Package("wandb", "training/requirements.txt", 1, "==0.16.0", "0.16.0"),),
)
SERVE = EnvironmentSnapshot(
    "serving",
    "serving",
    "convention",
    facts=(Package("wandb", "serving/requirements.txt", 1, "==0.16.0", "0.16.0"),),
)


def finding(item: str, status: str = "leftover", severity: str = "medium") -> Finding:
    return Finding(
        status=status,  # type: ignore[arg-type]
        kind="package",
        item=item,
        severity=severity,  # type: ignore[arg-type]
        rule="DA101",
        message=f"{item} in serving",
        training_env="training",
        serving_env="serving",
        serving="1.0",
        file="serving/requirements.txt",
        line=1,
    )


def state(*items: str) -> TreeAudit:
    return TreeAudit((TRAIN, SERVE), tuple(finding(i) for i in items), config_origin="conventions")


def sha(n: int) -> str:
    return (f"{n:x}" + "c0ffee" * 7)[:40]  # distinct prefixes, like real shas


def add(writer: RepoWriter, n: int, st: TreeAudit) -> None:
    h = writer.add_state(st)
    info = CommitInfo(
        sha(n),
        (sha(n - 1),) if n else (),
        "Ada",
        "ada@example.com",
        f"2024-01-01T00:00:{n:02d}Z",
        f"commit {n}",
    )
    writer.add_commit(info, signature=f"sig-{h}", state_hash=h)


def test_migrate_creates_schema_and_is_idempotent(store_url: str) -> None:
    engine = open_engine(store_url)
    assert schema.migrate(engine) == schema.SCHEMA_VERSION == 4
    assert schema.migrate(engine) == 4
    names = set(inspect(engine).get_table_names())
    assert {
        "meta",
        "repos",
        "commits",
        "states",
        "environments",
        "findings",
        "finding_runs",
        "locks",
    } <= names
    with engine.connect() as conn:
        assert conn.execute(
            select(schema.meta.c.value).where(schema.meta.c.key == "schema_version")
        ).scalar() == str(schema.SCHEMA_VERSION)


def test_migration_steps_run_in_order_from_an_old_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'old.db'}")
    schema.migrate(engine)  # a store at the current version
    current = schema.SCHEMA_VERSION

    def next_step(conn: object) -> None:
        conn.execute(text("ALTER TABLE repos ADD COLUMN note TEXT"))  # type: ignore[attr-defined]

    monkeypatch.setattr(schema, "SCHEMA_VERSION", current + 1)
    monkeypatch.setitem(schema.MIGRATIONS, current + 1, next_step)
    assert schema.migrate(engine) == current + 1
    assert "note" in {c["name"] for c in inspect(engine).get_columns("repos")}
    monkeypatch.setattr(schema, "SCHEMA_VERSION", current)
    with pytest.raises(schema.SchemaError, match="newer than this depaudit"):
        schema.migrate(engine)


def test_sqlite_engine_settings_and_read_only(tmp_path: Path) -> None:
    db = tmp_path / "deep" / "dir" / "store.db"
    engine = open_engine(f"sqlite:///{db}")
    assert db.parent.is_dir()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    schema.migrate(engine)
    ro = open_engine(f"sqlite:///{db}", read_only=True)
    with ro.connect() as conn, pytest.raises(Exception, match="readonly"):
        conn.execute(schema.meta.insert().values(key="x", value="y"))
    with pytest.raises(StoreError, match="no depaudit store"):
        open_engine(f"sqlite:///{tmp_path / 'missing.db'}", read_only=True)
    assert not (tmp_path / "missing.db").exists()


def test_runs_give_introduced_in_and_resolution(store_url: str) -> None:
    engine = open_engine(store_url)
    with RepoWriter(engine, "svc", batch_size=2) as w:
        add(w, 0, state("a", "b"))
        add(w, 1, state("a", "b"))
        add(w, 2, state("b", "c"))
        add(w, 3, state("a", "b"))  # A -> B -> A: "a" comes back, a new run
        w.finish(branch="main", shallow=False, since=None, seconds=0.1)
        assert w.stats.states_new == 2
        assert (w.stats.findings_new, w.stats.findings_resolved) == (4, 2)
    reader = StoreReader(engine)
    intro = {r.finding.item: r.introduced_in for r in reader.findings_at("svc", sha(3))}
    assert intro == {"a": sha(3), "b": sha(0)}
    intro1 = {r.finding.item: r.introduced_in for r in reader.findings_at("svc", sha(1)[:7])}
    assert intro1 == {"a": sha(0), "b": sha(0)}
    runs = reader.finding_history("svc", finding("a").key)
    assert [(r["start_sha"], r["end_sha"], r["resolved_sha"]) for r in runs] == [
        (sha(0), sha(1), sha(2)),
        (sha(3), None, None),
    ]
    assert runs[0]["resolved_at"] == "2024-01-01T00:00:02Z"
    # every commit at once gives the same rows as one commit at a time
    all_rows = list(reader.findings_all_commits("svc"))
    one_by_one = [row for n in range(4) for row in reader.findings_at("svc", sha(n))]
    assert all_rows == one_by_one
    timeline = reader.timeline("svc")
    assert timeline[0]["counts"] == {"leftover": {"medium": 2}}
    assert [t["total"] for t in timeline] == [2, 2, 2, 2]
    envs = reader.environments_at("svc", sha(2))
    assert envs == [TRAIN, SERVE]
    assert reader.head("svc") is not None and reader.head("svc").sha == sha(3)  # type: ignore[union-attr]
    info = reader.repo(None)
    assert info.last_run["commits"] == 4 and info.commit_count == 4


def test_unpaired_environments_are_told_again_from_the_stored_state(store_url: str) -> None:
    engine = open_engine(store_url)
    error = Finding("error", "file", "setup.cfg", "low", "DA900", "cannot parse", file="setup.cfg")
    with RepoWriter(engine, "svc") as w:
        # collected before pairs were recorded: its findings name the pair it compared
        add(w, 0, TreeAudit((TRAIN, SERVE), (error, finding("wandb")), config_origin="x"))
        # no pair recorded and no finding naming one: both sides were compared with nothing
        add(w, 1, TreeAudit((TRAIN, SERVE), (error,), config_origin="x"))
        add(w, 2, TreeAudit((TRAIN, SERVE), (error,), pairs=(Pair("training", "serving"),)))
        w.finish(branch="main", shallow=False, since=None, seconds=0.1)
    reader = StoreReader(engine)
    assert reader.unpaired_at("svc", sha(0)) == []
    why = "in no project: no {} environment in its folder or a folder above it that is not another project's"
    assert reader.unpaired_at("svc", sha(1)) == [
        ("training", why.format("serving")),
        ("serving", why.format("training")),
    ]
    assert reader.unpaired_at("svc", sha(2)) == []


def test_rewind_marks_unreachable_and_reopens_runs(store_url: str) -> None:
    engine = open_engine(store_url)
    with RepoWriter(engine, "svc") as w:
        add(w, 0, state("a"))
        add(w, 1, state("a"))
        add(w, 2, state())  # "a" resolved in the commits that will be rewritten away
        add(w, 3, state("z"))
        assert w.rewind(sha(1)) == 2
        add(w, 10, state("a", "y"))
    reader = StoreReader(engine)
    assert [c.sha for c in reader.commits("svc")] == [sha(0), sha(1), sha(10)]
    assert len(reader.commits("svc", include_unreachable=True)) == 5
    intro = {r.finding.item: r.introduced_in for r in reader.findings_at("svc", sha(10))}
    assert intro == {"a": sha(0), "y": sha(10)}  # a's run continues across the rewrite
    z_runs = reader.finding_history("svc", finding("z").key)
    assert [(r["end_sha"], r["reachable"]) for r in z_runs] == [(sha(3), False)]
    assert {r.finding.item: r.introduced_in for r in reader.findings_at("svc", sha(3))} == {
        "z": sha(3)
    }


def test_second_writer_waits_then_times_out_and_dead_holders_are_taken_over(store_url: str) -> None:
    engine = open_engine(store_url)
    with RepoWriter(engine, "svc"):
        started = time.monotonic()
        with (
            pytest.raises(LockTimeout, match="being collected by another collector"),
            RepoWriter(engine, "svc", lock_timeout=0.3),
        ):
            pass
        assert time.monotonic() - started >= 0.3
        with RepoWriter(engine, "other-repo"):  # other repos are not blocked
            pass
    # a lock left by a killed process on this host is taken over at once
    with engine.begin() as conn:
        conn.execute(
            schema.locks.insert().values(
                repo_name="svc",
                holder=f"{socket.gethostname()}:999999999:dead",
                acquired_at=0,
                heartbeat_at=int(time.time()),
            )
        )
    with RepoWriter(engine, "svc") as w:
        add(w, 0, state("a"))
    # a live holder whose heartbeat is too old is stale as well
    with engine.begin() as conn:
        conn.execute(
            schema.locks.insert().values(
                repo_name="svc", holder=f"elsewhere:{os.getpid()}:x", acquired_at=0, heartbeat_at=0
            )
        )
    with RepoWriter(engine, "svc", stale_lock_seconds=60):
        pass
    with engine.connect() as conn:
        assert conn.execute(select(schema.locks)).all() == []


def test_reader_errors_are_one_line(store_url: str) -> None:
    engine = open_engine(store_url)
    with RepoWriter(engine, "one") as w:
        add(w, 0, state("a"))
    reader = StoreReader(engine)
    with pytest.raises(UnknownRepo, match="no repository 'nope' in the store"):
        reader.commits("nope")
    with pytest.raises(UnknownCommit, match="no commit 'abcdef'"):
        reader.findings_at("one", "abcdef")
    with pytest.raises(UnknownCommit, match="not a commit sha"):
        reader.findings_at("one", "zz")
    with RepoWriter(engine, "two") as w:
        add(w, 0, state())
    with pytest.raises(UnknownRepo, match="several repositories"):
        reader.repo(None)


def test_reader_refuses_a_database_that_is_not_a_store(tmp_path: Path) -> None:
    db = tmp_path / "other.db"
    engine = open_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    with pytest.raises(StoreError, match="not a depaudit store"):
        StoreReader(f"sqlite:///{db}")


def stored_runs(engine: Engine, repo: str) -> list[Run]:
    r = schema.finding_runs.c
    query = (
        select(r.key, r.start_seq, r.start_sha, r.end_seq, r.end_sha, r.resolved_seq)
        .add_columns(r.resolved_sha, r.reachable)
        .join(schema.repos, schema.repos.c.id == r.repo_id)
        .where(schema.repos.c.name == repo)
    )
    with engine.connect() as conn:
        return sorted(
            (
                Run(
                    row.key,
                    Point(row.start_seq, row.start_sha),
                    Point(row.end_seq, row.end_sha) if row.end_seq is not None else None,
                    Point(row.resolved_seq, row.resolved_sha)
                    if row.resolved_seq is not None
                    else None,
                    bool(row.reachable),
                )
                for row in conn.execute(query)
            ),
            key=lambda run: (run.key, run.start, run.reachable),
        )


def test_a_stored_run_closed_and_reopened_in_one_batch(store_url: str) -> None:
    engine = open_engine(store_url)
    with RepoWriter(engine, "svc", batch_size=1) as w:
        add(w, 0, state("k"))  # its own batch: the run is in the store
    with RepoWriter(engine, "svc", batch_size=100) as w:  # a later collect resumes
        add(w, 1, state())  # closes the stored run (UPDATE) ...
        add(w, 2, state("k"))  # ... and opens a new one (INSERT) in the same batch
        add(w, 3, state("k"))
    key = finding("k").key
    assert stored_runs(engine, "svc") == [
        Run(key, Point(0, sha(0)), Point(0, sha(0)), Point(1, sha(1))),
        Run(key, Point(2, sha(2))),
    ]
    reader = StoreReader(engine)
    assert [r.introduced_in for r in reader.findings_at("svc", sha(3))] == [sha(2)]


Op = tuple[str, Any]
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("commit"), st.frozensets(st.sampled_from("abc"), max_size=3)),
        st.tuples(st.just("rewind"), st.integers(-1, 30)),
        st.tuples(st.just("resume"), st.none()),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(OPS, st.integers(1, 4))
def test_the_writers_runs_are_the_run_models(ops: list[Op], batch_size: int) -> None:
    """Any sequence of commits, history rewrites and resumed collects, in any batch
    size: the finding_runs table holds what depaudit.store.runs says."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_engine(f"sqlite:///{tmp}/runs.db")
        model: list[Run] = []
        tracker = RunTracker()
        reachable: list[Point] = []
        n = 0
        writer = RepoWriter(engine, "svc", batch_size=batch_size).__enter__()
        try:
            for op, arg in ops:
                if op == "commit":
                    add(
                        writer, n, TreeAudit((TRAIN, SERVE), tuple(finding(k) for k in sorted(arg)))
                    )
                    point = Point(writer.next_seq - 1, sha(n))
                    keys = frozenset(finding(k).key for k in arg)
                    model = apply(model, tracker.advance(point, keys))
                    reachable.append(point)
                    n += 1
                elif op == "rewind" and reachable:
                    keep = min(arg, len(reachable) - 1)
                    base = reachable[keep] if keep >= 0 else None
                    writer.rewind(base.sha if base else None)
                    model = rewind(model, base, reachable[-1])
                    tracker = RunTracker(base, open_runs(model))
                    reachable = reachable[: keep + 1]
                elif op == "resume":
                    writer.__exit__(None, None, None)
                    writer = RepoWriter(engine, "svc", batch_size=batch_size).__enter__()
            writer.__exit__(None, None, None)
        except BaseException:
            writer.lock.release()
            raise
        assert stored_runs(engine, "svc") == sorted(
            model, key=lambda run: (run.key, run.start, run.reachable)
        )
        engine.dispose()
