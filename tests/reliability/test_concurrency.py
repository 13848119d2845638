"""The store under concurrent use: the dashboard's reads while a collector writes the same
SQLite WAL store, and two collectors on the same repository.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from reliability_helpers import (
    DEPAUDIT,
    GitRepo,
    canonical_dump,
    integrity_ok,
    run_depaudit,
)
from test_crash_safety import COMMITS, history_repo


@pytest.fixture(scope="module")
def repo_and_reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[GitRepo, Path]:
    base = tmp_path_factory.mktemp("concurrency")
    repo = history_repo(base / "repo")
    reference = base / "reference.db"
    proc = run_depaudit("collect", str(repo.path), "--db", str(reference))
    assert proc.returncode == 0, proc.stderr
    return repo, reference


def start_collector(repo: GitRepo, db: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [DEPAUDIT, "collect", str(repo.path), "--db", str(db), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_dashboard_reads_while_a_collector_writes(
    repo_and_reference: tuple[GitRepo, Path], tmp_path: Path
) -> None:
    from depaudit.store.reader import StoreReader
    from depaudit.store.schema import migrate

    repo, reference = repo_and_reference
    db = tmp_path / "live.db"
    url = f"sqlite:///{db}"
    from depaudit.store.engine import open_engine

    engine = open_engine(url)
    migrate(engine)  # the store exists before the dashboard opens it, as after a first collect
    engine.dispose()

    import streamlit as st

    from depaudit.dashboard import queries

    st.cache_data.clear()
    st.cache_resource.clear()
    reader = StoreReader(url)
    # the reader's first round pays for connecting and for the dashboard's first query;
    # paid here, so that the rounds during the collect overlap its writes (a collect of
    # this history takes well under a second once started)
    reader.list_repos()
    queries.store_status(url)
    queries.store_status.clear()
    collector = start_collector(repo, db, "--batch-size", "1")
    seen: list[int] = []
    findings_seen: list[int] = []
    reads = 0
    errors: list[str] = []
    while True:
        running = collector.poll() is None
        try:
            repos = reader.list_repos()
            if repos:
                commits = reader.commits("repo")
                seen.append(len(commits))
                if commits:
                    findings_seen.append(len(reader.findings_at("repo", commits[-1].sha)))
                    reader.timeline("repo")
                    reader.environments_at("repo", commits[-1].sha)
                queries.store_status.clear()  # a fresh read each time, not the cached one
                status = queries.store_status(url)
                assert status.repo_count == 1
            reads += 1
        except Exception as exc:  # any error on the reading side fails the test below
            errors.append(f"{type(exc).__name__}: {exc}")
        if not running:
            break
    _, err = collector.communicate()
    reader.close()
    print(
        f"dashboard read rounds during one collect: {reads}; commit counts seen: {sorted(set(seen))[:5]}..."
    )
    assert errors == []
    assert collector.returncode == 0, err
    assert "Traceback" not in err
    assert seen == sorted(seen), "commit count went backwards"
    assert seen[-1] == COMMITS
    assert len(set(seen)) >= 5 and reads >= 20, (
        reads,
        set(seen),
    )  # the reads did overlap the writes
    assert integrity_ok(db)
    assert canonical_dump(db) == canonical_dump(reference)


def test_two_collectors_on_one_repository(
    repo_and_reference: tuple[GitRepo, Path], tmp_path: Path
) -> None:
    """Started together without --lock-timeout: one collects, the other exits 2 with one
    clear line (or, if it came after the first finished, finds nothing to do)."""
    repo, reference = repo_and_reference
    tries: list[list[tuple[int, str]]] = []
    for attempt in range(3):
        db = tmp_path / f"two{attempt}.db"
        procs = [start_collector(repo, db, "--batch-size", "1") for _ in range(2)]
        outcome = [(p.wait(timeout=240), p.communicate()[1]) for p in procs]
        tries.append(outcome)
        for code, err in outcome:
            assert code in (0, 2) and "Traceback" not in err, outcome
        assert integrity_ok(db)
        assert canonical_dump(db) == canonical_dump(reference)
        refused = [err for code, err in outcome if code == 2]
        if refused:
            lines = refused[0].strip().splitlines()
            assert len(lines) == 1 and "being collected by another collector" in lines[0], refused
            break
    print(
        f"concurrent collector pairs tried: {len(tries)}; exit codes: {[[c for c, _ in t] for t in tries]}"
    )
    assert any(code == 2 for t in tries for code, _ in t), "the lock was never contended"


def test_two_collectors_with_lock_timeout_one_waits(
    repo_and_reference: tuple[GitRepo, Path], tmp_path: Path
) -> None:
    repo, reference = repo_and_reference
    db = tmp_path / "wait.db"
    procs = [
        start_collector(repo, db, "--batch-size", "2", "--lock-timeout", "120") for _ in range(2)
    ]
    outcomes = [(p.wait(timeout=240), p.communicate()) for p in procs]
    for code, (_, err) in outcomes:
        assert code == 0, err
        assert "Traceback" not in err
    done = sorted(int(err.split("repo: ")[1].split(" commits")[0]) for _, (_, err) in outcomes)
    assert sum(done) == COMMITS, done  # the waiter did only what was left (usually 0)
    assert integrity_ok(db)
    assert canonical_dump(db) == canonical_dump(reference)
