"""Stores for the dashboard tests, built the way a user builds them: ``depaudit collect``.

One session store holds the ``tabular_fraud`` sample repository, a small ``leaky_api``
repository whose serving config plants a secret (it must be masked everywhere), and a
``notes_only`` repository in which no environment can be found.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLANTED_SECRET = "wb-planted-9f8e7d6c5b4a3210fedcba"
GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": "Ada Ops",
    "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada Ops",
    "GIT_COMMITTER_EMAIL": "ada@example.com",
}


@dataclass(frozen=True)
class SeededStore:
    url: str
    path: Path
    secret: str


def _git(repo: Path, *args: str, date: str = "") -> None:
    env = {**os.environ, **GIT_ENV}
    if date:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def _commit(repo: Path, files: dict[str, str], message: str, date: str) -> None:
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", message, date=date)


def make_leaky_repo(repo: Path) -> None:
    repo.mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    _commit(
        repo,
        {
            "training/requirements-train.txt": "numpy==1.26.4\nscikit-learn==1.4.2\noptuna==3.6.1\n",
            "training/train.py": "import numpy\n\n\ndef train():\n    return numpy.zeros(1)\n",
            "serving/requirements.txt": "numpy==1.26.4\nscikit-learn==1.4.2\nfastapi==0.110.0\n",
            "serving/app.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
        },
        "Training and serving",
        "2024-01-02T10:00:00Z",
    )
    _commit(
        repo,
        {
            "serving/requirements.txt": "numpy==1.24.0\nscikit-learn==1.4.2\nfastapi==0.110.0\nwandb==0.16.0\n",
            "serving/.env": f"WANDB_API_KEY={PLANTED_SECRET}\nWANDB_PROJECT=fraud\n",
        },
        "Log predictions to wandb",
        "2024-02-03T11:00:00Z",
    )
    _commit(repo, {"README.md": "# leaky api\n"}, "Docs", "2024-03-04T12:00:00Z")


def make_notes_repo(repo: Path) -> None:
    repo.mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    _commit(
        repo,
        {"README.md": "# notes\n", "notes/ideas.md": "- none\n"},
        "Notes",
        "2024-01-05T09:00:00Z",
    )


def depaudit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "depaudit", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="session")
def seeded_store(tmp_path_factory: pytest.TempPathFactory) -> SeededStore:
    base = tmp_path_factory.mktemp("dashboard_store")
    repos = base / "repos"
    subprocess.run(
        [sys.executable, "-m", "sample_repos.materialize", "--out", str(repos)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    make_leaky_repo(repos / "leaky_api")
    make_notes_repo(repos / "notes_only")
    db = base / "store.db"
    url = f"sqlite:///{db}"
    result = depaudit(
        "collect",
        str(repos / "tabular_fraud"),
        str(repos / "leaky_api"),
        str(repos / "notes_only"),
        "--db",
        url,
    )
    assert result.returncode in (0, 1), result.stderr
    return SeededStore(url=url, path=db, secret=PLANTED_SECRET)


@pytest.fixture(scope="session")
def empty_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    from depaudit.store.engine import open_engine
    from depaudit.store.schema import migrate

    db = tmp_path_factory.mktemp("empty_store") / "empty.db"
    engine = open_engine(f"sqlite:///{db}")
    migrate(engine)
    engine.dispose()
    return f"sqlite:///{db}"
