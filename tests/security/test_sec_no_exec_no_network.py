"""collect / report / check never import or run the audited repo, and never open a socket.

Every file Python would run on import or install writes a marker; a ``sitecustomize`` on
PYTHONPATH (outside the repo) makes any socket connect or DNS lookup fail loudly.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.gitrepo import GitRepo

DEPAUDIT = str(Path(sys.executable).parent / "depaudit")
MARKER_CODE = "import pathlib\npathlib.Path({marker!r}).write_text('executed')\n"
GUARD = (
    "import socket\n"
    "def _blocked(*a, **k):\n"
    "    raise SystemExit('network access attempted')\n"
    "socket.socket.connect = _blocked\n"
    "socket.create_connection = _blocked\n"
    "socket.getaddrinfo = _blocked\n"
)


def test_collect_report_check_never_execute_or_connect(tmp_path: Path) -> None:
    markers = {n: tmp_path / f"marker-{n}" for n in ("setup", "conftest", "init", "site", "app")}
    repo = GitRepo(tmp_path / "repo")
    repo.commit(
        "service",
        {
            "setup.py": MARKER_CODE.format(marker=str(markers["setup"]))
            + "from setuptools import setup\nsetup(name='svc', install_requires=['wandb'])\n",
            "conftest.py": MARKER_CODE.format(marker=str(markers["conftest"])),
            "sitecustomize.py": MARKER_CODE.format(marker=str(markers["site"])),
            "serving/__init__.py": MARKER_CODE.format(marker=str(markers["init"])),
            "serving/app.py": "from fastapi import FastAPI\nimport wandb\n"
            + MARKER_CODE.format(marker=str(markers["app"]))
            + "app = FastAPI()\n",
            "serving/requirements.txt": "fastapi==0.110.0\nwandb==0.16.0\n",
            "serving/config.yaml": "tracking_uri: https://wandb.example.net/api\n",
            "training/requirements.txt": "wandb==0.16.0\ntorch==2.1.0\n",
            "training/train.py": "import wandb\nwandb.init()\n",
        },
    )
    guard = tmp_path / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(GUARD)
    env = {**os.environ, "PYTHONPATH": str(guard)}
    # the guard itself works: a child that connects is stopped
    probe = subprocess.run(
        [sys.executable, "-c", "import socket; socket.create_connection(('127.0.0.1', 9))"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert "network access attempted" in probe.stderr
    db = tmp_path / "store.db"
    commands = [
        ["collect", str(repo.path), "--db", str(db)],
        ["report", "--db", str(db), "--format", "json"],
        ["report", "--db", str(db), "--format", "sarif", "--all-commits"],
        ["check", str(repo.path), "--rev", "HEAD", "--format", "json", "--fail-on", "never"],
        ["check", str(repo.path), "--format", "table", "--fail-on", "never"],
    ]
    for args in commands:
        # cwd = the audited repo: its sitecustomize/conftest would be importable from there
        proc = subprocess.run(
            [DEPAUDIT, *args], cwd=repo.path, env=env, capture_output=True, text=True, timeout=300
        )
        assert proc.returncode == 0, (args, proc.stderr)
        assert "network access attempted" not in proc.stderr, args
        assert "Traceback" not in proc.stderr, args
        assert [n for n, m in markers.items() if m.exists()] == [], args
    assert "DA101" in proc.stdout or "wandb" in proc.stdout  # it did audit the repo
