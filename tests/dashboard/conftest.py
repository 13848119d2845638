"""Stores for the dashboard tests, built the way a user builds them: ``depaudit collect``.

One session store holds the ``tabular_fraud`` sample repository, a small ``leaky_api``
repository whose serving config plants a secret (it must be masked everywhere), a
``notes_only`` repository in which no environment can be found, and ``course_examples``,
a monorepo of four examples (three projects, one training-only folder).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from streamlit.testing.v1 import app_test as app_test_module

from tests.dashboard.pages import RecordingStorage

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
            # the API scores with numpy: numpy is an inference library, so its versions
            # must match (drift), not a training leftover
            "serving/app.py": "import numpy\nfrom fastapi import FastAPI\n\napp = FastAPI()\n\n\n"
            "@app.post('/score')\ndef score(x: list[float]) -> float:\n    return float(numpy.mean(x))\n",
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


def make_course_repo(path: Path) -> None:
    """A course monorepo shaped like the public MLOps courses: one folder per example, each
    with its own training and serving sides, one example whose notebooks are a second
    training side, and an exploration-only example with no serving side."""
    from tests.gitrepo import GitRepo

    repo = GitRepo(path, author="Grace Ops", email="grace@example.com")
    repo.commit(
        "Examples 1 and 2",
        {
            "README.md": "# MLOps course\n",
            "01-fraud/training/requirements.txt": "numpy==1.26.4\nscikit-learn==1.4.2\nmlflow==2.11.0\n",
            "01-fraud/training/train.py": "import mlflow\nimport numpy\n\n\ndef train():\n    mlflow.log_metric('auc', 1)\n",
            "01-fraud/serving/requirements.txt": "numpy==1.26.4\nscikit-learn==1.3.0\nfastapi==0.110.0\nmlflow==2.11.0\n",
            "01-fraud/serving/app.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
            "02-churn/training/requirements.txt": "pandas==2.2.0\nxgboost==2.0.3\noptuna==3.6.1\n",
            "02-churn/serving/requirements.txt": "pandas==2.2.0\nxgboost==2.0.3\nflask==3.0.2\noptuna==3.6.1\n",
            "02-churn/serving/app.py": "from flask import Flask\n\napp = Flask(__name__)\n",
        },
    )
    repo.commit(
        "Example 3: recommendations (training script and notebooks), example 4: EDA",
        {
            "03-recsys/training/requirements.txt": "numpy==1.26.4\ntorch==2.2.0\nwandb==0.16.3\n",
            "03-recsys/notebooks/requirements.txt": "numpy==1.26.4\ntorch==2.2.0\nwandb==0.16.3\njupyter==1.0.0\n",
            "03-recsys/serving/requirements.txt": "numpy==1.26.4\ntorch==2.1.0\nwandb==0.16.3\nfastapi==0.110.0\n",
            "03-recsys/serving/app.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
            "04-eda/training/requirements.txt": "pandas==2.2.0\njupyter==1.0.0\n",
        },
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
    make_course_repo(repos / "course_examples")
    db = base / "store.db"
    url = f"sqlite:///{db}"
    result = depaudit(
        "collect",
        str(repos / "tabular_fraud"),
        str(repos / "leaky_api"),
        str(repos / "notes_only"),
        str(repos / "course_examples"),
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


@pytest.fixture
def isolated_app(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """AppTest downloads kept readable, no $DEPAUDIT_DB, and empty caches."""
    monkeypatch.setattr(app_test_module, "MemoryMediaFileStorage", RecordingStorage)
    monkeypatch.delenv("DEPAUDIT_DB", raising=False)
    # Each test starts with empty caches, as a freshly started server would.
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    yield
