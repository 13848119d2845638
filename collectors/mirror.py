"""Bare mirrors of remote repositories for the scheduled collector (``repos.toml`` ``url``).

A URL repository is cloned once with ``git clone --mirror`` under the cache directory and
``git fetch``ed on every run, so each run transfers only new objects and the collector
then reads the mirror like any local repository. A clone goes to a temporary directory
and is renamed into place, and each mirror is updated under a file lock, so a killed run
or two concurrent runs never leave a half-written mirror behind.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from depaudit.secrets import strip_url_credentials

DEFAULT_GIT_TIMEOUT = 900.0


class MirrorError(Exception):
    """A mirror that cannot be cloned or fetched; one line, credentials stripped."""


def mirror_dir(cache_dir: Path, name: str, url: str) -> Path:
    """Where the mirror of ``url`` lives: readable name plus a hash of the exact URL."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "repo"
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:12]
    return cache_dir / f"{safe}-{digest}.git"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # released when the file closes, also on kill
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _git(args: list[str], *, url: str, timeout: float) -> None:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}  # never wait for a password in cron
    try:
        done = subprocess.run(
            ["git", *args], capture_output=True, text=True, timeout=timeout, env=env, check=False
        )
    except subprocess.TimeoutExpired:
        raise MirrorError(
            f"{strip_url_credentials(url)}: git {args[0]} timed out after {timeout:g} s"
        ) from None
    except OSError as exc:
        raise MirrorError(f"cannot run git: {exc.strerror or exc}") from None
    if done.returncode != 0:
        raise MirrorError(
            f"{strip_url_credentials(url)}: git {args[0]} failed: "
            + strip_url_credentials(git_failure(done.stderr, done.returncode))[:300]
        )


def git_failure(stderr: str, returncode: int) -> str:
    """What went wrong, from git's stderr: its ``fatal:`` / ``error:`` lines (the cause
    comes first; the advice after them, "Please make sure ... and the repository
    exists.", says nothing on its own), else its last line."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    causes = [ln.split(":", 1)[1].strip() for ln in lines if ln.startswith(("fatal:", "error:"))]
    if causes:
        return "; ".join(dict.fromkeys(causes))
    return lines[-1] if lines else f"exit {returncode}"


def update_mirror(
    url: str, cache_dir: Path, name: str, *, timeout: float = DEFAULT_GIT_TIMEOUT
) -> Path:
    """The up-to-date bare mirror of ``url`` (cloned on first use, fetched afterwards)."""
    target = mirror_dir(cache_dir, name, url)
    with _locked(target.with_name(target.name + ".lock")):
        if (target / "HEAD").is_file():
            _git(
                ["--git-dir", str(target), "fetch", "--prune", "--quiet", "origin"],
                url=url,
                timeout=timeout,
            )
            return target
        if target.exists():  # a directory without HEAD is not a mirror we made
            shutil.rmtree(target)
        tmp = Path(tempfile.mkdtemp(prefix=target.name + ".", suffix=".tmp", dir=cache_dir))
        try:
            _git(["clone", "--mirror", "--quiet", "--", url, str(tmp)], url=url, timeout=timeout)
            tmp.rename(target)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return target


__all__ = ["MirrorError", "mirror_dir", "update_mirror"]
