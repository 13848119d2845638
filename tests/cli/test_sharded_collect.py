"""Fleet collection: ``depaudit collect --repos FILE --shard K/N`` into one PostgreSQL store.

Nine small ML repositories (one reached through a ``file://`` URL) are collected twice:
by three shard processes started together into one database, and by one process into
another. Every repository must be collected by exactly one shard, and the two stores
must hold the same thing, repository by repository: commit counts, heads and the
``report --all-commits`` output. The bad ways to ask for a shard are one line, exit 2.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from depaudit.cli import app
from depaudit.store.reader import StoreReader
from tests.conftest import POSTGRES_ENV, _postgres_database
from tests.gitrepo import GitRepo

ROOT = Path(__file__).resolve().parents[2]
SHARDS = 3

TRAINING_REQS = "torch==2.2.0\nnumpy==1.26.4\npandas==2.1.4\nwandb==0.16.{v}\noptuna==3.6.1\n"
SERVING_REQS = "torch==2.2.0\nnumpy==1.26.{v}\nfastapi==0.110.{v}\nuvicorn==0.29.0\n"
DOCKERFILE = 'FROM python:3.11-slim\nCOPY serving /app\nCMD ["uvicorn", "app.main:api"]\n'
TRAIN_PY = "import numpy as np\nimport wandb\n\n\ndef train(x):\n    return np.mean(x) * {v}\n"
SERVE_PY = (
    "import fastapi\nimport numpy as np\n{extra}\napi = fastapi.FastAPI()\n\n\n"
    "@api.post('/predict')\ndef predict(x: list[float]):\n    return float(np.mean(x)) * {v}\n"
)


def make_ml_repo(path: Path, commits: int, seed: int) -> GitRepo:
    """A small service repo: mostly code edits, some requirement and Dockerfile bumps."""
    repo = GitRepo(path)
    repo.commit(
        "initial",
        {
            "training/requirements.txt": TRAINING_REQS.format(v=0),
            "training/train.py": TRAIN_PY.format(v=1),
            "serving/requirements.txt": SERVING_REQS.format(v=0),
            "serving/Dockerfile": DOCKERFILE,
            "serving/app/main.py": SERVE_PY.format(extra="", v=1),
        },
    )
    for n in range(1, commits):
        kind = (n + seed) % 4
        if kind == 0:
            files = {"serving/requirements.txt": SERVING_REQS.format(v=n % 3)}
        elif kind == 1:  # a training import leaks into serving, then leaves again
            extra = "from training.train import train\n" if n % 2 else ""
            files = {"serving/app/main.py": SERVE_PY.format(extra=extra, v=n)}
        elif kind == 2:
            files = {"training/train.py": TRAIN_PY.format(v=n)}
        else:
            files = {"training/requirements.txt": TRAINING_REQS.format(v=n % 4)}
        repo.commit(f"change {n}", files)
    return repo


@pytest.fixture
def fleet(tmp_path: Path) -> tuple[Path, dict[str, GitRepo]]:
    names = [
        "fraud-api",
        "churn-model",
        "ranker",
        "recsys-serving",
        "search-embeddings",
        "pricing",
        "ads-ctr",
        "forecast",
        "support-triage",
    ]
    repos = {
        name: make_ml_repo(tmp_path / "src" / name, commits=3 + i % 4, seed=i)
        for i, name in enumerate(names)
    }
    entries = []
    for name, repo in repos.items():
        where = f'url = "file://{repo.path}"' if name == "ranker" else f'path = "{repo.path}"'
        entries.append(f'[[repos]]\nname = "{name}"\n{where}\n')
    toml = tmp_path / "repos.toml"
    toml.write_text("\n".join(entries), "utf-8")
    return toml, repos


def collect_args(toml: Path, db: str, cache: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "depaudit",
        "collect",
        "--repos",
        str(toml),
        "--db",
        db,
        "--cache-dir",
        str(cache),
        "--log-format",
        "json",
        "--lock-timeout",
        "120",
        *extra,
    ]


def json_lines(stderr: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


def stored(url: str) -> dict[str, tuple[int, str | None]]:
    reader = StoreReader(url)
    try:
        return {r.name: (r.commit_count, r.head_sha) for r in reader.list_repos()}
    finally:
        reader.close()


def report_all_commits(db: str, repo: str) -> str:
    result = CliRunner().invoke(
        app, ["report", "--db", db, "--repo", repo, "--all-commits", "--format", "csv"]
    )
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def two_postgres_stores() -> Iterator[tuple[str, str]]:
    """Two fresh PostgreSQL databases (dropped afterwards)."""
    admin_url = os.environ.get(POSTGRES_ENV)
    if not admin_url:
        pytest.skip(f"fleet collection into PostgreSQL needs {POSTGRES_ENV} (see .ci/run)")
    database = contextlib.contextmanager(_postgres_database)
    with database(admin_url) as first, database(admin_url) as second:
        yield first, second


@pytest.mark.postgres
def test_shards_cover_every_repository_once(
    fleet: tuple[Path, dict[str, GitRepo]], tmp_path: Path, two_postgres_stores: tuple[str, str]
) -> None:
    toml, repos = fleet
    sharded_db, single_db = two_postgres_stores

    # three shard processes at once into one database, sharing one mirrors cache
    procs = [
        subprocess.Popen(
            collect_args(toml, sharded_db, tmp_path / "mirrors", "--shard", f"{k}/{SHARDS}"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for k in range(1, SHARDS + 1)
    ]
    outputs = [p.communicate(timeout=600) for p in procs]
    logs = []
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        logs.append(json_lines(err))
    # the split is by name: each repository in exactly one shard's log, and the work is
    # really spread (no shard does it all)
    collected_by = [line["repo"] for log in logs for line in log]
    assert sorted(collected_by) == sorted(repos)
    assert all(line["status"] == "ok" for log in logs for line in log)
    assert max(len(log) for log in logs) < len(repos)

    single = subprocess.run(
        collect_args(toml, single_db, tmp_path / "mirrors-single", "--jobs", "2"),
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert single.returncode == 0, single.stderr
    single_log = {line["repo"]: line["commits"] for line in json_lines(single.stderr)}
    sharded_log = {line["repo"]: line["commits"] for log in logs for line in log}
    assert sharded_log == single_log

    git_truth = {
        name: (int(repo.run("rev-list", "--count", "HEAD")), repo.run("rev-parse", "HEAD"))
        for name, repo in repos.items()
    }
    assert stored(sharded_db) == stored(single_db) == git_truth
    for name in repos:
        sharded_report = report_all_commits(sharded_db, name)
        assert sharded_report == report_all_commits(single_db, name), name
        # a real report: one header and findings of every commit of the history
        assert sharded_report.count("\n") > git_truth[name][0]


@pytest.mark.parametrize(
    ("args", "env", "needle"),
    [
        (["--shard", "0/3"], {}, "--shard 0/3: K must be between 1 and 3"),
        (["--shard", "4/3"], {}, "--shard 4/3: K must be between 1 and 3"),
        (["--shard", "x/y"], {}, "--shard 'x/y': expected K/N"),
        (["--shard", "1/0"], {}, "the shard count must be between 1 and"),
        (["--shard", "3"], {}, "--shard '3': expected K/N"),
        (
            ["--shard-count", "3"],
            {"JOB_COMPLETION_INDEX": "3"},
            "JOB_COMPLETION_INDEX=3 is out of range for 3 shards (0..2)",
        ),
        (
            [],
            {"JOB_COMPLETION_INDEX": "5", "DEPAUDIT_SHARD_COUNT": "2"},
            "JOB_COMPLETION_INDEX=5 is out of range for 2 shards (0..1)",
        ),
        ([], {"JOB_COMPLETION_INDEX": "-1", "DEPAUDIT_SHARD_COUNT": "2"}, "is not a whole number"),
        ([], {"JOB_COMPLETION_INDEX": "1"}, "the shard count is not: give --shard-count N"),
        (
            ["--shard-count", "two"],
            {"JOB_COMPLETION_INDEX": "1"},
            "--shard-count 'two': expected a whole number",
        ),
        ([], {"DEPAUDIT_SHARD_COUNT": "3"}, "JOB_COMPLETION_INDEX is not"),
    ],
)
def test_bad_shards_are_one_line(
    tmp_path: Path, args: list[str], env: dict[str, str], needle: str
) -> None:
    toml = tmp_path / "repos.toml"
    toml.write_text('[[repos]]\nname = "a"\npath = "."\n', "utf-8")
    store = tmp_path / "store.db"
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("JOB_COMPLETION_INDEX", "DEPAUDIT_SHARD_COUNT")
    }
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "depaudit",
            "collect",
            "--repos",
            str(toml),
            "--db",
            f"sqlite:///{store}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**clean, **env},
        cwd=ROOT,
    )
    assert run.returncode == 2
    assert needle in run.stderr
    assert run.stderr.startswith("depaudit: error: ") and run.stderr.count("\n") == 1
    assert not store.exists()  # refused before anything was collected


@pytest.mark.parametrize("option", [["--shard", "1/2"], ["--shard-count", "2"]])
def test_shard_needs_a_repos_file(tmp_path: Path, option: list[str]) -> None:
    repo = GitRepo(tmp_path / "svc")
    repo.commit("initial", {"serving/requirements.txt": "fastapi==0.110.0\n"})
    run = subprocess.run(
        [sys.executable, "-m", "depaudit", "collect", str(repo.path), *option],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DEPAUDIT_DB": f"sqlite:///{tmp_path / 's.db'}"},
        cwd=ROOT,
    )
    assert run.returncode == 2
    assert (
        run.stderr
        == f"depaudit: error: {option[0]} splits a repos file between processes: give --repos FILE\n"
    )
