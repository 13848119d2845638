"""Helpers shared by the reliability tests: real git repos, the CLI, store dumps."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import settings

from depaudit.store.refs import unpack

ROOT = Path(__file__).resolve().parents[2]
# the profile conftest.py registered and picked from HYPOTHESIS_PROFILE (default ci)
_PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
FUZZ_SETTINGS = settings.get_profile(_PROFILE if _PROFILE in ("ci", "fuzz") else "ci")
DEPAUDIT = str(Path(sys.executable).parent / "depaudit")


class GitRepo:
    """A real git repository built commit by commit, with fixed dates (reproducible shas)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.n = 0
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        date = f"2024-01-01T{self.n // 3600:02d}:{self.n // 60 % 60:02d}:{self.n % 60:02d}Z"
        env = {
            **os.environ,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_AUTHOR_NAME": "Ada",
            "GIT_AUTHOR_EMAIL": "ada@example.com",
            "GIT_COMMITTER_NAME": "Ada",
            "GIT_COMMITTER_EMAIL": "ada@example.com",
            "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_DATE": date,
        }
        out = subprocess.run(
            ["git", *args], cwd=self.path, env=env, check=True, capture_output=True
        )
        return out.stdout.decode().strip()

    def commit(self, message: str, files: dict[str, str | bytes | None] | None = None) -> str:
        for rel, content in (files or {}).items():
            if content is None:
                self.git("rm", "-q", "--", rel)
                continue
            target = self.path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content if isinstance(content, bytes) else content.encode())
            self.git("add", "--", rel)
        self.n += 1
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")


def run_depaudit(
    *args: str, env: dict[str, str] | None = None, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    """The installed ``depaudit`` console script as a user runs it."""
    return subprocess.run(
        [DEPAUDIT, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
    )


def canonical_dump(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table by natural keys (no row ids, no timing columns), sorted."""
    con = sqlite3.connect(db)
    q = con.execute
    # references between rows are ids, which differ between runs: dump what they name
    parts = dict(q("SELECT id, content_hash FROM parts"))
    findings = {
        row[0]: row[1:]
        for row in q(
            "SELECT id, status, kind, item, severity, rule, message, training_env, serving_env,"
            " training, serving, file, line, evidence FROM findings"
        )
    }
    dump = {
        "meta": sorted(q("SELECT key, value FROM meta")),
        "repos": sorted(q("SELECT name, path, branch, head_sha, since, shallow FROM repos")),
        "commits": sorted(
            q(
                "SELECT r.name, c.sha, c.parents, c.author_name, c.author_email, c.committed_at, c.summary,"
                " c.seq, s.content_hash, c.env_signature, c.reachable"
                " FROM commits c JOIN repos r ON r.id = c.repo_id JOIN states s ON s.id = c.state_id"
            )
        ),
        "states": sorted(
            (name, h, origin, errors, [parts[i] for i in unpack(unassigned)], n)
            for name, h, origin, errors, unassigned, n in q(
                "SELECT r.name, s.content_hash, s.config_origin, s.config_errors, s.unassigned, s.finding_count"
                " FROM states s JOIN repos r ON r.id = s.repo_id"
            )
        ),
        "environments": sorted(
            (
                h,
                name,
                role,
                data,
                [parts[i] for i in unpack(files)],
                [parts[i] for i in unpack(facts)],
            )
            for h, name, role, data, files, facts in q(
                "SELECT content_hash, name, role, data, files, facts FROM environments"
            )
        ),
        "parts": sorted(q("SELECT content_hash, data FROM parts")),
        "state_environments": sorted(
            q(
                "SELECT s.content_hash, se.position, e.content_hash FROM state_environments se"
                " JOIN states s ON s.id = se.state_id JOIN environments e ON e.id = se.environment_id"
            )
        ),
        "findings": sorted(
            (h, [findings[i] for i in unpack(ids)])
            for h, ids in q("SELECT content_hash, finding_ids FROM states")
        ),
        "finding_runs": sorted(
            q(
                "SELECT r.name, fr.key, fr.start_seq, fr.start_sha, fr.end_seq, fr.end_sha, fr.resolved_seq,"
                " fr.resolved_sha, fr.reachable FROM finding_runs fr JOIN repos r ON r.id = fr.repo_id"
            ),
            key=repr,
        ),
        "locks": sorted(q("SELECT repo_name FROM locks")),
    }
    con.close()
    return dump


def integrity_ok(db: Path) -> bool:
    con = sqlite3.connect(db)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()


def count_commits(db: Path) -> int:
    """Commits stored so far, read without waiting on a writer (0 while there is no table)."""
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return int(con.execute("SELECT count(*) FROM commits").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:
        return 0
