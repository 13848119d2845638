"""``depaudit dashboard``: what it refuses, and the server command it runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
