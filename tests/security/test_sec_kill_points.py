"""``depaudit collect --batch-size 1`` SIGKILLed at many points, then resumed: the store is
never corrupt and always ends equal to an uninterrupted run's (timing columns aside)."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli.test_collect_cli import canonical_dump, count_commits
from tests.gitrepo import GitRepo

DEPAUDIT = str(Path(sys.executable).parent / "depaudit")
COMMITS = 40
KILL_AT = [0, 1, 2, 3, 5, 8, 13, 21, 30, 38]  # stored commits when the kill is sent


def history_repo(path: Path) -> GitRepo:
    repo = GitRepo(path)
    repo.commit(
        "layout",
        {
            "training/requirements.txt": "torch==2.1.0\nwandb==0.16.0\noptuna==3.6.1\n",
            "serving/requirements.txt": "torch==2.1.0\nfastapi==0.110.0\n",
            "serving/Dockerfile": 'FROM python:3.11-slim\nCMD ["uvicorn", "app:app"]\n',
        },
    )
    for i in range(COMMITS - 1):
        if i % 3 == 2:
            repo.commit(f"docs {i}", {"README.md": f"rev {i}\n"})
            continue
        extra = "wandb==0.16.0\n" if i % 5 == 0 else ""
        repo.commit(
            f"bump {i}",
            {"serving/requirements.txt": f"torch==2.{i % 4}.0\n{extra}fastapi==0.1{i}.0\n"},
        )
    return repo


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[GitRepo, Path]:
    base = tmp_path_factory.mktemp("killpoints")
    repo = history_repo(base / "repo")
    db = base / "reference.db"
    proc = subprocess.run(
        [DEPAUDIT, "collect", str(repo.path), "--db", str(db)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    return repo, db


RESULTS: dict[int, str] = {}


@pytest.mark.parametrize("k", KILL_AT)
def test_kill_at_k_then_resume(reference: tuple[GitRepo, Path], tmp_path: Path, k: int) -> None:
    repo, ref_db = reference
    db = tmp_path / "killed.db"
    proc = subprocess.Popen(
        [DEPAUDIT, "collect", str(repo.path), "--db", str(db), "--batch-size", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    # k == 0: kill as soon as the store file exists (schema / lock being written)
    while proc.poll() is None and time.monotonic() < deadline:
        if (k == 0 and db.exists()) or (k > 0 and count_commits(db) >= k):
            break
        time.sleep(0.002)
    was_running = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert was_running, f"collect finished before {k} commits were stored"
    stored = count_commits(db)
    if db.exists():
        con = sqlite3.connect(db)
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        con.close()
    resumed = subprocess.run(
        [DEPAUDIT, "collect", str(repo.path), "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "Traceback" not in resumed.stderr
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    con.close()
    assert canonical_dump(db) == canonical_dump(ref_db)
    RESULTS[k] = f"killed with {stored} stored, recovered"


def test_report_kill_points(capsys: pytest.CaptureFixture[str]) -> None:
    with capsys.disabled():
        print(f"\nkill points tried: {len(KILL_AT)}, recovered: {len(RESULTS)}: {RESULTS}")
    assert len(RESULTS) == len(KILL_AT)
