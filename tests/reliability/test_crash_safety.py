"""Crash safety of ``depaudit collect``: SIGKILL at many points, a read-only store, a full disk.

After every kill the store passes ``PRAGMA integrity_check``; the next run resumes; the
final store equals an uninterrupted run's table for table (timing columns aside).
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability_helpers import (
    DEPAUDIT,
    GitRepo,
    canonical_dump,
    count_commits,
    integrity_ok,
    run_depaudit,
)

COMMITS = 60
KILL_AT = [2, 7, 13, 19, 26, 33, 40, 47, 53, 57]  # commits stored when the collector is killed


def history_repo(path: Path, commits: int = COMMITS) -> GitRepo:
    repo = GitRepo(path)
    repo.commit(
        "layout",
        {
            "training/requirements.txt": "torch==2.1.0\nwandb==0.16.0\noptuna==3.6.1\n",
            "training/Dockerfile": "FROM nvidia/cuda:12.1.0-devel-ubuntu22.04\n",
            "serving/requirements.txt": "torch==2.1.0\nfastapi==0.110.0\n",
            "serving/Dockerfile": "FROM python:3.11-slim\n",
        },
    )
    for i in range(commits - 1):
        if i % 3 == 2:
            repo.commit(f"docs {i}", {"README.md": f"rev {i}\n"})
        else:
            extra = "" if i % 5 else "wandb==0.16.0\n"
            repo.commit(
                f"serving bump {i}",
                {"serving/requirements.txt": f"torch==2.{i % 7}.0\n{extra}fastapi==0.1{i}.0\n"},
            )
    return repo


@pytest.fixture(scope="module")
def repo_and_reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[GitRepo, Path]:
    base = tmp_path_factory.mktemp("crash")
    repo = history_repo(base / "repo")
    reference = base / "reference.db"
    proc = run_depaudit("collect", str(repo.path), "--db", str(reference))
    assert proc.returncode == 0, proc.stderr
    assert count_commits(reference) == COMMITS
    return repo, reference


def test_sigkill_at_many_points_then_resume_gives_the_uninterrupted_store(
    repo_and_reference: tuple[GitRepo, Path], tmp_path: Path
) -> None:
    repo, reference = repo_and_reference
    db = tmp_path / "killed.db"
    killed_at: list[int] = []
    for target in KILL_AT:
        proc = subprocess.Popen(
            [DEPAUDIT, "collect", str(repo.path), "--db", str(db), "--batch-size", "1"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 120
        while count_commits(db) < target and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.stderr is not None
        stderr = proc.stderr.read().decode()
        proc.stderr.close()
        assert "Traceback" not in stderr, stderr
        if proc.returncode == 0:
            break  # finished before this kill point
        assert proc.returncode == -signal.SIGKILL, (proc.returncode, stderr)
        stored = count_commits(db)
        killed_at.append(stored)
        assert integrity_ok(db), f"corrupt after kill at {stored}"
    print(f"kill points (commits stored when killed): {killed_at}")
    assert len(killed_at) >= 8, killed_at
    assert killed_at == sorted(killed_at)  # every restart resumed: progress never lost
    final = run_depaudit("collect", str(repo.path), "--db", str(db))
    assert final.returncode == 0, final.stderr
    assert integrity_ok(db)
    assert canonical_dump(db) == canonical_dump(reference)


@pytest.fixture
def small_tmpfs(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Path]:
    """A tmpfs of ``request.param`` bytes (the schema fits in 300 KB with its WAL, 60 commits do not)."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    size = getattr(request, "param", "20m")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_read_only_store_is_one_line_error_and_unchanged(
    repo_and_reference: tuple[GitRepo, Path], tmp_path: Path, small_tmpfs: Path
) -> None:
    """Root ignores file modes, so the store sits on a tmpfs remounted read-only."""
    repo, _ = repo_and_reference
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo.path), str(clone)], check=True)
    db = small_tmpfs / "store.db"
    proc = run_depaudit("collect", str(clone), "--db", str(db), "--since", "HEAD~3")
    assert proc.returncode == 0, proc.stderr
    extra = GitRepo.__new__(GitRepo)
    extra.path, extra.n = clone, 999
    extra.commit("one more", {"serving/requirements.txt": "torch==2.9.0\n"})
    before = db.read_bytes()
    subprocess.run(["mount", "-o", "remount,ro", str(small_tmpfs)], check=True)

    proc = run_depaudit("collect", str(clone), "--db", str(db))
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("depaudit: error: "), proc.stderr
    assert "read-only" in lines[0] or "readonly" in lines[0] or "cannot" in lines[0], lines
    assert db.read_bytes() == before

    report = run_depaudit("report", "--db", str(db), "--format", "csv")
    assert "Traceback" not in report.stderr
    assert report.returncode == 0 or len(report.stderr.strip().splitlines()) == 1, report.stderr
    assert db.read_bytes() == before


def collect_on_full_disk(repo: GitRepo, db: Path) -> subprocess.CompletedProcess[str]:
    proc = run_depaudit("collect", str(repo.path), "--db", str(db), "--batch-size", "1")
    if proc.returncode == 0:
        pytest.skip("the whole store fit in the tmpfs; the disk never filled")
    assert "Traceback" not in proc.stderr
    return proc


@pytest.mark.parametrize("small_tmpfs", ["450k"], indirect=True)
def test_full_disk_fails_and_the_store_survives_and_resumes(
    repo_and_reference: tuple[GitRepo, Path], tmp_path: Path, small_tmpfs: Path
) -> None:
    repo, reference = repo_and_reference
    db = small_tmpfs / "store.db"
    proc = collect_on_full_disk(repo, db)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "disk is full" in proc.stderr
    assert integrity_ok(db)
    stored = count_commits(db)
    # room again: the same store resumes to the uninterrupted result
    moved = tmp_path / "moved.db"
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{db}{suffix}").exists():
            shutil.copy(f"{db}{suffix}", f"{moved}{suffix}")
    proc = run_depaudit("collect", str(repo.path), "--db", str(moved))
    assert proc.returncode == 0, proc.stderr
    print(f"disk full after {stored} commits stored; resumed to {count_commits(moved)}")
    assert canonical_dump(moved) == canonical_dump(reference)


@pytest.mark.parametrize("small_tmpfs", ["450k"], indirect=True)
def test_full_disk_is_one_clear_line(
    repo_and_reference: tuple[GitRepo, Path], small_tmpfs: Path
) -> None:
    repo, _ = repo_and_reference
    proc = collect_on_full_disk(repo, small_tmpfs / "store.db")
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("depaudit: error: "), proc.stderr
    assert "internal error" not in lines[0]
