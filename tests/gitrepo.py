"""A git repository built inside a test: fixed identity, fixed dates, plain ``git`` runs.

Tests that feed real histories to the collector, ``check --baseline`` or the dashboard
all need the same few steps (init, write files, commit, read a sha back). Dates are
fixed so shas and timestamps do not depend on the clock: commit number ``n`` is dated
``epoch + n`` seconds unless the caller gives a date. The user's and the system's git
config are not read, and ``GIT_*`` variables inherited from the caller (a hook sets
``GIT_DIR``) are dropped, so the host cannot change what the test builds.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

EPOCH = datetime(2024, 1, 1, tzinfo=UTC)

# content None: delete the file in the commit
Files = Mapping[str, str | bytes | None]


def iso_utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class GitRepo:
    """A work tree at ``path`` (created, and ``git init -b main`` run, unless ``init=False``)."""

    def __init__(
        self,
        path: Path,
        *,
        epoch: datetime = EPOCH,
        author: str = "Ada",
        email: str = "ada@example.com",
        init: bool = True,
    ) -> None:
        self.path = path
        self.epoch = epoch
        self.author = author
        self.email = email
        self.commits = 0  # commits made through commit(); dates the next one
        path.mkdir(parents=True, exist_ok=True)
        if init:
            self.run("init", "-q", "-b", "main")

    @property
    def date(self) -> str:
        """The date every git command gets now: that of the last commit made here."""
        return iso_utc(self.epoch + timedelta(seconds=self.commits))

    def run(self, *args: str, date: str | None = None) -> str:
        """``git ARGS`` in the work tree; its stdout, stripped. Raises on a non-zero exit."""
        when = date or self.date
        env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
        env.update(
            GIT_CONFIG_NOSYSTEM="1",
            GIT_CONFIG_GLOBAL=os.devnull,
            GIT_AUTHOR_NAME=self.author,
            GIT_AUTHOR_EMAIL=self.email,
            GIT_COMMITTER_NAME=self.author,
            GIT_COMMITTER_EMAIL=self.email,
            GIT_AUTHOR_DATE=when,
            GIT_COMMITTER_DATE=when,
        )
        out = subprocess.run(
            ["git", *args], cwd=self.path, env=env, check=True, capture_output=True
        )
        return out.stdout.decode().strip()

    def write(self, files: Files) -> None:
        """Write (str as UTF-8, bytes as they are) or, for None, delete files; stage nothing."""
        for rel, content in files.items():
            target = self.path / rel
            if content is None:
                target.unlink(missing_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content if isinstance(content, bytes) else content.encode())

    def commit(
        self,
        message: str,
        files: Files | None = None,
        *,
        add_all: bool = False,
        date: str | None = None,
    ) -> str:
        """Write ``files``, stage exactly them (everything with ``add_all``), commit; the sha.

        A file given as None is ``git rm``-ed. With nothing to stage the commit is empty.
        """
        self.commits += 1
        for rel, content in (files or {}).items():
            if content is None:
                self.run("rm", "-q", "--", rel)
                continue
            self.write({rel: content})
            self.run("add", "--", rel)
        if add_all:
            self.run("add", "-A")
        self.run("commit", "-q", "--allow-empty", "-m", message, date=date)
        return self.run("rev-parse", "HEAD")
