"""A fact of one side seen by several pairs of a project is one row, listing the pairs.

Shaped like the examples monorepos: a project folder whose API is compared with its
training job and its fine-tuning job. The API's tracker key, CUDA devel image and
serving-only packages are found once per pair by the rules; the reports show each once.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.gitrepo import GitRepo

DEPAUDIT = str(Path(sys.executable).parent / "depaudit")
PAIRS = [
    {"training": "finetune", "serving": "serving"},
    {"training": "training", "serving": "serving"},
]

FILES = {
    "proj/training/requirements.txt": "torch==2.1.0\nwandb==0.16.0\n",
    "proj/training/train.py": "import torch\nimport wandb\n",
    "proj/finetune/requirements.txt": "torch==2.1.0\noptuna==3.6.1\n",
    "proj/finetune/finetune.py": "import torch\nimport optuna\n",
    "proj/serving/requirements.txt": "torch==2.1.0\nfastapi==0.110.0\nwandb==0.16.0\n",
    "proj/serving/app.py": "from fastapi import FastAPI\nimport torch\n\napp = FastAPI()\n",
    "proj/serving/Dockerfile": (
        "FROM nvidia/cuda:12.1.0-devel-ubuntu22.04\nENV WANDB_API_KEY=abc123\n"
        "COPY requirements.txt .\nRUN pip install -r requirements.txt\n"
        'CMD ["uvicorn", "app:app"]\n'
    ),
}


def depaudit(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([DEPAUDIT, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git = GitRepo(tmp_path / "examples")
    git.commit("two training jobs, one API", FILES)
    return git.path


def findings(repo: Path, *extra: str) -> list[dict[str, object]]:
    done = depaudit("check", ".", "-q", "--format", "json", "--fail-on", "never", *extra, cwd=repo)
    assert done.returncode == 0, done.stderr
    found: list[dict[str, object]] = json.loads(done.stdout)["findings"]
    return found


def test_a_serving_fact_is_one_finding_with_both_pairs(repo: Path) -> None:
    found = findings(repo)
    by_rule = {(f["rule"], f["item"]): f for f in found}
    for rule, item in (("DA301", "WANDB_API_KEY"), ("DA504", "cuda"), ("DA105", "fastapi")):
        assert [(f["rule"], f["item"]) for f in found].count((rule, item)) == 1
        assert by_rule[(rule, item)]["pairs"] == PAIRS
    # a fact that differs per pair stays one finding per pair: wandb is declared by the
    # training job (versions on both sides) but not by the fine-tuning job
    wandb = [f for f in found if (f["rule"], f["item"]) == ("DA101", "wandb")]
    assert sorted(str(f["training"]) for f in wandb) == ["", "0.16.0"]
    assert all(len(f["pairs"]) == 1 for f in wandb)  # type: ignore[arg-type]


def test_csv_lists_the_pairs_last(repo: Path) -> None:
    done = depaudit("check", ".", "-q", "--format", "csv", "--fail-on", "never", cwd=repo)
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    (key,) = [r for r in rows if r["rule"] == "DA301"]
    assert key["pairs"] == "finetune x serving; training x serving"
    assert key["serving"].startswith("***masked:")


def test_the_gate_and_a_baseline_still_count_every_pair(repo: Path) -> None:
    assert depaudit("check", ".", "-q", "--fail-on", "high", cwd=repo).returncode == 1
    for fmt in ("json", "sarif"):
        baseline = repo.parent / f"baseline.{fmt}"
        done = depaudit("check", ".", "-q", "--format", fmt, "-o", str(baseline), cwd=repo)
        assert done.returncode == 1, done.stderr
        # every pair's finding is in the baseline, though the report lists it once
        again = depaudit(
            "check", ".", "-q", "--fail-on", "low", "--baseline", str(baseline), cwd=repo
        )
        assert again.returncode == 0, (fmt, again.stdout, again.stderr)
