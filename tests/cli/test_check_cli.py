"""``depaudit check`` end to end on a small repository built in the test.

The repository is written the way ML teams write them: requirements copy-pasted from
training into serving, a serving Dockerfile on another Python, the warehouse password
and a tracker token baked into serving. The test asserts the exact leftover, drift and
shared findings, and that the planted secrets appear in no output.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

DEPAUDIT = str(Path(sys.executable).parent / "depaudit")
PASSWORD = "Tr0ub4dor-and-3-horses"
TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
DB_PASSWORD = "warehouse-pw-991177"

FILES = {
    "training/requirements.txt": """
        # training stack
        pandas==2.1.4
        scikit-learn==1.3.2
        numpy==1.26.4
        optuna==3.6.1
        mlflow==2.11.1
        jupyter==1.0.0
    """,
    "training/Dockerfile": """
        FROM python:3.11-slim
        COPY requirements.txt .
        RUN pip install -r requirements.txt
        CMD ["python", "-m", "training.train"]
    """,
    "training/train.py": """
        import optuna
        from sklearn.model_selection import train_test_split
        from common.features import preprocess


        def main():
            study = optuna.create_study()
            return study
    """,
    "serving/requirements.txt": """
        # copied from training/requirements.txt, then edited
        pandas==2.2.1
        scikit-learn==1.3.2
        numpy==1.26.4
        optuna==3.6.1
        fastapi==0.110.0
        uvicorn==0.29.0
    """,
    "serving/Dockerfile": f"""
        FROM python:3.10-slim
        ENV DB_PASSWORD={PASSWORD}
        ENV WANDB_API_KEY={TOKEN}
        COPY requirements.txt .
        RUN pip install -r requirements.txt
        CMD ["uvicorn", "serving.app:app", "--host", "0.0.0.0"]
    """,
    "serving/app.py": """
        from fastapi import FastAPI
        from common.features import preprocess

        app = FastAPI()


        @app.get("/predict")
        def predict(x: float) -> float:
            return preprocess(x)
    """,
    "serving/settings.yaml": f"""
        warehouse:
          dsn: snowflake://etl:{DB_PASSWORD}@acme-xy12345.snowflakecomputing.com/db
        model_path: /models/fraud.joblib
    """,
    "common/__init__.py": "",
    "common/features.py": """
        def preprocess(x):
            return x * 2
    """,
}


def build_repo(root: Path) -> Path:
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return root


def run_check(
    repo: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DEPAUDIT, "check", str(repo), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_repo(tmp_path_factory.mktemp("repo"))


@pytest.fixture(scope="module")
def json_report(repo: Path) -> dict:  # type: ignore[type-arg]
    proc = run_check(repo, "--format", "json", "--fail-on", "never")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def triples(report: dict, statuses: set[str]) -> set[tuple[str, str, str]]:  # type: ignore[type-arg]
    return {
        (f["status"], f["rule"], f["item"]) for f in report["findings"] if f["status"] in statuses
    }


EXPECTED_LEFTOVER_AND_DRIFT = {
    ("leftover", "DA101", "optuna"),
    ("leftover", "DA301", "WANDB_API_KEY"),
    ("leftover", "DA401", "snowflake:acme-xy12345"),
    ("drift", "DA102", "pandas"),
    ("drift", "DA501", "python"),
    ("drift", "DA503", "base_image"),
}


def test_exact_leftover_and_drift_findings(json_report: dict) -> None:  # type: ignore[type-arg]
    assert triples(json_report, {"leftover", "drift"}) == EXPECTED_LEFTOVER_AND_DRIFT


def test_shared_findings_are_what_is_standardized(json_report: dict) -> None:  # type: ignore[type-arg]
    shared = triples(json_report, {"shared"})
    assert ("shared", "DA104", "scikit-learn") in shared
    assert ("shared", "DA104", "numpy") in shared
    assert ("shared", "DA507", "os") in shared
    # a training-only package in serving is a leftover, not good news
    assert ("shared", "DA104", "optuna") not in shared


def test_findings_carry_values_file_and_line(json_report: dict) -> None:  # type: ignore[type-arg]
    by_item = {f["item"]: f for f in json_report["findings"] if f["status"] == "drift"}
    pandas = by_item["pandas"]
    assert (pandas["training"], pandas["serving"]) == ("2.1.4", "2.2.1")
    assert (pandas["file"], pandas["line"]) == ("serving/requirements.txt", 2)
    assert pandas["severity"] == "medium"
    python = by_item["python"]
    assert (python["training"], python["serving"], python["file"]) == (
        "3.11",
        "3.10",
        "serving/Dockerfile",
    )


def test_csv_has_exactly_the_contract_columns(repo: Path) -> None:
    proc = run_check(repo, "--format", "csv", "--fail-on", "never")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert list(rows[0].keys()) == [
        "repo", "commit", "committed_at", "training_env", "serving_env", "status", "kind", "item",
        "training", "serving", "severity", "rule", "file", "line", "introduced_in", "message",
        "pairs",
    ]  # fmt: skip
    assert {
        (r["status"], r["rule"], r["item"]) for r in rows if r["status"] in {"leftover", "drift"}
    } == EXPECTED_LEFTOVER_AND_DRIFT
    assert all(r["training_env"] == "training" and r["serving_env"] == "serving" for r in rows)
    # reports are clean: the environment assignment went to stderr
    assert (
        "environments (conventions)" in proc.stderr
        and "environments" not in proc.stdout.splitlines()[0]
    )


@pytest.mark.parametrize("fmt", ["table", "csv", "json", "markdown", "sarif"])
def test_planted_secrets_appear_in_no_output(repo: Path, fmt: str) -> None:
    proc = run_check(repo, "--format", fmt, "--fail-on", "never")
    assert proc.returncode == 0, proc.stderr
    for secret in (PASSWORD, TOKEN, DB_PASSWORD):
        assert secret not in proc.stdout
        assert secret not in proc.stderr
    if fmt == "table":
        assert "***masked:" in proc.stdout  # the key is still reported, its value masked


def test_table_groups_by_status(repo: Path) -> None:
    proc = run_check(repo, "--fail-on", "never")
    out = proc.stdout
    assert (
        out.index("Training leftovers in serving")
        < out.index("Drift between training and serving")
        < out.index("Shared")
    )


def test_exit_codes_follow_fail_on(repo: Path) -> None:
    assert run_check(repo, "-q", "--fail-on", "high").returncode == 1  # DA301 / DA401 are high
    assert run_check(repo, "-q", "--fail-on", "never").returncode == 0
    bad = run_check(repo, "--fail-on", "critical")
    assert bad.returncode == 2 and "--fail-on must be one of" in bad.stderr
    missing = run_check(repo / "nope")
    assert missing.returncode == 2 and "no such directory" in missing.stderr
    assert "Traceback" not in missing.stderr + bad.stderr


def test_rev_reads_git_objects_not_the_working_tree(tmp_path: Path) -> None:
    repo = build_repo(tmp_path / "r")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@x"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "c1"], cwd=repo, check=True)
    # uncommitted edit: removes optuna from serving in the working tree only
    req = repo / "serving/requirements.txt"
    req.write_text(req.read_text().replace("optuna==3.6.1\n", ""))
    work = json.loads(run_check(repo, "--format", "json", "--fail-on", "never").stdout)
    head = json.loads(
        run_check(repo, "--rev", "HEAD", "--format", "json", "--fail-on", "never").stdout
    )
    assert ("leftover", "DA101", "optuna") not in triples(work, {"leftover"})
    assert ("leftover", "DA101", "optuna") in triples(head, {"leftover"})
    assert all(f["commit"] and len(f["commit"]) == 40 for f in head["findings"])
    unknown = run_check(repo, "--rev", "no-such-rev")
    assert unknown.returncode == 2 and "unknown revision" in unknown.stderr


def test_broken_files_are_error_findings_and_the_rest_still_completes(tmp_path: Path) -> None:
    repo = build_repo(tmp_path / "r")
    (repo / "serving/pyproject.toml").write_text("[project\nname = ")
    (repo / "serving/config.yaml").write_bytes(b"\xff\xfe\x00binary\x00")
    (repo / "training/environment.yml").write_text(
        "a: &a [x, x]\nb: &b [*a, *a, *a, *a]\nc: &c [*b, *b, *b, *b]\n"
        + "".join(
            f"d{i}: &d{i} [{', '.join(['*' + ('c' if i == 0 else f'd{i - 1}')] * 9)}]\n"
            for i in range(12)
        )
    )
    proc = run_check(repo, "--format", "json", "--fail-on", "never")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    errors = {f["item"]: f["message"] for f in report["findings"] if f["status"] == "error"}
    assert set(errors) >= {
        "serving/pyproject.toml",
        "serving/config.yaml",
        "training/environment.yml",
    }
    assert all("\n" not in m for m in errors.values())
    assert triples(report, {"leftover", "drift"}) >= EXPECTED_LEFTOVER_AND_DRIFT
    assert "Traceback" not in proc.stderr


def test_config_file_errors_name_the_file_and_key(repo: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "audit.toml"
    cfg.write_text("[environments.api]\nrole = 'serving'\ninclude = ['serving/**']\nfoo = 1\n")
    proc = run_check(repo, "--config", str(cfg))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"depaudit: error: {cfg}: unknown key 'environments.api.foo' (expected one of entrypoints, exclude, include, project, role)"
    ]


MARKER_CODE = "import pathlib; pathlib.Path({marker!r}).write_text('executed')\n"


def test_never_imports_runs_or_connects(tmp_path: Path) -> None:
    """Audited code would write marker files if executed; sockets are blocked in the child."""
    repo = build_repo(tmp_path / "r")
    markers = {name: tmp_path / f"marker-{name}" for name in ("setup", "conftest", "init", "app")}
    (repo / "setup.py").write_text(MARKER_CODE.format(marker=str(markers["setup"])))
    (repo / "conftest.py").write_text(MARKER_CODE.format(marker=str(markers["conftest"])))
    (repo / "serving/__init__.py").write_text(MARKER_CODE.format(marker=str(markers["init"])))
    (repo / "serving/app.py").write_text(
        (repo / "serving/app.py").read_text() + MARKER_CODE.format(marker=str(markers["app"]))
    )
    guard = tmp_path / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(
        "import socket\n"
        "def _blocked(*a, **k):\n    raise SystemExit('network access attempted')\n"
        "socket.socket.connect = _blocked\nsocket.create_connection = _blocked\nsocket.getaddrinfo = _blocked\n"
    )
    proc = run_check(repo, "--format", "json", "--fail-on", "never", env={"PYTHONPATH": str(guard)})
    assert proc.returncode == 0, proc.stderr
    assert "network access attempted" not in proc.stderr
    assert not any(m.exists() for m in markers.values())
    assert triples(json.loads(proc.stdout), {"leftover", "drift"}) >= {
        ("leftover", "DA101", "optuna")
    }


def test_console_script_is_where_serving_code_starts(tmp_path: Path) -> None:
    """A [project.scripts] entry names the start; code it does not reach is not reported."""
    files = {
        "training/requirements.txt": "scikit-learn==1.4.2\n",
        "training/__init__.py": "",
        "training/train.py": "def fit():\n    return 1\n",
        "training/tune.py": "def search():\n    return 2\n",
        "serving/requirements.txt": "scikit-learn==1.4.2\n",
        "serving/pyproject.toml": '[project]\nname = "api"\nversion = "1"\n[project.scripts]\nserve = "serving.main:run"\n',
        "serving/__init__.py": "",
        "serving/main.py": "from common.io import load\n\n\ndef run():\n    return load()\n",
        "serving/scratch.py": "from training.tune import search\n",
        "common/__init__.py": "",
        "common/io.py": "from training.train import fit\n\n\ndef load():\n    return fit()\n",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    report = json.loads(run_check(tmp_path, "--format", "json", "--fail-on", "never").stdout)
    da201 = [f for f in report["findings"] if f["rule"] == "DA201"]
    assert [(f["item"], f["file"], f["line"]) for f in da201] == [
        ("training.train", "common/io.py", 1)
    ]
    assert da201[0]["evidence"].splitlines()[0].startswith("serving/main.py")
