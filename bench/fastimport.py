"""Write a generated history into a git repository with ``git fast-import``, cached by parameters.

A benchmark describes its history as a sequence of :class:`Commit` (paths written, deleted and
renamed); :func:`cached_repository` streams them into ``git fast-import`` once and reuses the
result on later runs. The cache key is the benchmark's parameters (and its generator version),
so changing either builds a new repository instead of measuring a stale one. A repository is
built in a temporary directory and renamed into place only when complete: a run killed
half-way leaves nothing that looks reusable.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
# Written last (inside .git/, out of the work tree `depaudit check` reads): its presence
# means the repository is whole.
_COMPLETE = "bench-params.json"


@dataclass(slots=True)
class Commit:
    """One commit: files written (path -> content), deleted and renamed (old -> new)."""

    message: str
    writes: dict[str, bytes] = field(default_factory=dict)
    deletes: list[str] = field(default_factory=list)
    renames: list[tuple[str, str]] = field(default_factory=list)
    kind: str = ""  # what the generator did (for reports; not written to git)


def _data(raw: bytes) -> bytes:
    return b"data %d\n%s\n" % (len(raw), raw)


def stream(
    commits: Iterable[Commit], *, branch: str = "main", start: int = 1_700_000_000
) -> Iterable[bytes]:
    """The fast-import commands of ``commits``, one chunk per commit (one hour apart)."""
    for n, commit in enumerate(commits):
        parts = [
            f"commit refs/heads/{branch}\n".encode(),
            b"mark :%d\n" % (n + 1),
            b"author Bench <bench@example.com> %d +0000\n" % (start + n * 3600),
            b"committer Bench <bench@example.com> %d +0000\n" % (start + n * 3600),
            _data(commit.message.encode()),
        ]
        if n:
            parts.append(b"from :%d\n" % n)
        for old, new in commit.renames:
            parts.append(f'R "{old}" "{new}"\n'.encode())
        for path in commit.deletes:
            parts.append(f'D "{path}"\n'.encode())
        for path, content in commit.writes.items():
            parts.append(f'M 100644 inline "{path}"\n'.encode())
            parts.append(_data(content))
        parts.append(b"\n")
        yield b"".join(parts)


def import_history(path: Path, commits: Iterable[Commit], *, checkout: bool = True) -> None:
    """Create a git repository at ``path`` holding ``commits`` on ``main``."""
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    proc = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=path, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    try:
        for chunk in stream(commits):
            proc.stdin.write(chunk)
    finally:
        proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError(f"git fast-import failed in {path}")
    if checkout:
        subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=path, check=True)


def cache_key(params: Mapping[str, object]) -> str:
    text = json.dumps(params, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def cached_repository(
    prefix: str,
    params: Mapping[str, object],
    build: Callable[[Path], None],
    *,
    out: Path = OUT,
) -> tuple[Path, bool]:
    """The repository for ``params`` under ``out`` (built by ``build`` on first use).

    Returns the path and whether it was reused. ``params`` must hold everything the
    generator's output depends on, including a generator version bumped on each change.
    """
    path = out / f"{prefix}-{cache_key(params)}"
    if (path / ".git" / _COMPLETE).exists():
        return path, True
    tmp = path.with_name(path.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(path, ignore_errors=True)
    build(tmp)
    (tmp / ".git" / _COMPLETE).write_text(json.dumps(params, sort_keys=True, indent=2) + "\n")
    tmp.rename(path)
    return path, False
