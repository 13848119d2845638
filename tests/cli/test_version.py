"""``depaudit --version`` prints the installed distribution's version, like other tools."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

DEPAUDIT = str(Path(sys.executable).parent / "depaudit")
ROOT = Path(__file__).resolve().parents[2]


def test_version_is_the_installed_one() -> None:
    done = subprocess.run([DEPAUDIT, "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"depaudit {version('depaudit')}\n"
    # the editable install of this checkout: the version pyproject.toml declares
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"]
    assert done.stdout.split() == ["depaudit", declared]
    assert done.stderr == ""


def test_version_needs_no_command_and_runs_none() -> None:
    # eager: printed even before a command that would fail on its arguments
    done = subprocess.run(
        [DEPAUDIT, "--version", "check", "/nonexistent"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stdout.startswith("depaudit ")
    assert "no such directory" not in done.stderr
