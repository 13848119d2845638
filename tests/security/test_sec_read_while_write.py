"""The dashboard's reads run while ``depaudit collect`` writes the same SQLite WAL store:
neither side fails, and what the reader sees only grows."""

from __future__ import annotations

import itertools
import subprocess
import sys
import threading
import time
from pathlib import Path

from depaudit.store.reader import StoreReader
from tests.gitrepo import GitRepo

DEPAUDIT = str(Path(sys.executable).parent / "depaudit")
COMMITS = 150


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
        extra = "wandb==0.16.0\n" if i % 4 == 0 else ""
        repo.commit(
            f"bump {i}",
            {"serving/requirements.txt": f"torch==2.{i % 5}.0\n{extra}fastapi==0.1{i}.0\n"},
        )
    return repo


def test_dashboard_reads_while_collect_writes(tmp_path: Path) -> None:
    repo = history_repo(tmp_path / "repo")
    db = tmp_path / "store.db"
    proc = subprocess.Popen(
        [DEPAUDIT, "collect", str(repo.path), "--db", str(db), "--batch-size", "5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    errors: list[BaseException] = []
    seen: list[int] = []
    stop = threading.Event()

    def read_loop() -> None:
        while not db.exists() and not stop.is_set():
            time.sleep(0.01)
        reader: StoreReader | None = None
        while not stop.is_set():
            try:
                if reader is None:
                    reader = StoreReader(f"sqlite:///{db}")
                repos = reader.list_repos()
                if not repos:
                    continue
                points = reader.timeline("repo")
                seen.append(len(points))
                head = reader.head("repo")
                if head is not None:
                    reader.findings_at("repo", head.sha)
                    reader.environments_at("repo", head.sha)
            except Exception as exc:  # any failure is the finding
                if reader is None and "not a depaudit store" in str(exc):
                    time.sleep(0.01)  # schema not written yet
                    continue
                errors.append(exc)
                return
        if reader is not None:
            reader.close()

    thread = threading.Thread(target=read_loop)
    thread.start()
    try:
        out, err = proc.communicate(timeout=600)
    finally:
        stop.set()
        thread.join(timeout=60)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert errors == [], [repr(e) for e in errors]
    assert len(seen) >= 5, f"the reader only got {len(seen)} reads in"
    assert all(a <= b for a, b in itertools.pairwise(seen)), seen
    final = StoreReader(f"sqlite:///{db}")
    assert len(final.timeline("repo")) == COMMITS
    final.close()
    assert seen[-1] <= COMMITS and len(set(seen)) > 1, seen  # it saw the store grow
    del out
    print(f"\nconcurrent reads during collect: {len(seen)} (commit counts {seen[0]}..{seen[-1]})")
