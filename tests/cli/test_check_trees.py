"""What ``depaudit check`` reads, end to end: the field test's tree-reading defects.

Each test is a field-test reproduction (2026-12-04 items 6, 9, 14, 15, 16), generalised:
the working tree must give the answer ``--rev HEAD`` gives for the same commit (what git
ignores is not the repository; submodules are not entered), a bare repository is
audited at HEAD, an object a pruned clone lacks makes only its own file an error, and a
missing ``git`` is one line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.gitrepo import GitRepo

DEPAUDIT = str(Path(sys.executable).parent / "depaudit")

FILES = {
    "training/requirements.txt": "scikit-learn==1.3.2\noptuna==3.6.1\n",
    "training/train.py": "import optuna\nimport sklearn\n",
    "serving/requirements.txt": "scikit-learn==1.3.2\nfastapi==0.110.0\n",
    "serving/app.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
    "data/access_logs.json": '{"user": 1, "item": 7}\n',
    "data/train.csv": "x,y\n1,2\n",
}


def depaudit(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DEPAUDIT, *args],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, **(env or {})},
        cwd=Path(__file__).parent,
    )


def findings(path: Path, *extra: str) -> list[dict[str, object]]:
    proc = depaudit("check", str(path), "-q", "--format", "json", "--fail-on", "never", *extra)
    assert proc.returncode == 0, proc.stderr
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr
    found: list[dict[str, object]] = json.loads(proc.stdout)["findings"]
    return found


def keys(found: list[dict[str, object]]) -> set[tuple[object, ...]]:
    return {(f["status"], f["rule"], f["item"], f["file"], f["line"]) for f in found}


def leftovers(found: list[dict[str, object]]) -> set[tuple[object, object]]:
    return {(f["rule"], f["item"]) for f in found if f["status"] == "leftover"}


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "model")
    repo.commit("layout", {**FILES, ".gitignore": "env/\nbuild/\n.venv*/\n"})
    return repo


def drop_blob(repo: GitRepo, path: str) -> None:
    blob = repo.run("rev-parse", f"HEAD:{path}")
    (repo.path / ".git" / "objects" / blob[:2] / blob[2:]).unlink()


# ---------------------------------------------------------------- item 6: missing blobs


def test_missing_data_blob_does_not_stop_rev_baseline_or_collect(
    repo: GitRepo, tmp_path: Path
) -> None:
    repo.commit("serving pulls in a tracker", {"serving/requirements.txt": "wandb==0.16.0\n"})
    drop_blob(repo, "data/access_logs.json")
    drop_blob(repo, "data/train.csv")
    found = findings(repo.path, "--rev", "HEAD")
    assert ("DA101", "wandb") in leftovers(found)
    assert not [f for f in found if f["status"] == "error"]

    proc = depaudit("check", str(repo.path), "-q", "--format", "csv", "--baseline", "HEAD")
    assert proc.returncode == 0, proc.stderr
    assert "0 of" in proc.stderr and "internal error" not in proc.stderr

    proc = depaudit("collect", str(repo.path), "--db", str(tmp_path / "store.db"))
    assert proc.returncode == 0, proc.stderr


def test_missing_blob_of_an_environment_file_is_its_error_finding(
    repo: GitRepo, tmp_path: Path
) -> None:
    repo.commit(
        "serving extras",
        {"serving/requirements.txt": "wandb==0.16.0\n", "serving/requirements-gpu.txt": "cupy\n"},
    )
    drop_blob(repo, "serving/requirements-gpu.txt")
    found = findings(repo.path, "--rev", "HEAD")
    (error,) = [f for f in found if f["status"] == "error"]
    assert error["file"] == "serving/requirements-gpu.txt" and error["rule"] == "DA900"
    assert "missing" in str(error["message"])
    assert ("DA101", "wandb") in leftovers(found)

    db = tmp_path / "store.db"
    proc = depaudit("collect", str(repo.path), "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    report = depaudit("report", "--db", str(db), "--format", "json")
    stored = json.loads(report.stdout)["findings"]
    assert keys(stored) == keys(found)


@pytest.mark.parametrize("damage", ["missing blob", "unparseable"])
def test_a_side_whose_only_dependency_file_is_unreadable_reports_it(
    tmp_path: Path, damage: str
) -> None:
    """A serving folder with one requirements file and no code: when that file cannot be
    read, the side still exists and its DA900 error is reported (it used to vanish as
    "only configuration files of its own", leaving an empty, passing report)."""
    repo = GitRepo(tmp_path / "model")
    broken = "wandb[[[[\n" if damage == "unparseable" else "wandb==0.16.0\n"
    repo.commit(
        "layout",
        {
            "training/requirements.txt": "wandb==0.16.0\nscikit-learn==1.3.2\n",
            "training/train.py": "import wandb\n",
            "serving/requirements.txt": broken,
            "serving/settings.yaml": "workers: 2\n",
        },
    )
    if damage == "missing blob":
        drop_blob(repo, "serving/requirements.txt")
    found = findings(repo.path, "--rev", "HEAD")
    errors = [(f["rule"], f["file"]) for f in found if f["status"] == "error"]
    assert errors == [("DA900", "serving/requirements.txt")], found


# ---------------------------------------------------------------- item 9: what git ignores


def test_working_tree_ignores_what_git_ignores(repo: GitRepo) -> None:
    repo.write(
        {
            "serving/env/pyvenv.cfg": "home = /usr/bin\n",
            "serving/env/lib/python3.11/site-packages/optuna/__init__.py": (
                "import wandb\nimport sqlalchemy\n"
            ),
            "serving/build/lib/requirements.txt": "wandb==0.1\n",
            "serving/.venv-gpu/lib/python3.11/site-packages/torch/__init__.py": "import wandb\n",
        }
    )
    assert keys(findings(repo.path)) == keys(findings(repo.path, "--rev", "HEAD"))


def test_working_tree_audits_untracked_files_git_does_not_ignore(repo: GitRepo) -> None:
    repo.write({"serving/requirements-dev.txt": "mlflow==2.11.1\n"})
    assert ("DA101", "mlflow") in leftovers(findings(repo.path))
    assert ("DA101", "mlflow") not in leftovers(findings(repo.path, "--rev", "HEAD"))


def test_working_tree_skips_tracked_files_deleted_on_disk(repo: GitRepo) -> None:
    repo.commit("tracker", {"serving/requirements-extra.txt": "wandb==0.16.0\n"})
    (repo.path / "serving/requirements-extra.txt").unlink()
    found = findings(repo.path)
    assert ("DA101", "wandb") not in leftovers(found)
    assert not [f for f in found if f["status"] == "error"]


def test_plain_directory_skips_virtualenvs_and_build_output(tmp_path: Path) -> None:
    root = tmp_path / "export"
    GitRepo(root, init=False).write(
        {
            **FILES,
            "serving/env/pyvenv.cfg": "home = /usr/bin\n",
            "serving/env/lib/python3.11/site-packages/optuna/__init__.py": "import wandb\n",
            "serving/build/lib/requirements.txt": "wandb==0.1\n",
            "serving/build/lib/serving/app.py": "import sqlalchemy\n",
        }
    )
    clean = tmp_path / "clean"
    GitRepo(clean, init=False).write(FILES)
    assert {k[1:] for k in keys(findings(root))} == {k[1:] for k in keys(findings(clean))}


def test_redirected_report_in_the_audited_tree_is_not_audited(repo: GitRepo) -> None:
    """``check . --format json > out.json``: out.json is empty while the check runs."""
    for _ in range(2):
        proc = subprocess.run(
            f"{DEPAUDIT} check . -q --format json --fail-on never > out.json",
            shell=True,
            cwd=repo.path,
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stderr
        found = json.loads((repo.path / "out.json").read_text())["findings"]
        assert not [f for f in found if f["file"] == "out.json"]


def test_output_file_in_the_audited_tree_is_not_audited(repo: GitRepo) -> None:
    for _ in range(2):
        proc = depaudit(
            "check",
            str(repo.path),
            "-q",
            "--format",
            "json",
            "-o",
            str(repo.path / "findings.json"),
        )
        assert proc.returncode == 0 and proc.stdout == "", proc.stderr
        written = json.loads((repo.path / "findings.json").read_text())["findings"]
        assert not [f for f in written if f["file"] == "findings.json"]
        assert ("DA101", "optuna") not in leftovers(written)


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_an_earlier_report_left_in_the_tree_is_not_configuration(repo: GitRepo, fmt: str) -> None:
    """A report written by an earlier run (``> report.json``, ``-o scan.sarif.json``) and
    left untracked is an audit's output: its keys are not config facts of both sides."""
    earlier = depaudit("check", str(repo.path), "-q", "--format", fmt, "--fail-on", "never")
    (repo.path / f"earlier-{fmt}.json").write_text(earlier.stdout)
    found = findings(repo.path)
    assert not [f for f in found if str(f["file"]).startswith("earlier-")]
    assert keys(found) == keys(findings(repo.path, "--rev", "HEAD"))


def test_empty_environment_files_are_no_findings(repo: GitRepo) -> None:
    repo.write(
        {
            "serving/settings.json": "",
            "serving/config.yaml": "  \n\n",
            "serving/Dockerfile": "\n",
            "serving/__init__.py": "",
        }
    )
    assert not [f for f in findings(repo.path) if f["status"] == "error"]


# ---------------------------------------------------------------- item 14: submodules


def test_working_tree_does_not_enter_submodules(repo: GitRepo, tmp_path: Path) -> None:
    lib = GitRepo(tmp_path / "featurelib")
    lib.commit(
        "lib",
        {
            "serving/requirements.txt": "wandb==0.16.0\n",
            "training/requirements.txt": "optuna\n",
            "requirements.txt": "dvc\n",
        },
    )
    repo.run("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib.path), "vendor")
    repo.commit("vendor the feature library")
    found = findings(repo.path)
    assert not any(str(f["file"]).startswith("vendor/") for f in found)
    assert keys(found) == keys(findings(repo.path, "--rev", "HEAD"))


# ---------------------------------------------------------------- item 15: bare repositories


def test_bare_repository_is_audited_at_head(repo: GitRepo, tmp_path: Path) -> None:
    repo.commit("serving pulls in a tracker", {"serving/requirements.txt": "wandb==0.16.0\n"})
    bare = tmp_path / "model.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo.path), str(bare)], check=True)
    proc = depaudit("check", str(bare), "-q", "--format", "json", "--fail-on", "medium")
    assert proc.returncode == 1, proc.stderr  # the wandb leftover is medium
    head = repo.run("rev-parse", "HEAD")
    assert proc.stderr.splitlines() == [
        f"depaudit: {bare} is a bare repository: auditing HEAD ({head[:12]}) from git objects"
    ]
    found = json.loads(proc.stdout)["findings"]
    assert keys(found) == keys(findings(repo.path, "--rev", "HEAD"))
    assert {f["commit"] for f in found} == {head}


def test_empty_bare_repository_is_one_line_exit_2(tmp_path: Path) -> None:
    bare = tmp_path / "empty.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    proc = depaudit("check", str(bare))
    assert proc.returncode == 2
    assert (
        proc.stderr
        == f"depaudit: error: {bare} is a bare repository with no commits; nothing to audit\n"
    )


# ---------------------------------------------------------------- item 16: no git


@pytest.mark.parametrize(
    "args",
    [
        ["check", "{repo}", "--rev", "HEAD"],
        ["check", "{repo}"],
        ["check", "{repo}/serving"],
        ["check", "{plain}", "--baseline", "HEAD"],
        ["check", "{repo}", "--baseline", "HEAD"],
        ["collect", "{repo}", "--db", "{tmp}/store.db"],
    ],
    ids=["rev", "work-tree", "work-tree-folder", "baseline-plain", "baseline", "collect"],
)
def test_missing_git_is_one_line_exit_2(repo: GitRepo, tmp_path: Path, args: list[str]) -> None:
    plain = tmp_path / "plain"
    GitRepo(plain, init=False).write(FILES)
    where = {"repo": str(repo.path), "plain": str(plain), "tmp": str(tmp_path)}
    proc = depaudit(*(a.format(**where) for a in args), env={"PATH": str(tmp_path / "no-bin")})
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[-1:] == ["depaudit: error: git not found on PATH"]
    assert "internal error" not in proc.stderr


def test_plain_directory_needs_no_git(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    GitRepo(plain, init=False).write(FILES)
    proc = depaudit(
        "check", str(plain), "-q", "--format", "csv", env={"PATH": str(tmp_path / "no-bin")}
    )
    assert proc.returncode == 0, proc.stderr
    assert "DA105" in proc.stdout
