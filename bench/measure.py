"""Measure child processes the way every collect benchmark reports them.

Each child is timed in wall seconds and in CPU seconds (user + system, from ``os.wait4``,
which on Linux includes the grandchildren the child waited for: the collector's own
``git log`` and ``git cat-file`` are part of its cost). The machines are shared, so CPU
time is the steadier number and ratios are computed on it; wall time is printed too.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

DEPAUDIT = str(Path(sys.executable).parent / "depaudit")


@dataclass(frozen=True, slots=True)
class Run:
    """What one child process did."""

    wall: float
    cpu: float  # user + system, the child and the children it waited for
    max_rss_mb: float  # the largest of the child and its waited-for children
    returncode: int
    stdout: str
    stderr: str

    def last_line(self) -> str:
        lines = [line for line in self.stderr.strip().splitlines() if line.strip()]
        return lines[-1][:300] if lines else ""


def run(cmd: Sequence[str], *, cwd: Path | None = None, keep_stdout: bool = True) -> Run:
    """Run ``cmd`` to completion; output goes through files (reports and logs can be large)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(cmd), cwd=cwd, stdout=out if keep_stdout else subprocess.DEVNULL, stderr=err
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(
            wall=wall,
            cpu=usage.ru_utime + usage.ru_stime,
            max_rss_mb=usage.ru_maxrss / 1024,  # Linux reports KiB
            returncode=proc.returncode,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
        )


def git_log_floor(repo: Path, *, rev: str = "HEAD", repeat: int = 3) -> Run:
    """``git log --raw --no-renames --first-parent`` over ``rev``: the least a history
    walk can cost. Best of ``repeat`` by CPU (it is short, so one sample is noisy)."""
    cmd = ["git", "-C", str(repo), "log", "--raw", "--no-renames", "--first-parent", rev]
    runs = [run(cmd, keep_stdout=False) for _ in range(max(1, repeat))]
    return min(runs, key=lambda r: r.cpu)


def collect(repo: Path, db: Path, *extra: str) -> Run:
    """``depaudit collect REPO --db DB`` as a user runs it (a subprocess)."""
    return run([DEPAUDIT, "collect", str(repo), "--db", str(db), *extra], keep_stdout=False)


def fresh_store(db: Path) -> None:
    """Remove a SQLite store and its WAL files."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def store_mb(db: Path) -> float:
    """Size of a SQLite store after folding its write-ahead log into the main file."""
    if not db.exists():
        return 0.0
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*")) / 1e6


def commit_count(repo: Path, rev: str = "HEAD") -> int:
    out = subprocess.run(
        ["git", "-C", str(repo), "rev-list", "--first-parent", "--count", rev],
        capture_output=True,
        text=True,
        check=False,
    )
    return int(out.stdout.strip() or 0) if out.returncode == 0 else 0


def load_note() -> str:
    """One line on what else the machine is doing (the numbers depend on it)."""
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return f"{os.cpu_count()} CPUs"
    return f"{os.cpu_count()} CPUs, load average {one:.1f} (1 min) {five:.1f} (5 min)"
