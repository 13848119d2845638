"""Reproductions of the 2026-12-04 field test (shared/field-tests), generalised.

Items owned here: services and workloads named as serving become environments (1),
mixed-role folder names (10), two repositories or branches under one name (5), a bad
``-o`` path (17), a bad ``--baseline`` checked before the audit (21), extras and
dependency groups installed only when asked (24), config validation (26). The other items have their tests beside the code they fixed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.gitrepo import GitRepo

DEPAUDIT = str(Path(sys.executable).parent / "depaudit")


def depaudit(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([DEPAUDIT, *args], capture_output=True, text=True, timeout=180, cwd=cwd)


def findings(repo: Path, *extra: str) -> set[tuple[str, str, str]]:
    done = depaudit("check", str(repo), "-q", "-f", "json", "--fail-on", "never", *extra)
    assert done.returncode == 0, done.stderr
    return {(f["status"], f["rule"], f["item"]) for f in json.loads(done.stdout)["findings"]}


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip()


# ------------------------------------------------------------------------------ item 1

WORKLOAD = """
    apiVersion: apps/v1
    kind: Deployment
    metadata: {{name: {name}}}
    spec:
      template:
        spec:
          containers:
          - name: main
            image: nvidia/cuda:12.1.0-devel-ubuntu22.04
            env:
            - {{name: WANDB_API_KEY, value: abc123-secret}}
            resources:
              limits: {{nvidia.com/gpu: 1}}
"""


@pytest.mark.parametrize(
    ("folder", "workload"), [("manifests", "fraud-api"), ("deploy/k8s", "scoring-server")]
)
def test_a_workload_named_as_serving_is_audited_without_a_serving_folder(
    tmp_path: Path, folder: str, workload: str
) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit(
        "layout",
        {
            "training/Dockerfile": "FROM python:3.11-slim\nRUN pip install scikit-learn==1.3.2\n",
            f"{folder}/{workload}.yaml": dedent(WORKLOAD.format(name=workload)),
        },
    )
    got = findings(repo.path)
    assert ("leftover", "DA301", "WANDB_API_KEY") in got
    assert ("leftover", "DA504", "cuda") in got
    assert ("leftover", "DA505", "gpu") in got
    gate = depaudit("check", str(repo.path), "-q")
    assert gate.returncode == 1  # the default --fail-on high fails on the tracker key


def test_a_compose_service_named_api_is_audited_without_an_app_folder(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    compose = """
        services:
          trainer:
            image: python:3.11-slim
            environment: {FEATURE_VERSION: "3"}
          api:
            image: python:3.11-slim
            command: uvicorn app:app
            environment: {FEATURE_VERSION: "2", WANDB_MODE: online}
            deploy:
              resources:
                reservations:
                  devices: [{driver: nvidia, count: 1, capabilities: [gpu]}]
    """
    repo.commit("compose", {"docker-compose.yml": dedent(compose)})
    got = findings(repo.path)
    assert ("drift", "DA303", "FEATURE_VERSION") in got
    assert ("leftover", "DA302", "WANDB_MODE") in got
    assert ("leftover", "DA505", "gpu") in got


def test_quiet_check_that_compared_nothing_says_so(tmp_path: Path) -> None:
    """With -q a repository with no serving side used to print only "No findings"."""
    repo = GitRepo(tmp_path / "repo")
    repo.commit(
        "one", {"training/requirements.txt": "optuna==3.6.1\n", "train.py": "import optuna\n"}
    )
    done = depaudit("check", str(repo.path), "-q")
    assert done.returncode == 0
    assert done.stderr.splitlines() == [
        "depaudit: no training x serving pair found: nothing was compared "
        "(run without -q to see the environments)"
    ]


def test_quiet_check_with_a_pair_prints_nothing_on_stderr(flat_repo: Path) -> None:
    done = depaudit("check", str(flat_repo), "-q", "--fail-on", "never")
    assert done.stderr == ""


# ----------------------------------------------------------------------------- item 10


@pytest.mark.parametrize(
    "serving_folder", ["inference_pipeline", "serving_pipeline", "predict-pipeline"]
)
def test_a_folder_naming_both_roles_is_placed_by_its_specific_word(
    tmp_path: Path, serving_folder: str
) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit(
        "layout",
        {
            "training/requirements.txt": "scikit-learn==1.3.2\n",
            f"{serving_folder}/requirements.txt": "scikit-learn==1.3.2\nwandb==0.16.0\n",
        },
    )
    done = depaudit("check", str(repo.path), "-f", "json", "--fail-on", "never")
    assert (
        f"{serving_folder} [serving, convention]"
        in done.stderr.replace(serving_folder.lower(), serving_folder)
        or f"{serving_folder.lower()} [serving" in done.stderr
    )
    assert "names the other role" in done.stderr
    assert ("leftover", "DA101", "wandb") in {
        (f["status"], f["rule"], f["item"]) for f in json.loads(done.stdout)["findings"]
    }


def test_training_pipelines_inside_a_service_folder_are_training(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit(
        "layout",
        {
            "ml_service/pipelines/build_train_pipeline.py": "from sklearn.datasets import load_diabetes\n",
            "ml_service/util/env_variables.py": "import os\n",
            "scoring/score.py": "import joblib\n\ndef init():\n    return joblib.load('m.pkl')\n",
            "scoring/requirements.txt": "joblib==1.3.2\n",
        },
    )
    done = depaudit("check", str(repo.path), "-f", "json", "--fail-on", "never")
    assert "pipelines [training, convention]" in done.stderr
    got = {(f["status"], f["rule"], f["item"]) for f in json.loads(done.stdout)["findings"]}
    assert not {g for g in got if g[1] == "DA202"}  # load_diabetes is training code's


# ------------------------------------------------------------------------------ item 5


def _small_repo(path: Path, pin: str) -> GitRepo:
    repo = GitRepo(path)
    repo.commit(
        "one",
        {"training/requirements.txt": f"pandas=={pin}\n", "serving/requirements.txt": "pandas\n"},
    )
    repo.commit("two", {"serving/requirements.txt": f"pandas=={pin}\n"})
    return repo


def test_two_repositories_with_one_folder_name_are_refused_not_overwritten(
    tmp_path: Path,
) -> None:
    a = _small_repo(tmp_path / "a" / "app", "2.1.4")
    b = _small_repo(tmp_path / "b" / "app", "2.2.0")
    db = f"sqlite:///{tmp_path / 'store.db'}"
    both = depaudit("collect", str(a.path), str(b.path), "--db", db)
    assert both.returncode == 2
    assert "would both be stored as 'app'" in both.stderr
    assert depaudit("collect", str(a.path), "--db", db).returncode == 0
    again = depaudit("collect", str(b.path), "--db", db)
    assert again.returncode == 2 and "shares no commit" in again.stderr
    history = depaudit("history", "--db", db, "--repo", "app", "-f", "json")
    assert len(json.loads(history.stdout)["commits"]) == 2  # a's history is intact
    assert depaudit("collect", str(b.path), "--db", db, "--name", "app-b").returncode == 0
    replaced = depaudit("collect", str(b.path), "--db", db, "--replace")
    assert replaced.returncode == 0, replaced.stderr


def test_another_branch_under_the_same_name_is_refused(tmp_path: Path) -> None:
    repo = _small_repo(tmp_path / "repo", "2.1.4")
    repo.run("checkout", "-q", "--orphan", "orph")
    repo.commit("orphan", {"training/requirements.txt": "numpy==1.26.4\n"}, add_all=True)
    db = f"sqlite:///{tmp_path / 'store.db'}"
    assert depaudit("collect", str(repo.path), "--db", db, "--branch", "main").returncode == 0
    other = depaudit("collect", str(repo.path), "--db", db, "--branch", "orph")
    assert other.returncode == 2 and "--name repo@orph" in other.stderr
    named = depaudit(
        "collect", str(repo.path), "--db", db, "--branch", "orph", "--name", "repo@orph"
    )
    assert named.returncode == 0, named.stderr
    main = depaudit("history", "--db", db, "--repo", "repo", "-f", "json")
    assert len(json.loads(main.stdout)["commits"]) == 2


# ------------------------------------------------------------------------ items 17, 21


@pytest.fixture
def flat_repo(tmp_path: Path) -> Path:
    repo = GitRepo(tmp_path / "repo")
    repo.commit(
        "one",
        {
            "training/requirements.txt": "optuna==3.6.1\n",
            "serving/requirements.txt": "optuna==3.6.1\n",
        },
    )
    return repo.path


@pytest.mark.parametrize("target", ["missing-dir/x.csv", "."])
def test_a_bad_output_path_is_one_line(flat_repo: Path, tmp_path: Path, target: str) -> None:
    done = depaudit("check", str(flat_repo), "-q", "-o", str(tmp_path / target))
    assert done.returncode == 2
    assert done.stderr.startswith("depaudit: error: ") and "cannot write report" in done.stderr
    assert "internal error" not in done.stderr and len(done.stderr.splitlines()) == 1


@pytest.mark.parametrize("target", ["missing-dir/x.csv", "."])
def test_a_bad_output_path_fails_before_any_work(
    flat_repo: Path, tmp_path: Path, target: str
) -> None:
    """Without -q, check prints its environments first: a bad -o must stop it before that,
    and report / history before they open the store."""
    out = str(tmp_path / target)
    store = str(tmp_path / "none.db")
    for args in (
        ("check", str(flat_repo), "-o", out),
        ("report", "-f", "csv", "--db", store, "-o", out),
        ("history", "--db", store, "-o", out),
    ):
        done = depaudit(*args)
        assert done.returncode == 2, args
        assert done.stderr.splitlines() == [done.stderr.strip()], (args, done.stderr)
        assert "cannot write report" in done.stderr, (args, done.stderr)


@pytest.mark.parametrize("baseline", ["no-such-ref", "base.json"])
def test_a_bad_baseline_fails_before_any_report(
    flat_repo: Path, tmp_path: Path, baseline: str
) -> None:
    (tmp_path / "base.json").write_text("{not json")
    arg = str(tmp_path / baseline) if baseline.endswith(".json") else baseline
    done = depaudit("check", str(flat_repo), "-f", "csv", "--baseline", arg)
    assert done.returncode == 2
    assert done.stdout == ""  # no report printed into a CI log that then fails
    assert "depaudit: error: " in done.stderr


# ----------------------------------------------------------------------------- item 26


def test_unknown_rule_ids_in_the_config_are_errors(flat_repo: Path) -> None:
    (flat_repo / ".depaudit.toml").write_text('[rules]\nignore = ["DA999"]\n')
    done = depaudit("check", str(flat_repo), "-q")
    assert done.returncode == 2 and "unknown rule id 'DA999'" in done.stderr
    (flat_repo / ".depaudit.toml").write_text('[rules.DA1O1]\nallow = ["optuna"]\n')
    assert depaudit("check", str(flat_repo), "-q").returncode == 2


def test_an_allowed_training_package_on_both_sides_is_not_good_news(flat_repo: Path) -> None:
    (flat_repo / ".depaudit.toml").write_text('[rules.DA101]\nallow = ["Optuna"]\n')
    got = findings(flat_repo)
    assert not {g for g in got if g[2] == "optuna"}  # neither a leftover nor "shared"


# ----------------------------------------------------------------------------- item 24

SERVING_PYPROJECT = """
    [project]
    name = "svc"
    version = "0.1"
    dependencies = ["fastapi==0.110.0"]

    [project.optional-dependencies]
    notebook = ["jupyterlab"]
    gpu = ["torch==2.1.0"]

    [dependency-groups]
    tuning = ["optuna"]
    dev = ["pytest"]
"""


@pytest.mark.parametrize(
    ("install", "expected"),
    [
        # pip install . / uv sync: no extra, only uv's default dev group (a dev tool)
        ("RUN pip install /app", set()),
        ("RUN uv sync --frozen", set()),
        ('RUN pip install "/app[notebook]"', {"jupyterlab"}),
        ("RUN uv sync --extra notebook --group tuning", {"jupyterlab", "optuna"}),
        # every extra: gpu's torch too, which only training code imports (DA106)
        ("RUN uv sync --all-extras", {"jupyterlab", "torch"}),
        ("RUN poetry install --with tuning", {"optuna"}),
    ],
)
def test_extras_and_groups_count_only_when_an_install_asks(
    tmp_path: Path, install: str, expected: set[str]
) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit(
        "layout",
        {
            "serving/pyproject.toml": dedent(SERVING_PYPROJECT),
            "serving/app.py": "import fastapi\n\napp = fastapi.FastAPI()\n",
            "serving/Dockerfile": f"FROM python:3.11-slim\nCOPY serving/ /app\n{install}\n",
            "training/requirements.txt": "torch==2.1.0\noptuna==3.5.0\njupyterlab==4.0.9\n",
            "training/train.py": "import torch\nimport optuna\n",
        },
    )
    leftovers = {item for status, rule, item in findings(repo.path) if status == "leftover"}
    assert leftovers == expected
