"""``depaudit dashboard``: what it refuses, and the server command it runs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from depaudit.cli.dashboard import APP_PATH, is_loopback, streamlit_command

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "depaudit", "dashboard", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_missing_store_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run("--db", f"sqlite:///{tmp_path / 'nope.db'}")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "no depaudit store" in result.stderr
    assert not (tmp_path / "nope.db").exists()


def test_wildcard_host_needs_allow_remote(empty_store: str) -> None:
    for host in ("0.0.0.0", "::", "192.168.1.20"):
        result = run("--db", empty_store, "--host", host)
        assert result.returncode == 2, host
        assert "--allow-remote" in result.stderr


def test_server_command_is_local_headless_and_quiet() -> None:
    command = streamlit_command(APP_PATH, db_url="sqlite:////x.db", host="127.0.0.1", port=8765)
    assert command[:5] == [sys.executable, "-m", "streamlit", "run", str(APP_PATH)]
    flags = dict(zip(command[5:-3:2], command[6:-3:2], strict=True))
    assert flags["--server.address"] == "127.0.0.1"
    assert flags["--server.port"] == "8765"
    assert flags["--server.headless"] == "true"
    assert flags["--browser.gatherUsageStats"] == "false"
    assert command[-3:] == ["--", "--db", "sqlite:////x.db"]


def test_loopback_detection() -> None:
    assert (
        is_loopback("127.0.0.1")
        and is_loopback("localhost")
        and is_loopback("::1")
        and is_loopback("127.0.0.2")
    )
    assert not is_loopback("0.0.0.0") and not is_loopback("::") and not is_loopback("example.com")


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_unsupported_store_url_is_refused_before_starting() -> None:
    line = _one_line_error(run("--db", "mysql://x@127.0.0.1/db"))
    assert "unsupported store URL (sqlite or postgresql)" in line
    assert "MySQLdb" not in line


def test_a_text_file_as_store_is_refused_before_starting(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_text("id,name\n1,not a database\n", "utf-8")
    line = _one_line_error(run("--db", f"sqlite:///{garbage}"))
    assert "file is not a database" in line and str(garbage) in line
    assert "file:" not in line  # the path as given, not the read-only URI
    assert garbage.read_text("utf-8").startswith("id,name")  # never touched


def test_a_database_that_is_not_a_store_is_refused(tmp_path: Path) -> None:
    import sqlite3

    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x INTEGER)")
    line = _one_line_error(run("--db", f"sqlite:///{other}"))
    assert "not a depaudit store" in line


def test_unreachable_postgres_is_refused_before_starting() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    line = _one_line_error(run("--db", f"postgresql+psycopg://depaudit:pw@127.0.0.1:{port}/x"))
    assert "cannot read the store" in line and "pw" not in line


def test_bracketed_ipv6_host_is_refused_in_one_line_when_the_port_is_taken(
    empty_store: str,
) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    with socket.socket(socket.AF_INET6) as taken:
        try:
            taken.bind(("::1", 0))
        except OSError:
            pytest.skip("::1 cannot be bound here")
        taken.listen()
        port = taken.getsockname()[1]
        line = _one_line_error(run("--db", empty_store, "--host", "[::1]", "--port", str(port)))
    assert line == f"depaudit: error: port {port} is already in use on ::1"


def test_unknown_host_name_is_one_line(empty_store: str) -> None:
    line = _one_line_error(
        run("--db", empty_store, "--host", "no-such-host.invalid", "--allow-remote")
    )
    assert "--host no-such-host.invalid: not an address or a known host name" in line


def test_bracketed_ipv6_loopback_serves(empty_store: str) -> None:
    """``--host [::1]`` (as written in a URL) binds ::1 and prints a usable URL."""
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    with socket.socket(socket.AF_INET6) as probe:
        try:
            probe.bind(("::1", 0))
        except OSError:
            pytest.skip("::1 cannot be bound here")
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "depaudit", "dashboard", "--db", empty_store),
            *("--host", "[::1]", "--port", str(port)),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(
                    f"http://[::1]:{port}/_stcore/health", timeout=2
                ) as resp:
                    assert resp.status == 200
                    break
            except OSError:
                pass
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "the dashboard did not answer on [::1]"
            time.sleep(0.3)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            _, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            _, err = proc.communicate()
    assert f"dashboard on http://[::1]:{port}" in err
    assert "Traceback" not in err and "[[" not in err
