"""The dashboard is not an open door: local bind, no remote without consent, read-only
store, and URL parameters that cannot point it at another file."""

from __future__ import annotations

import ast
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from depaudit.cli.dashboard import APP_PATH, DEFAULT_HOST, streamlit_command
from tests.gitrepo import GitRepo

ROOT = Path(__file__).resolve().parents[2]
DEPAUDIT = str(Path(sys.executable).parent / "depaudit")
APP = str(ROOT / "dashboard" / "app.py")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("exposure")
    repo = GitRepo(base / "configured_repo")
    repo.commit(
        "service",
        {
            "training/requirements.txt": "torch==2.1.0\noptuna==3.6.1\n",
            "serving/requirements.txt": "torch==2.1.0\noptuna==3.6.1\nfastapi==0.110.0\n",
        },
    )
    db = base / "store.db"
    proc = subprocess.run(
        [DEPAUDIT, "collect", str(repo.path), "--db", str(db)], capture_output=True, text=True
    )
    assert proc.returncode in (0, 1), proc.stderr
    return db


def _run_dashboard_cli(monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[Any, list[list[str]]]:
    """``depaudit dashboard ARGS`` in-process with ``os.execve`` recorded instead of run."""
    from depaudit.cli.app import app

    started: list[list[str]] = []
    monkeypatch.setattr(os, "execve", lambda _exe, argv, _env: started.append(list(argv)))
    result = CliRunner().invoke(app, ["dashboard", *args])
    return result, started


def test_default_bind_is_loopback(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert DEFAULT_HOST == "127.0.0.1"
    command = streamlit_command(APP_PATH, db_url="sqlite:////x.db", host=DEFAULT_HOST, port=1)
    assert command[command.index("--server.address") + 1] == "127.0.0.1"
    result, started = _run_dashboard_cli(monkeypatch, "--db", str(store))
    assert result.exit_code == 0, result.output
    assert len(started) == 1
    argv = started[0]
    assert argv[argv.index("--server.address") + 1] == "127.0.0.1"
    help_text = subprocess.run(
        [DEPAUDIT, "dashboard", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    ).stdout
    assert "127.0.0.1" in help_text and "--allow-remote" in help_text


def test_wildcard_without_allow_remote_is_refused_and_starts_nothing(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    proc = subprocess.run(
        [DEPAUDIT, "dashboard", "--host", "0.0.0.0", "--db", str(store)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "--allow-remote" in lines[0], proc.stderr
    assert proc.stdout == ""
    result, started = _run_dashboard_cli(monkeypatch, "--host", "0.0.0.0", "--db", str(store))
    assert result.exit_code == 2 and started == []
    # with consent it does start, on the asked address
    result, started = _run_dashboard_cli(
        monkeypatch, "--host", "0.0.0.0", "--allow-remote", "--db", str(store)
    )
    assert result.exit_code == 0 and len(started) == 1
    assert started[0][started[0].index("--server.address") + 1] == "0.0.0.0"


def test_dashboard_reader_is_read_only(store: Path) -> None:
    from depaudit.dashboard import queries

    before = store.read_bytes()
    engine = queries.reader(f"sqlite:///{store}").engine
    for statement in (
        "INSERT INTO meta (key, value) VALUES ('evil', '1')",
        "CREATE TABLE evil (x)",
    ):
        with (
            pytest.raises(Exception, match=r"(?i)readonly|read-only|read only"),
            engine.begin() as conn,
        ):
            conn.execute(text(statement))
    con = sqlite3.connect(store)
    assert con.execute("SELECT count(*) FROM meta WHERE key = 'evil'").fetchone() == (0,)
    assert con.execute("SELECT name FROM sqlite_master WHERE name = 'evil'").fetchall() == []
    con.close()
    assert store.read_bytes() == before


@pytest.mark.parametrize("kind", ["etc_passwd", "sqlite_url"])
def test_db_query_parameter_changes_nothing(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    other = tmp_path / "x.db"
    value = "/etc/passwd" if kind == "etc_passwd" else f"sqlite:///{other}"
    opened: list[str] = []
    real_connect = sqlite3.connect

    def spy(database: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(str(database))
        return real_connect(database, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", spy)
    monkeypatch.setattr(sqlite3.dbapi2, "connect", spy)
    monkeypatch.setenv("DEPAUDIT_DASHBOARD_DB", f"sqlite:///{store}")
    monkeypatch.delenv("DEPAUDIT_DB", raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    for page in ("overview", "leftovers"):
        at = AppTest.from_file(APP, default_timeout=90)
        at.query_params["db"] = value
        at.run()
        if page != "overview":
            at.switch_page(f"views/{page}.py")
            at.query_params["db"] = value
            at.run()
        assert not at.exception, [e.value for e in at.exception]
        rendered = str(at._tree)
        assert "configured_repo" in rendered, page
        assert "passwd" not in rendered.replace(value, "")
    assert not other.exists()
    assert opened and all(str(store) in o for o in opened), opened
    assert not any("passwd" in o or str(other) in o for o in opened)


FILE_ACCESS = {"open", "read_text", "read_bytes", "write_text", "write_bytes", "connect"}
FILE_ACCESS_ATTRS = FILE_ACCESS | {"StoreReader", "open_engine", "create_engine", "reader"}


def _call_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def test_query_params_never_reach_file_or_store_access() -> None:
    """Every function reading ``st.query_params`` opens no file, no engine, no reader; and
    the store URL comes only from ``queries.store_url`` (argv / environment)."""
    users: dict[str, list[str]] = {}
    for path in sorted((ROOT / "dashboard").rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            src = ast.unparse(func)
            if "query_params" not in src:
                continue
            calls = {_call_name(c) for c in ast.walk(func) if isinstance(c, ast.Call)}
            assert not (calls & FILE_ACCESS_ATTRS), (
                path.name,
                func.name,
                calls & FILE_ACCESS_ATTRS,
            )
            users.setdefault(path.name, []).append(func.name)
        # module-level code (pages are scripts) that touches query_params
        top = [n for n in tree.body if not isinstance(n, ast.FunctionDef | ast.ClassDef)]
        for node in top:
            if "query_params" in ast.unparse(node):
                calls = {_call_name(c) for c in ast.walk(node) if isinstance(c, ast.Call)}
                assert not (calls & FILE_ACCESS), (path.name, calls & FILE_ACCESS)
                users.setdefault(path.name, []).append("<module>")
    assert users, "the dashboard keeps its selection in st.query_params"
    store_url = (ROOT / "dashboard" / "queries.py").read_text("utf-8")
    body = store_url[store_url.index("def store_url") : store_url.index("def _reader")]
    assert "query_params" not in body and "session_state" not in body
    # the dashboard reads no file itself (the rules docs come from the package's catalog)
    readers = []
    for path in sorted((ROOT / "dashboard").rglob("*.py")):
        for call in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(call, ast.Call) and _call_name(call) in FILE_ACCESS - {"connect"}:
                readers.append((path.name, ast.unparse(call)))
    assert readers == [], readers
