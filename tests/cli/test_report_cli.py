"""``depaudit report`` and ``depaudit history`` on a store filled by a real ``collect``."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from depaudit.reports import CSV_COLUMNS
from tests.gitrepo import GitRepo

DEPAUDIT = str(Path(sys.executable).parent / "depaudit")
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([DEPAUDIT, *args], capture_output=True, text=True, timeout=120)
    assert "Traceback" not in proc.stderr
    return proc


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    base = tmp_path_factory.mktemp("report")
    # commit n is dated 2024-02-01T00:00:0nZ
    repo = GitRepo(base / "fraud-model", epoch=datetime(2024, 2, 1, tzinfo=UTC))
    shas = [
        repo.commit(
            "initial",
            {
                "training/requirements.txt": "torch==2.1.0\nwandb==0.16.0\npandas==2.1.4\n",
                "training/Dockerfile": "FROM python:3.11-slim\n",
                "serving/requirements.txt": "torch==2.1.0\nfastapi==0.110.0\npandas==2.1.4\n",
                "serving/Dockerfile": "FROM python:3.10-slim\n",
            },
        ),
        repo.commit(
            'leak wandb, message with a "quote", comma',
            {
                "serving/requirements.txt": "torch==2.1.0\nwandb==0.16.0\nfastapi==0.110.0\npandas==2.1.4\n"
            },
        ),
        repo.commit("docs", {"README.md": "# fraud\n"}),
    ]
    db = base / "store.db"
    proc = run("collect", str(repo.path), "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    return db, shas


def test_csv_of_head_has_exactly_the_contract_columns(store: tuple[Path, list[str]]) -> None:
    db, shas = store
    proc = run("report", "--db", str(db), "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    frame = pd.read_csv(io.StringIO(proc.stdout), dtype=str, keep_default_na=False)
    assert tuple(frame.columns) == (*CSV_COLUMNS, "pairs")
    assert len(frame) > 0
    assert set(frame["commit"]) == {shas[-1]}
    assert set(frame["repo"]) == {"fraud-model"}
    assert all(ISO_UTC.match(v) for v in frame["committed_at"])
    leak = frame[(frame["rule"] == "DA101") & (frame["item"] == "wandb")]
    assert list(leak["introduced_in"]) == [shas[1]]
    assert set(frame["introduced_in"]) <= set(shas)


def test_commit_prefix_json_and_output_file(store: tuple[Path, list[str]], tmp_path: Path) -> None:
    db, shas = store
    out = tmp_path / "r.json"
    proc = run(
        "report",
        "--db",
        str(db),
        "--repo",
        "fraud-model",
        "--commit",
        shas[0][:8],
        "--format",
        "json",
        "-o",
        str(out),
    )
    assert proc.returncode == 0 and proc.stdout == ""
    doc = json.loads(out.read_text())
    assert doc["commit"] == shas[0]
    assert {f["commit"] for f in doc["findings"]} == {shas[0]}
    assert not any(f["rule"] == "DA101" for f in doc["findings"])  # wandb leaked later


def test_all_commits_report(store: tuple[Path, list[str]]) -> None:
    db, shas = store
    proc = run("report", "--db", str(db), "--all-commits", "--format", "csv")
    frame = pd.read_csv(io.StringIO(proc.stdout), dtype=str, keep_default_na=False)
    assert list(dict.fromkeys(frame["commit"])) == shas
    per_commit = {
        sha: len(
            pd.read_csv(
                io.StringIO(
                    run("report", "--db", str(db), "--commit", sha, "--format", "csv").stdout
                )
            )
        )
        for sha in shas
    }
    assert frame.groupby("commit").size().to_dict() == per_commit


@pytest.mark.parametrize("fmt", ["markdown", "sarif"])
def test_other_formats_render(store: tuple[Path, list[str]], fmt: str) -> None:
    db, _ = store
    proc = run("report", "--db", str(db), "--format", fmt)
    assert proc.returncode == 0, proc.stderr
    assert "wandb" in proc.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--repo", "nope"], "no repository 'nope' in the store"),
        (["--commit", "deadbeef"], "no commit 'deadbeef'"),
        (["--commit", "xyz"], "not a commit sha"),
        (["--commit", "abcd", "--all-commits"], "not both"),
    ],
)
def test_unknown_repo_or_commit_is_one_line_exit_2(
    store: tuple[Path, list[str]], args: list[str], message: str
) -> None:
    db, _ = store
    proc = run("report", "--db", str(db), "--format", "csv", *args)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and message in proc.stderr


def test_missing_store_is_one_line_exit_2(tmp_path: Path) -> None:
    proc = run("report", "--db", str(tmp_path / "none.db"), "--format", "csv")
    assert proc.returncode == 2 and "no depaudit store" in proc.stderr
    assert not (tmp_path / "none.db").exists()


def test_history_counts_per_commit(store: tuple[Path, list[str]]) -> None:
    db, shas = store
    doc = json.loads(run("history", "--db", str(db), "--format", "json").stdout)
    rows = doc["commits"]
    assert [r["commit"] for r in rows] == shas
    assert rows[0]["leftover_medium"] == 0 and rows[1]["leftover_medium"] >= 1
    assert rows[1] | {"commit": "", "summary": ""} == rows[2] | {"commit": "", "summary": ""} | {
        "committed_at": rows[1]["committed_at"]
    }
    csv_text = run("history", "--db", str(db), "--format", "csv").stdout
    frame = pd.read_csv(io.StringIO(csv_text))
    assert list(frame.columns[:5]) == ["repo", "commit", "committed_at", "author", "summary"]
    assert "drift_medium" in frame.columns and len(frame) == 3
    table = run("history", "--db", str(db)).stdout
    assert shas[1][:12] in table and "leak wandb" in table
