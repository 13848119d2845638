"""Walk a git history from the object store, never checking anything out.

One ``git log --raw`` pass (DESIGN.md §10: 3× the cost of plain ``git log``, where
``commit.diff(parent)`` per commit is 340×) gives every commit's changed paths with their
new blob ids. The walker keeps the path -> (blob, mode) map of the current commit up to
date from those lines, so a commit's tree costs nothing until a snapshot really needs
it; its blobs are read on demand by :class:`depaudit.collectors.git.GitRepository`, the one git
reader (names, sizes, missing objects: the same rules as ``check --rev``).

An order-independent signature of the environment paths is maintained incrementally
(O(changed paths) per commit), so the caller can tell, without building any tree, that a
commit's environments are the same as an earlier commit's (its parent's, or A -> B -> A).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from depaudit.collectors.git import CommitTree, GitRepository, RepositoryError, git_message
from depaudit.collectors.tree import decode_name
from depaudit.model import CommitInfo

_SIG_MOD = 1 << 256
# %x01 marks a commit header; fields are NUL-separated under -z. %ct is converted to
# ISO 8601 UTC here (exact, and independent of the committer's time zone).
_LOG_FORMAT = "%x01%H%x00%P%x00%an%x00%ae%x00%ct%x00%s"
_HEADER_FIELDS = 5  # after the sha: parents, author name, author email, time, subject


def iso_utc(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _item_hash(path: str, blob: str, mode: str) -> int:
    digest = hashlib.blake2b(f"{path}\0{blob}\0{mode}".encode("utf-8", "replace"), digest_size=32)
    return int.from_bytes(digest.digest(), "big")


@dataclass(slots=True)
class WalkStep:
    """One commit of the walk. ``tree()`` must be called before the walk moves on."""

    info: CommitInfo
    signature: str  # of the environment paths: equal signatures, equal environments
    env_changed: bool  # some changed path is an environment path
    _walk: _Walk

    def tree(self) -> CommitTree:
        if self._walk.current != self.info.sha:
            raise RuntimeError("WalkStep.tree() called after the walk moved on")
        return CommitTree(self._walk.repo, dict(self._walk.paths), self.info.sha, self._walk.env)


class Keys(Protocol):
    """How an environment file counts in the signature (default: its blob)."""

    def key(self, path: str, blob: str, mode: str) -> int: ...

    def forget(self, path: str) -> None: ...

    def stale(self) -> set[str]: ...


class _BlobKeys:
    def key(self, path: str, blob: str, mode: str) -> int:
        return _item_hash(path, blob, mode)

    def forget(self, path: str) -> None:
        return None

    def stale(self) -> set[str]:
        return set()


class _Walk:
    """The mutable state of one walk: the current commit's path map and env signature."""

    def __init__(self, repo: GitRepository, is_env_path: Callable[[str], bool], keys: Keys) -> None:
        self.repo = repo
        self.is_env_path = is_env_path
        self.keys = keys
        self._env_cache: dict[str, bool] = {}
        self.paths: dict[str, tuple[str, str]] = {}
        self.contrib: dict[str, int] = {}  # env path -> its key in the signature
        self.current: str | None = None
        self.sig = 0
        self.sig_count = 0

    def env(self, path: str) -> bool:
        hit = self._env_cache.get(path)
        if hit is None:
            hit = self._env_cache[path] = bool(self.is_env_path(path))
        return hit

    def reset(self, sha: str | None) -> None:
        """Load the full map of ``sha`` (None: the empty tree)."""
        for path in list(self.contrib):
            self.keys.forget(path)
        self.paths = self.repo.ls_tree(sha) if sha else {}
        self.current = sha
        self.sig = 0
        self.sig_count = 0
        self.contrib = {}
        for path, (blob, mode) in self.paths.items():
            if self.env(path):
                self._add(path, blob, mode)

    def _add(self, path: str, blob: str, mode: str) -> None:
        key = self.contrib[path] = self.keys.key(path, blob, mode)
        self.sig = (self.sig + key) % _SIG_MOD
        self.sig_count += 1

    def remove(self, path: str, *, replaced: bool = False) -> bool:
        old = self.paths.pop(path, None)
        if old is None or not self.env(path):
            return False
        self.sig = (self.sig - self.contrib.pop(path)) % _SIG_MOD
        self.sig_count -= 1
        if not replaced:
            self.keys.forget(path)
        return True

    def put(self, path: str, blob: str, mode: str) -> bool:
        before = self.contrib.get(path)
        self.remove(path, replaced=True)
        self.paths[path] = (blob, mode)
        if not self.env(path):
            if before is not None:
                self.keys.forget(path)
            return before is not None
        self._add(path, blob, mode)
        return self.contrib[path] != before

    def rekey_stale(self) -> bool:
        """Re-key the files whose keys other files' changes made stale."""
        changed = False
        for path in self.keys.stale():
            if path not in self.contrib:
                continue
            blob, mode = self.paths[path]
            old = self.contrib[path]
            new = self.contrib[path] = self.keys.key(path, blob, mode)
            if new != old:
                self.sig = (self.sig - old + new) % _SIG_MOD
                changed = True
        return changed

    def signature(self) -> str:
        return f"{self.sig:064x}-{self.sig_count}"


def walk(
    repo: GitRepository,
    head: str,
    *,
    base: str | None = None,
    first_parent: bool = True,
    is_env_path: Callable[[str], bool] | None = None,
    keys: Keys | None = None,
) -> Iterator[WalkStep]:
    """Commits of ``head`` after ``base`` (all of them without), oldest first.

    ``keys`` says how each environment file counts in the signature (default: its
    blob; :class:`depaudit.collectors.state_keys.StateKeys` keys code by its rule-relevant facts).

    The path map of each commit is derived from its first parent's; when the walk
    order breaks that chain (``base`` off the first-parent line, or every commit
    with ``first_parent=False``), the parent's tree is loaded once with ``ls-tree``.
    """
    if is_env_path is None:
        from depaudit.collectors.snapshot import is_environment_path

        is_env_path = is_environment_path
    state = _Walk(repo, is_env_path, keys if keys is not None else _BlobKeys())
    state.reset(base)
    rev = f"{base}..{head}" if base else head
    args = [
        "-c",
        "log.showSignature=false",
        "-c",
        "core.quotePath=false",
        "log",
        "-z",
        "--raw",
        "--no-renames",
        "--no-abbrev",
        "--root",
        "--reverse",
        "--topo-order",
        "--diff-merges=first-parent",
        "--no-color",
        "--no-ext-diff",
        "--encoding=UTF-8",
        f"--format={_LOG_FORMAT}",
    ]
    if first_parent:
        args.append("--first-parent")
    args += [rev, "--"]
    # streamed: the log is never held in memory whole
    proc = repo.stream(args)
    assert proc.stdout is not None and proc.stderr is not None
    try:
        yield from _parse_log(_nul_tokens(proc.stdout), state)
    finally:
        proc.stdout.close()
        proc.kill() if proc.poll() is None else None
        stderr = proc.stderr.read()
        proc.stderr.close()
        code = proc.wait()
    if code not in (0, -9):
        raise RepositoryError(git_message(stderr) or "git log failed")


def _parse_log(tokens: Iterator[bytes], walk: _Walk) -> Iterator[WalkStep]:
    pending: CommitInfo | None = None
    env_changed = False
    token = next(tokens, None)
    while token is not None:
        text = token.lstrip(b"\n")
        if text.startswith(b"\x01"):
            if pending is not None:
                env_changed |= walk.rekey_stale()
                yield WalkStep(pending, walk.signature(), env_changed, walk)
            fields = [next(tokens, b"") for _ in range(_HEADER_FIELDS)]
            pending = _commit_info(text[1:].decode("ascii"), fields)
            parent = pending.parents[0] if pending.parents else None
            if parent != walk.current:
                walk.reset(parent)
                env_changed = True  # a different base: treat as changed
            else:
                env_changed = False
            walk.current = pending.sha
        elif text.startswith(b":"):
            meta = text[1:].decode("ascii").split()
            path = decode_name(next(tokens, b""))
            status = meta[4][:1]
            if status == "D":
                env_changed |= walk.remove(path)
            else:
                env_changed |= walk.put(path, meta[3], meta[1])
        token = next(tokens, None)
    if pending is not None:
        env_changed |= walk.rekey_stale()
        yield WalkStep(pending, walk.signature(), env_changed, walk)


def _commit_info(sha: str, fields: list[bytes]) -> CommitInfo:
    parents, name, email, ctime, subject = (f.decode("utf-8", "replace") for f in fields)
    try:
        committed_at = iso_utc(int(ctime))
    except ValueError:
        committed_at = ""
    return CommitInfo(sha, tuple(parents.split()), name, email, committed_at, subject)


def _nul_tokens(stream: Any, chunk_size: int = 1 << 16) -> Iterator[bytes]:
    """NUL-separated tokens of a byte stream, read in chunks (constant memory)."""
    tail = b""
    while True:
        chunk = stream.read(chunk_size)
        if not chunk:
            break
        parts = (tail + chunk).split(b"\0")
        tail = parts.pop()
        yield from parts
    if tail:
        yield tail
