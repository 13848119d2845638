"""The pre-commit hook (``.pre-commit-hooks.yaml``) and the GitHub Action (``action.yml``).

Both files are read as their tools read them, and the ``depaudit check`` command each one
builds is run on sample repositories: a repository whose worst finding is a medium leftover
(mlflow in serving) and one that also has a high one (the warehouse DSN in serving's
config). The exit codes must follow ``--fail-on``. ``pre-commit try-repo`` runs the hook
the way a user trying it would, when pre-commit is installed.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.gitrepo import GitRepo

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

MEDIUM_REPO = {
    "training/requirements.txt": "scikit-learn==1.3.2\nmlflow==2.11.1\n",
    "training/train.py": "import mlflow\nimport sklearn\n",
    "serving/requirements.txt": "scikit-learn==1.3.2\nfastapi==0.110.0\nmlflow==2.11.1\n",
    "serving/app.py": "import sklearn\nfrom fastapi import FastAPI\n\napp = FastAPI()\n",
}
HIGH_REPO = {
    **MEDIUM_REPO,
    "serving/settings.yaml": (
        "warehouse:\n  dsn: snowflake://etl:warehouse-pw-991177@acme-xy12345"
        ".snowflakecomputing.com/db\n"
    ),
}


def sample(tmp_path: Path, name: str, files: dict[str, str]) -> Path:
    repo = GitRepo(tmp_path / name)
    repo.commit("training and serving", files)
    return repo.path


def clean_env() -> dict[str, str]:
    """The test venv's depaudit first on PATH; no GIT_* from a calling hook."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}"
    return env


# ------------------------------------------------------------------ pre-commit hook


def hook() -> dict[str, Any]:
    (only,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text("utf-8"))
    return dict(only)


def test_hook_manifest_is_a_python_hook_on_the_whole_repository() -> None:
    spec = hook()
    assert spec["id"] == "depaudit"
    assert spec["language"] == "python"  # pre-commit installs this repository with pip
    assert spec["pass_filenames"] is False  # the audit reads the repository, not file names
    assert shlex.split(spec["entry"])[:2] == ["depaudit", "check"]
    assert spec["args"][spec["args"].index("--fail-on") + 1] == "high"


def run_hook(repo: Path, args: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    """What pre-commit runs: ``entry`` + ``args`` in the repository's root, no file names."""
    spec = hook()
    command = [*shlex.split(spec["entry"]), *(spec["args"] if args is None else args)]
    return subprocess.run(
        command, cwd=repo, capture_output=True, text=True, timeout=120, env=clean_env()
    )


def test_hook_command_gates_as_fail_on_says(tmp_path: Path) -> None:
    medium = sample(tmp_path, "medium", MEDIUM_REPO)
    high = sample(tmp_path, "high", HIGH_REPO)
    passed = run_hook(medium)  # the manifest's own args: --fail-on high
    assert passed.returncode == 0, passed.stderr
    assert "mlflow" in passed.stdout  # the report is shown even when the gate passes
    failed = run_hook(high)
    assert failed.returncode == 1, failed.stderr
    assert "DA401" in failed.stdout
    # a user's `args: [--fail-on, medium]` replaces the manifest's
    assert run_hook(medium, ["--fail-on", "medium"]).returncode == 1
    assert run_hook(high, ["--fail-on", "never"]).returncode == 0


def pre_commit() -> str:
    found = shutil.which("pre-commit", path=str(BIN)) or shutil.which("pre-commit")
    if found is None:
        pytest.skip("pre-commit is not installed (pip install pre-commit)")
    return found


@pytest.mark.slow
def test_pre_commit_try_repo_passes_and_fails_as_fail_on_says(tmp_path: Path) -> None:
    tool = pre_commit()
    env = {**clean_env(), "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    results = {}
    for name, files in (("medium", MEDIUM_REPO), ("high", HIGH_REPO)):
        repo = sample(tmp_path, name, files)
        results[name] = subprocess.run(
            [tool, "try-repo", str(ROOT), "depaudit", "--all-files"],
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=600,
            env=env,
        )
    medium, high = results["medium"], results["high"]
    assert medium.returncode == 0, medium.stdout[-3000:] + medium.stderr[-2000:]
    assert re.search(r"depaudit \(training leftovers in serving\)\.+Passed", medium.stdout)
    assert high.returncode == 1, high.stdout[-3000:] + high.stderr[-2000:]
    assert re.search(r"depaudit \(training leftovers in serving\)\.+Failed", high.stdout)
    assert "DA401" in high.stdout
    assert "warehouse-pw-991177" not in high.stdout  # the hook's log masks the password


# ------------------------------------------------------------------ GitHub Action


def action() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text("utf-8"))
    return doc


def expand(text: str, inputs: dict[str, str]) -> str:
    """GitHub's ``${{ inputs.NAME }}`` substitution (the only expression the action uses)."""

    def value(match: re.Match[str]) -> str:
        return inputs[match.group(1)]

    out = re.sub(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}", value, text)
    assert "${{" not in out, out
    return out


def runs_step(step: dict[str, Any], inputs: dict[str, str]) -> bool:
    condition = step.get("if")
    if condition is None:
        return True
    match = re.fullmatch(r"inputs\.([\w-]+) != ''", condition.strip())
    assert match, f"unexpected condition {condition!r}"
    return inputs[match.group(1)] != ""


def run_action(repo: Path, **given: str) -> list[subprocess.CompletedProcess[str]]:
    """The action's check steps run by bash as the runner would (the pip install step is
    replaced by this test's environment, which has depaudit on PATH); stops at a failure."""
    spec = action()
    inputs = {name: str(meta.get("default", "")) for name, meta in spec["inputs"].items()}
    unknown = set(given) - set(inputs)
    assert not unknown, unknown
    inputs.update(given)
    steps = spec["runs"]["steps"]
    assert "pip" in steps[0]["run"] and "$GITHUB_ACTION_PATH" in steps[0]["run"]
    done = []
    for step in steps[1:]:
        if not runs_step(step, inputs):
            continue
        assert step["shell"] == "bash"
        env = {**clean_env(), **{k: expand(v, inputs) for k, v in step.get("env", {}).items()}}
        result = subprocess.run(
            ["bash", "-e", "-c", expand(step["run"], inputs)],
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        done.append(result)
        if result.returncode != 0:
            break
    return done


def test_action_declares_the_inputs_and_installs_the_light_core() -> None:
    spec = action()
    assert spec["runs"]["using"] == "composite"
    assert set(spec["inputs"]) == {"path", "fail-on", "baseline", "format", "sarif-file"}
    install = spec["runs"]["steps"][0]["run"]
    # the action's own checkout, without the [dashboard] extra
    assert re.search(r'pip"? install .*"\$GITHUB_ACTION_PATH"\s*$', install, re.M)
    assert "[dashboard]" not in install
    # inputs are never pasted into a script (a branch name is attacker-controlled)
    for step in spec["runs"]["steps"]:
        assert "${{" not in step["run"]


def test_action_gates_as_fail_on_says(tmp_path: Path) -> None:
    medium = sample(tmp_path, "medium", MEDIUM_REPO)
    high = sample(tmp_path, "high", HIGH_REPO)
    assert [r.returncode for r in run_action(medium)] == [0]  # default --fail-on high
    (failed,) = run_action(high)
    assert failed.returncode == 1 and "DA401" in failed.stdout
    assert [r.returncode for r in run_action(medium, **{"fail-on": "medium"})] == [1]
    (as_json,) = run_action(medium, format="json", path=str(medium))
    assert as_json.returncode == 0
    assert {f["rule"] for f in json.loads(as_json.stdout)["findings"]} >= {"DA101"}


def test_action_writes_sarif_and_gates_on_new_findings_only(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "fraud")
    repo.commit("main: mlflow already in serving", MEDIUM_REPO)
    repo.commit("a PR adds the warehouse DSN to serving", HIGH_REPO)
    sarif = tmp_path / "out" / "depaudit.sarif"
    sarif.parent.mkdir()
    sarif_step, gate = run_action(
        repo.path,
        **{"fail-on": "medium", "baseline": "HEAD~1", "sarif-file": str(sarif)},
    )
    assert sarif_step.returncode == 0, sarif_step.stderr
    # every finding is in the SARIF file, the known ones too
    results = json.loads(sarif.read_text("utf-8"))["runs"][0]["results"]
    assert {r["ruleId"] for r in results} >= {"DA101", "DA401"}
    # the gate counts only what the PR added: the high DSN leftover fails it
    assert gate.returncode == 1, gate.stderr
    assert re.search(
        r"^baseline revision HEAD~1 \(\w+\): 1 of \d+ findings are new$", gate.stderr, re.M
    )
    # without the new finding, the known medium one does not fail the gate
    (clean,) = run_action(repo.path, **{"fail-on": "medium", "baseline": "HEAD"})
    assert clean.returncode == 0, clean.stderr


def test_action_bad_input_is_one_line(tmp_path: Path) -> None:
    repo = sample(tmp_path, "medium", MEDIUM_REPO)
    (bad,) = run_action(repo, **{"fail-on": "critical"})
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "depaudit: error: --fail-on must be one of high, medium, low, never (got 'critical')"
    ]
