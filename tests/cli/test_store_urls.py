"""A store URL of a database depaudit does not support is one line, for every command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from depaudit.store.engine import StoreError, open_engine

DEPAUDIT = str(Path(sys.executable).parent / "depaudit")


@pytest.mark.parametrize(
    "url", ["mysql://x@127.0.0.1/db", "mysql+pymysql://u:secret@db/x", "oracle://u@h/x"]
)
def test_open_engine_names_the_supported_databases(url: str) -> None:
    with pytest.raises(StoreError) as caught:
        open_engine(url)
    message = str(caught.value)
    assert message.endswith("unsupported store URL (sqlite or postgresql)")
    assert "secret" not in message and "No module" not in message


@pytest.mark.parametrize(
    "args",
    [
        ["collect", "."],
        ["report", "--format", "csv"],
        ["history"],
        ["live", "--repo", "r", "--env", "serving", "--pipdeptree-json", "x.json"],
    ],
)
def test_commands_refuse_an_unsupported_store_in_one_line(args: list[str]) -> None:
    proc = subprocess.run(
        [DEPAUDIT, *args, "--db", "mysql://x@127.0.0.1/db"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "unsupported store URL (sqlite or postgresql)" in lines[0]
    assert "MySQLdb" not in lines[0]
