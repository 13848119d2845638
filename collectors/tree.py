"""Read-only views of a repository tree, and the reader for a directory outside git.

The snapshot builder only needs the list of paths, a blob id per path (the cache key:
each distinct blob is parsed once) and the bytes of a blob. Sizes are known before the
bytes are read, so huge files are skipped without being loaded. The trees read from git
(a commit, or a work tree as git sees it) are in :mod:`depaudit.collectors.git`; this module holds
what every tree shares and :class:`WorkingTree`, the reader for a plain directory.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from depaudit.collectors.sources.base import MAX_FILE_BYTES


class TreeReadError(Exception):
    """A path that exists in the tree but cannot be read as a regular file."""


@dataclass(frozen=True, slots=True)
class TreeEntry:
    path: str  # repo-relative, POSIX, valid UTF-8 (see decode_name)
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


@runtime_checkable
class IndexedTree(Tree, Protocol):
    """A tree that can look its entries up by path without listing them all."""

    def entry_map(self) -> Mapping[str, TreeEntry]:
        """Path -> entry; iterating it gives every path (in no particular order)."""
        ...


def entry_map(tree: Tree) -> Mapping[str, TreeEntry]:
    """Path -> entry of ``tree``: a commit of a long history answers lookups without
    building an entry for each of its files at each state (the snapshot reads a few
    hundred of twenty thousand)."""
    if isinstance(tree, IndexedTree):
        return tree.entry_map()
    return {e.path: e for e in tree.entries()}


def decode_name(raw: bytes) -> str:
    """A file name as every reader shows it: UTF-8, an invalid byte as U+FFFD.

    Names are bytes in git and on disk. A name that is not UTF-8 cannot be printed,
    stored or exported as it is, so each reader decodes it this one way (the history
    walk, ``--rev`` and the work tree agree on a file's name) and keeps the raw bytes
    to read the file.
    """
    return raw.decode("utf-8", "replace")


def read_regular_file(path: bytes | str, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file, never following a symlink, at most ``limit + 1``.

    The entry was listed as a regular file, but the disk can change before it is read:
    ``O_NOFOLLOW`` refuses a symlink put in its place, ``O_NONBLOCK`` keeps a FIFO from
    blocking the audit, and a file that grew past the limit is not loaded whole.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if os.path.islink(path):
            raise TreeReadError("symbolic link; not followed") from None
        raise TreeReadError(exc.strerror or str(exc)) from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise TreeReadError("not a regular file")
        return fh.read(limit + 1)


def disk_blob_id(raw_path: bytes, st: os.stat_result) -> str:
    """An id for a file on disk: cheap (no read), and stable within one run."""
    key = b"%s:%d:%d" % (raw_path, st.st_size, st.st_mtime_ns)
    return hashlib.sha1(key).hexdigest()


# Directories that tools create or fill (caches, installed packages, build output): never
# what a repository declares. A virtualenv or conda environment is recognised by what
# it contains, whatever its name (env/, .venv-py311/, ...).
_ARTEFACT_NAMES = frozenset(
    {
        b".git",
        b".hg",
        b".svn",
        b"__pycache__",
        b".mypy_cache",
        b".pytest_cache",
        b".ruff_cache",
        b".hypothesis",
        b".ipynb_checkpoints",
        b".tox",
        b".nox",
        b".eggs",
        b".pyre",
        b".pytype",
        b"node_modules",
        b"site-packages",
        b"dist-packages",
        b"dist",
    }
)
_ARTEFACT_SUFFIXES = (b".egg-info", b".dist-info")
_ENV_MARKERS = (b"pyvenv.cfg", b"conda-meta")
# What setuptools writes under build/ (build/lib/, build/bdist.linux-x86_64/, ...): a
# build/ holding Dockerfiles or CI scripts is the repository's own and is read.
_SETUPTOOLS_BUILD = (b"lib.", b"bdist.", b"temp.", b"scripts-")


def is_artefact_dir(full: bytes, name: bytes) -> bool:
    """True for a directory of local artefacts that no audit should read."""
    if name in _ARTEFACT_NAMES or name.endswith(_ARTEFACT_SUFFIXES):
        return True
    if any(os.path.lexists(os.path.join(full, marker)) for marker in _ENV_MARKERS):
        return True
    if name == b"build":
        try:
            children = os.listdir(full)
        except OSError:
            return False
        return any(c == b"lib" or c.startswith(_SETUPTOOLS_BUILD) for c in children)
    return False


def excluded_paths(root: Path, exclude: Iterable[Path]) -> set[bytes]:
    """``exclude`` (e.g. the ``-o`` report file) as raw paths relative to ``root``."""
    base = root.resolve()
    out: set[bytes] = set()
    for path in exclude:
        try:
            rel = path.resolve().relative_to(base)
        except (OSError, ValueError):
            continue
        out.add(os.fsencode(rel.as_posix()))
    return out


class WorkingTree:
    """Files on disk under ``root``, for a directory that is not in a git work tree.

    Without git there is no ``.gitignore`` to ask, so local artefacts are skipped by
    what they are (:func:`is_artefact_dir`). Symlinks are listed but never followed: a
    link to ``/etc/passwd`` must not be read. ``exclude`` names files to leave out (the
    report being written into the audited directory).
    """

    def __init__(self, root: str | Path, *, exclude: Iterable[Path] = ()) -> None:
        self.root = Path(root)
        self._exclude = excluded_paths(self.root, exclude)
        self._raw: dict[str, bytes] = {}

    def entries(self) -> list[TreeEntry]:
        out: list[TreeEntry] = []
        top = os.fsencode(self.root)
        for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
            dirnames[:] = sorted(
                d for d in dirnames if not is_artefact_dir(os.path.join(dirpath, d), d)
            )
            for name in sorted(filenames):
                full = os.path.join(dirpath, name)
                raw = os.path.relpath(full, top).replace(os.sep.encode(), b"/")
                if raw in self._exclude:
                    continue
                try:
                    st = os.lstat(full)
                except OSError:
                    continue
                rel = decode_name(raw)
                if stat.S_ISLNK(st.st_mode):
                    out.append(TreeEntry(rel, "symlink:" + rel, 0, "symlink"))
                elif stat.S_ISREG(st.st_mode):
                    self._raw[rel] = raw
                    out.append(TreeEntry(rel, disk_blob_id(raw, st), st.st_size))
        return out

    def read(self, entry: TreeEntry) -> bytes:
        if entry.kind != "file":
            raise TreeReadError(f"{entry.kind} not followed")
        raw = self._raw.get(entry.path) or os.fsencode(entry.path)
        return read_regular_file(os.path.join(os.fsencode(self.root), raw))
