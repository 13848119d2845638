"""State keys: a code edit that changes nothing a rule reads is the same state.

Collected end to end (the walk keys code files by their rule-relevant facts): a body
edit of a function only one file defines reuses the state; an import change, a new
function, or an edit of a function copied between training and serving does not.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from depaudit.collectors.git import GitRepository
from depaudit.collectors.history import walk
from depaudit.collectors.snapshot import BlobCache
from depaudit.collectors.state_keys import StateKeys
from tests.gitrepo import GitRepo

DEPAUDIT = str(Path(sys.executable).parent / "depaudit")

BASE = {
    "training/requirements.txt": "scikit-learn==1.3.2\npandas==2.1.4\n",
    "serving/requirements.txt": "scikit-learn==1.3.2\nfastapi==0.110.0\n",
    "serving/Dockerfile": 'FROM python:3.11-slim\nCMD ["uvicorn", "serving.app:app"]\n',
    "training/train.py": (
        "import pandas as pd\n\n\ndef load(path):\n    return pd.read_csv(path)\n\n\n"
        "def scale(x):\n    x = x.astype(float)\n    x = x - x.mean()\n    return x / 255\n"
    ),
    "serving/app.py": (
        "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n"
        "def scale(x):\n    x = x.astype(float)\n    x = x - x.mean()\n    return x / 255\n\n\n"
        "def helper(v):\n    return v + 1\n"
    ),
}


def history(tmp_path: Path) -> tuple[GitRepo, dict[str, str]]:
    repo = GitRepo(tmp_path / "repo")
    shas = {"base": repo.commit("base", BASE)}
    # 1. a body edit of a function only serving defines: nothing a rule reads changes
    shas["body"] = repo.commit(
        "tweak helper", {"serving/app.py": BASE["serving/app.py"].replace("v + 1", "v + 2")}
    )
    # 2. a body edit of load(), defined in training only: same
    shas["load"] = repo.commit(
        "faster load",
        {
            "training/train.py": BASE["training/train.py"].replace(
                "pd.read_csv(path)", "pd.read_parquet(path)"
            )
        },
    )
    # 3. the copied scale() diverges: DA207 must see it
    app = BASE["serving/app.py"].replace("v + 1", "v + 2").replace("x / 255", "x / 256")
    shas["copy"] = repo.commit("rescale", {"serving/app.py": app})
    # 4. a new import in serving
    shas["import"] = repo.commit("log", {"serving/app.py": "import logging\n" + app})
    return repo, shas


def test_walk_signature_follows_what_rules_read(tmp_path: Path) -> None:
    repo, shas = history(tmp_path)
    git = GitRepository(repo.path)
    keys = StateKeys(git, BlobCache())
    sigs = {step.info.sha: step.signature for step in walk(git, shas["import"], keys=keys)}
    assert sigs[shas["body"]] == sigs[shas["base"]]
    assert sigs[shas["load"]] == sigs[shas["base"]]
    assert sigs[shas["copy"]] != sigs[shas["load"]]
    assert sigs[shas["import"]] != sigs[shas["copy"]]


def test_body_edits_reuse_the_state_and_copies_still_drift(tmp_path: Path) -> None:
    repo, shas = history(tmp_path)
    db = f"sqlite:///{tmp_path / 'store.db'}"
    done = subprocess.run(
        [DEPAUDIT, "collect", str(repo.path), "--db", db], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "5 commits, 3 new states" in done.stderr

    def da207(sha: str) -> list[str]:
        out = subprocess.run(
            [DEPAUDIT, "report", "--db", db, "--commit", sha, "--format", "json"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return [f["item"] for f in json.loads(out)["findings"] if f["rule"] == "DA207"]

    assert da207(shas["load"]) == []
    assert da207(shas["copy"]) == ["serving.app.scale"]
