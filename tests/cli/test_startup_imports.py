"""Start-up: the console script imports only what the command it runs needs.

A CI gate runs ``depaudit check`` on every push; on a small repository its time is
nearly all imports. These tests pin what a run imports, so a module-level import of the
store, the dashboard or another command's module shows up here, not in a slower gate.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.gitrepo import GitRepo

# Run the real entry point, then print the modules the run imported.
PROBE = (
    "import json, sys\n"
    "sys.argv = ['depaudit', *sys.argv[1:]]\n"
    "from depaudit.cli import main\n"
    "try:\n"
    "    main()\n"
    "except SystemExit:\n"
    "    pass\n"
    "sys.stderr.write('\\nMODULES ' + json.dumps(sorted(sys.modules)) + '\\n')\n"
)

OTHER_COMMANDS = ("collect", "dashboard", "demo", "live", "report", "split")


def imported(*args: str, cwd: Path) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )
    marker = done.stderr.rindex("MODULES ")
    return set(json.loads(done.stderr[marker + len("MODULES ") :]))


@pytest.fixture
def small_repo(tmp_path: Path) -> Path:
    repo = GitRepo(tmp_path / "svc")
    repo.commit(
        "service",
        {
            "requirements.txt": "scikit-learn==1.4.2\nfastapi==0.110.0\n",
            "train.py": "import sklearn\n",
            "app/serve.py": "from fastapi import FastAPI\napp = FastAPI()\n",
            "Dockerfile": 'FROM python:3.11-slim\nRUN pip install fastapi\nCMD ["uvicorn", "app.serve:app"]\n',
        },
    )
    return repo.path


def test_check_imports_no_other_command_nor_store_nor_dashboard(small_repo: Path) -> None:
    modules = imported("check", ".", "-q", "--format", "csv", "--fail-on", "never", cwd=small_repo)
    assert "depaudit.cli.check" in modules and "depaudit.app.audit" in modules
    assert not {f"depaudit.cli.{name}" for name in OTHER_COMMANDS} & modules
    heavy = {"sqlalchemy", "streamlit", "pandas", "plotly", "rich", "yaml", "depaudit.store"}
    assert not heavy & {name.split(".")[0] for name in modules} | (heavy & modules)


def test_help_still_lists_every_command(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "depaudit"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    for command in ("check", "collect", "dashboard", "demo", "live", "report", "history", "split"):
        assert f" {command} " in done.stdout


def test_an_unknown_command_is_a_usage_error_listing_none_missing(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "depaudit"), "chek", "."],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "No such command" in done.stderr and "chek" in done.stderr
