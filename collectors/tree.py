"""Read-only views of a repository tree: the working tree on disk or a commit's git objects.

The snapshot builder only needs the list of paths, a blob id per path (the cache key:
each distinct blob is parsed once) and the bytes of a blob. Sizes are known before the
bytes are read, so huge files are skipped without being loaded.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


class TreeReadError(Exception):
    """A path that exists in the tree but cannot be read as a regular file."""


@dataclass(frozen=True, slots=True)
class TreeEntry:
    path: str  # repo-relative, POSIX
    blob_id: str  # git blob sha, or a content hash for working-tree files
    size: int
    kind: str = "file"  # file | symlink | submodule


class Tree(Protocol):
    def entries(self) -> list[TreeEntry]:
        """Every file in the tree (no directories)."""
        ...

    def read(self, entry: TreeEntry) -> bytes:
        """The bytes of a regular file; raises TreeReadError for symlinks / submodules."""
        ...


_SKIP_DIRS = {
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    "node_modules",
    "__pycache__",
    ".tox",
    ".mypy_cache",
}


class WorkingTree:
    """Files on disk under ``root`` (``depaudit check PATH`` without ``--rev``).

    Symlinks are listed but never followed: a link to ``/etc/passwd`` must not be read.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def entries(self) -> list[TreeEntry]:
        out: list[TreeEntry] = []
        for dirpath, dirnames, filenames in os.walk(self.root, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
            base = Path(dirpath)
            for name in sorted(filenames):
                full = base / name
                rel = full.relative_to(self.root).as_posix()
                try:
                    st = full.lstat()
                except OSError:
                    continue
                if stat.S_ISLNK(st.st_mode):
                    out.append(TreeEntry(rel, "symlink:" + rel, 0, "symlink"))
                elif stat.S_ISREG(st.st_mode):
                    # mtime+size keyed id: cheap, and stable within one run
                    key = f"{rel}:{st.st_size}:{st.st_mtime_ns}"
                    out.append(
                        TreeEntry(
                            rel,
                            hashlib.sha1(key.encode("utf-8", "surrogateescape")).hexdigest(),
                            st.st_size,
                        )
                    )
        return out

    def read(self, entry: TreeEntry) -> bytes:
        if entry.kind != "file":
            raise TreeReadError(f"{entry.kind} not followed")
        full = self.root / entry.path
        st = full.lstat()
        if not stat.S_ISREG(st.st_mode):
            raise TreeReadError("not a regular file")
        with open(full, "rb") as fh:
            return fh.read()
