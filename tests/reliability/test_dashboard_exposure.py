"""The dashboard's exposure: loopback by default, another interface only when asked for,
a read-only store, and no page that takes a file path or store URL from the URL or a widget.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path
from typing import Any

import pytest
from reliability_helpers import ROOT, GitRepo, run_depaudit
from typer.testing import CliRunner

DASHBOARD = ROOT / "dashboard"
FILE_ACCESS = {
    "open",
    "Path",
    "read_text",
    "read_bytes",
    "connect",
    "create_engine",
    "open_engine",
    "StoreReader",
}
USER_INPUT = (
    "query_params",
    "session_state",
    "text_input",
    "text_area",
    "selectbox",
    "multiselect",
    "file_uploader",
    "radio",
    "number_input",
    "chat_input",
)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("exposure")
    repo = GitRepo(base / "shop")
    repo.commit(
        "layout",
        {
            "training/requirements.txt": "torch==2.1.0\nwandb==0.16.0\n",
            "serving/requirements.txt": "wandb==0.16.0\n",
        },
    )
    db = base / "store.db"
    proc = run_depaudit("collect", str(repo.path), "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    return db


def run_dashboard_cli(monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[Any, list[list[str]]]:
    """``depaudit dashboard ...`` in process, with the exec of streamlit captured, not run."""
    from depaudit.cli import app

    calls: list[list[str]] = []

    def fake_execve(path: str, argv: list[str], env: dict[str, str]) -> None:
        calls.append(list(argv))
        raise SystemExit(0)

    monkeypatch.setattr(os, "execve", fake_execve)
    result = CliRunner().invoke(app, ["dashboard", *args])
    return result, calls


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_binds_loopback_headless_without_telemetry_by_default(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, calls = run_dashboard_cli(monkeypatch, "--db", str(store))
    assert result.exit_code == 0, result.output
    (argv,) = calls
    assert option(argv, "--server.address") == "127.0.0.1"
    assert option(argv, "--server.headless") == "true"
    assert option(argv, "--browser.gatherUsageStats") == "false"


@pytest.mark.parametrize(
    "host", ["0.0.0.0", "::", "192.168.1.20", "10.0.0.5", "dashboard.internal"]
)
def test_other_interfaces_are_refused_without_allow_remote(
    store: Path, monkeypatch: pytest.MonkeyPatch, host: str
) -> None:
    result, calls = run_dashboard_cli(monkeypatch, "--db", str(store), "--host", host)
    assert result.exit_code == 2
    assert calls == []
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "--allow-remote" in lines[0], result.output


def test_allow_remote_binds_what_was_asked_with_a_warning(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, calls = run_dashboard_cli(
        monkeypatch, "--db", str(store), "--host", "0.0.0.0", "--allow-remote"
    )
    assert result.exit_code == 0
    assert option(calls[0], "--server.address") == "0.0.0.0"
    assert "no login" in result.output
    result, calls = run_dashboard_cli(monkeypatch, "--db", str(store), "--host", "::1")
    assert result.exit_code == 0 and option(calls[0], "--server.address") == "::1"


def test_the_dashboards_store_is_read_only(store: Path) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from depaudit.dashboard import queries

    before = store.read_bytes()
    engine = queries.reader(f"sqlite:///{store}").engine
    with pytest.raises(OperationalError, match="readonly"), engine.begin() as conn:
        conn.execute(text("DELETE FROM findings"))
    with pytest.raises(OperationalError, match="readonly"), engine.begin() as conn:
        conn.execute(text("CREATE TABLE planted (x)"))
    assert store.read_bytes() == before


def _functions_with_file_access(tree: ast.Module) -> list[tuple[str, ast.AST]]:
    out: list[tuple[str, ast.AST]] = []
    scopes: list[ast.AST] = [tree, *[n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]]
    for scope in scopes:
        body = scope.body if isinstance(scope, ast.Module | ast.FunctionDef) else []
        for stmt in body:
            if isinstance(stmt, ast.FunctionDef) and scope is tree:
                continue  # functions are their own scope
            for node in ast.walk(stmt):
                if isinstance(node, ast.Call):
                    func = node.func
                    name = (
                        func.id
                        if isinstance(func, ast.Name)
                        else func.attr
                        if isinstance(func, ast.Attribute)
                        else ""
                    )
                    if name in FILE_ACCESS:
                        out.append((name, scope))
    return out


def test_no_page_reads_a_path_or_store_from_the_url_or_a_widget() -> None:
    files = sorted(DASHBOARD.rglob("*.py"))
    assert len(files) >= 8
    found = 0
    for path in files:
        source = path.read_text("utf-8")
        tree = ast.parse(source)
        for name, scope in _functions_with_file_access(tree):
            found += 1
            segment = ast.get_source_segment(source, scope) if scope is not tree else source
            assert segment is not None
            if scope is tree:
                continue  # module level: runs once, before any URL or widget exists
            used = [word for word in USER_INPUT if word in segment]
            assert not used, f"{path.name}: {name}() in a function that reads {used}"
        for node in ast.walk(tree):  # the store URL comes only from the command line / env
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", getattr(node.func, "id", "")) == "store_url"
            ):
                assert not node.args and not node.keywords, (
                    f"{path.name}: store_url() given an argument"
                )
    assert found >= 1


@pytest.mark.parametrize(
    "params",
    [
        {"db": "/etc/passwd"},
        {"db": "sqlite:////tmp/depaudit-planted.db", "store": "/etc/shadow"},
        {
            "url": "sqlite:////tmp/depaudit-planted.db",
            "path": "../../etc/passwd",
            "file": "/etc/passwd",
        },
    ],
)
def test_query_params_naming_files_change_nothing(
    store: Path, monkeypatch: pytest.MonkeyPatch, params: dict[str, str]
) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("DEPAUDIT_DASHBOARD_DB", f"sqlite:///{store}")
    monkeypatch.delenv("DEPAUDIT_DB", raising=False)
    Path("/tmp/depaudit-planted.db").unlink(missing_ok=True)

    def render(query: dict[str, str]) -> str:
        st.cache_data.clear()
        st.cache_resource.clear()
        at = AppTest.from_file(str(DASHBOARD / "app.py"), default_timeout=60)
        for key, value in query.items():
            at.query_params[key] = value
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return "\n".join(str(getattr(n, "proto", "")) for n in at.main)

    plain = render({})
    hostile = render(params)
    assert "shop" in plain
    assert hostile == plain
    assert "root:x:0:0" not in hostile
    assert not Path("/tmp/depaudit-planted.db").exists()
