"""Walk a git history from the object store, never checking anything out.

One ``git log --raw`` pass (DESIGN.md §10: 3× the cost of plain ``git log``, where
``commit.diff(parent)`` per commit is 340×) gives every commit's changed paths with their
new blob ids. The walker keeps the path -> (blob, mode) map of the current commit up to
date from those lines, so a commit's tree costs nothing until a snapshot really needs
it, and blobs are read on demand through GitPython's persistent ``git cat-file``.

An order-independent signature of the environment paths is maintained incrementally
(O(changed paths) per commit), so the caller can tell, without building any tree, that a
commit's environments are the same as an earlier commit's (its parent's, or A -> B -> A).
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from collectors.sources.base import MAX_FILE_BYTES
from collectors.tree import TreeEntry, TreeReadError
from depaudit.model import CommitInfo

NULL_SHA = "0" * 40
MODE_SUBMODULE = "160000"
MODE_SYMLINK = "120000"
_SIG_MOD = 1 << 256
# %x01 marks a commit header; fields are NUL-separated under -z. %ct is converted to
# ISO 8601 UTC here (exact, and independent of the committer's time zone).
_LOG_FORMAT = "%x01%H%x00%P%x00%an%x00%ae%x00%ct%x00%s"
_HEADER_FIELDS = 5  # after the sha: parents, author name, author email, time, subject
_BULK_SIZE_QUERY = 64  # above this many unknown sizes, one `cat-file --batch-check` run


class GitHistoryError(Exception):
    """A repository or revision that cannot be walked; the message is one line for the user."""


def iso_utc(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _item_hash(path: str, blob: str, mode: str) -> int:
    digest = hashlib.blake2b(f"{path}\0{blob}\0{mode}".encode("utf-8", "replace"), digest_size=32)
    return int.from_bytes(digest.digest(), "big")


class GitCommitTree:
    """A :class:`collectors.tree.Tree` over one commit's path map (a private copy)."""

    def __init__(
        self,
        repo: GitRepository,
        paths: dict[str, tuple[str, str]],
        sha: str,
        sized: Callable[[str], bool] | None = None,
    ) -> None:
        self._repo = repo
        self._paths = paths
        self.sha = sha
        # Sizes are looked up only for paths a source reads (``sized``): a docs or data
        # file that changes in every commit would otherwise cost an object lookup each
        # time. Other entries report size 0; ``read`` checks the real size regardless.
        self._sized = sized

    def entries(self) -> list[TreeEntry]:
        sized = self._sized
        files = [
            blob
            for path, (blob, mode) in self._paths.items()
            if mode[:3] == "100" and (sized is None or sized(path))
        ]
        sizes = self._repo.blob_sizes(files)
        out: list[TreeEntry] = []
        for path in sorted(self._paths):
            blob, mode = self._paths[path]
            if mode == MODE_SUBMODULE:
                out.append(TreeEntry(path, blob, 0, "submodule"))
            elif mode == MODE_SYMLINK:
                out.append(TreeEntry(path, blob, 0, "symlink"))
            else:
                out.append(TreeEntry(path, blob, sizes.get(blob, 0)))
        return out

    def read(self, entry: TreeEntry) -> bytes:
        if entry.kind != "file":
            raise TreeReadError(f"{entry.kind} not followed")
        return self._repo.read_blob(entry.blob_id)


@dataclass(slots=True)
class WalkStep:
    """One commit of the walk. ``tree()`` must be called before the walk moves on."""

    info: CommitInfo
    signature: str  # of the environment paths: equal signatures, equal environments
    env_changed: bool  # some changed path is an environment path
    _walk: _Walk

    def tree(self) -> GitCommitTree:
        if self._walk.current != self.info.sha:
            raise RuntimeError("WalkStep.tree() called after the walk moved on")
        return GitCommitTree(self._walk.repo, dict(self._walk.paths), self.info.sha, self._walk.env)


class _Walk:
    """The mutable state of one walk: the current commit's path map and env signature."""

    def __init__(self, repo: GitRepository, is_env_path: Callable[[str], bool]) -> None:
        self.repo = repo
        self.is_env_path = is_env_path
        self._env_cache: dict[str, bool] = {}
        self.paths: dict[str, tuple[str, str]] = {}
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
        self.paths = self.repo.ls_tree(sha) if sha else {}
        self.current = sha
        self.sig = 0
        self.sig_count = 0
        for path, (blob, mode) in self.paths.items():
            if self.env(path):
                self.sig = (self.sig + _item_hash(path, blob, mode)) % _SIG_MOD
                self.sig_count += 1

    def remove(self, path: str) -> bool:
        old = self.paths.pop(path, None)
        if old is None or not self.env(path):
            return False
        self.sig = (self.sig - _item_hash(path, old[0], old[1])) % _SIG_MOD
        self.sig_count -= 1
        return True

    def put(self, path: str, blob: str, mode: str) -> bool:
        changed = self.remove(path)
        self.paths[path] = (blob, mode)
        if not self.env(path):
            return changed
        self.sig = (self.sig + _item_hash(path, blob, mode)) % _SIG_MOD
        self.sig_count += 1
        return True

    def signature(self) -> str:
        return f"{self.sig:064x}-{self.sig_count}"


class GitRepository:
    """A git repository opened with GitPython, read only through git objects."""

    def __init__(self, path: str | Path) -> None:
        import git

        self.path = Path(path)
        try:
            self.repo = git.Repo(self.path)
        except git.NoSuchPathError:
            raise GitHistoryError(f"{path}: no such directory") from None
        except git.InvalidGitRepositoryError:
            raise GitHistoryError(f"{path}: not a git repository") from None
        except git.GitError as exc:
            raise GitHistoryError(f"{path}: cannot open git repository: {exc}") from None
        self._sizes: dict[str, int] = {}

    # ------------------------------------------------------------------ refs
    def _git(self, *args: str) -> str:
        import git

        try:
            return str(self.repo.git.execute(["git", *args], with_extended_output=False)).strip()
        except git.GitCommandError as exc:
            stderr = " ".join(str(exc.stderr).split()).removeprefix("stderr: ").strip("' ")
            raise GitHistoryError(stderr or f"git {args[0]} failed") from None

    @property
    def is_shallow(self) -> bool:
        return self._git("rev-parse", "--is-shallow-repository") == "true"

    def is_empty(self) -> bool:
        return not self._git("for-each-ref", "--count=1", "--format=%(objectname)", "refs/heads")

    def default_branch(self) -> str:
        """The checked-out branch's name, or "HEAD" when detached."""
        try:
            return self._git("symbolic-ref", "--short", "-q", "HEAD") or "HEAD"
        except GitHistoryError:
            return "HEAD"

    def resolve(self, rev: str) -> str:
        """Full commit sha of ``rev``; GitHistoryError with a one-line message if unknown."""
        if rev.startswith("-"):
            raise GitHistoryError(f"unknown revision {rev!r}")
        try:
            return self._git("rev-parse", "--verify", "-q", "--end-of-options", f"{rev}^{{commit}}")
        except GitHistoryError:
            raise GitHistoryError(f"unknown revision {rev!r} in {self.path}") from None

    def has_commit(self, sha: str) -> bool:
        try:
            self._git("cat-file", "-e", f"{sha}^{{commit}}")
        except GitHistoryError:
            return False
        return True

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        try:
            self._git("merge-base", "--is-ancestor", ancestor, descendant)
        except GitHistoryError:
            return False
        return True

    def count_commits(
        self, head: str, *, base: str | None = None, first_parent: bool = True
    ) -> int:
        args = ["rev-list", "--count"] + (["--first-parent"] if first_parent else [])
        return int(self._git(*args, f"{base}..{head}" if base else head) or 0)

    def ancestors(self, rev: str) -> set[str]:
        return set(self._git("rev-list", rev).split())

    # ----------------------------------------------------------------- blobs
    def ls_tree(self, sha: str) -> dict[str, tuple[str, str]]:
        out = self._git_bytes("ls-tree", "-r", "-z", "--full-tree", sha)
        paths: dict[str, tuple[str, str]] = {}
        for record in out.split(b"\0"):
            if not record:
                continue
            meta, _, raw_path = record.partition(b"\t")
            mode, _kind, blob = meta.decode("ascii").split()
            paths[raw_path.decode("utf-8", "replace")] = (blob, mode)
        return paths

    def _git_bytes(self, *args: str) -> bytes:
        proc = subprocess.run(
            ["git", *args], cwd=self.repo.git_dir, capture_output=True, check=False
        )
        if proc.returncode != 0:
            raise GitHistoryError(
                " ".join(proc.stderr.decode("utf-8", "replace").split()) or f"git {args[0]} failed"
            )
        return proc.stdout

    def blob_sizes(self, blobs: list[str]) -> dict[str, int]:
        """Sizes of ``blobs`` from the object headers (contents are not read); cached."""
        unknown = sorted({b for b in blobs if b not in self._sizes})
        if len(unknown) > _BULK_SIZE_QUERY:
            out = self._git_bytes_input(
                ["cat-file", "--batch-check"], "".join(f"{b}\n" for b in unknown)
            )
            for line in out.decode("ascii", "replace").splitlines():
                parts = line.split()
                if len(parts) == 3 and parts[2].isdigit():
                    self._sizes[parts[0]] = int(parts[2])
        else:
            for blob in unknown:
                try:
                    self._sizes[blob] = int(self.repo.odb.info(bytes.fromhex(blob)).size)
                except (
                    ValueError,
                    OSError,
                    Exception,
                ):  # a missing object (shallow / partial clone)
                    self._sizes[blob] = 0
        return {b: self._sizes.get(b, 0) for b in blobs}

    def _git_bytes_input(self, args: list[str], stdin: str) -> bytes:
        proc = subprocess.run(
            ["git", *args],
            cwd=self.repo.git_dir,
            input=stdin.encode("ascii"),
            capture_output=True,
            check=False,
        )
        return proc.stdout

    def read_blob(self, blob: str) -> bytes:
        size = self.blob_sizes([blob])[blob]
        if size > MAX_FILE_BYTES:
            raise TreeReadError(f"blob is {size} bytes, above the limit")
        try:
            data: bytes = self.repo.odb.stream(bytes.fromhex(blob)).read()
        except Exception as exc:  # missing object in a partial clone, corrupt pack
            raise TreeReadError(
                f"cannot read git object {blob[:12]}: {type(exc).__name__}"
            ) from None
        return data

    # ------------------------------------------------------------------ walk
    def walk(
        self,
        head: str,
        *,
        base: str | None = None,
        first_parent: bool = True,
        is_env_path: Callable[[str], bool] | None = None,
    ) -> Iterator[WalkStep]:
        """Commits of ``head`` after ``base`` (all of them without), oldest first.

        The path map of each commit is derived from its first parent's; when the walk
        order breaks that chain (``base`` off the first-parent line, or every commit
        with ``first_parent=False``), the parent's tree is loaded once with ``ls-tree``.
        """
        if is_env_path is None:
            from collectors.snapshot import is_environment_path

            is_env_path = is_environment_path
        walk = _Walk(self, is_env_path)
        walk.reset(base)
        rev = f"{base}..{head}" if base else head
        args = [
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
        # GitPython's command object, streamed: the log is never held in memory whole.
        handle = self.repo.git.execute(
            ["git", "-c", "log.showSignature=false", "-c", "core.quotePath=false", *args],
            as_process=True,
        )
        proc = handle.proc
        assert proc is not None and proc.stdout is not None
        try:
            yield from self._parse_log(_nul_tokens(proc.stdout), walk)
        finally:
            proc.stdout.close()
            proc.kill() if proc.poll() is None else None
            stderr = proc.stderr.read() if proc.stderr else b""
            if proc.stderr:
                proc.stderr.close()
            code = proc.wait()
        if code not in (0, -9):
            raise GitHistoryError(
                " ".join(stderr.decode("utf-8", "replace").split()) or "git log failed"
            )

    def _parse_log(self, tokens: Iterator[bytes], walk: _Walk) -> Iterator[WalkStep]:
        pending: CommitInfo | None = None
        env_changed = False
        token = next(tokens, None)
        while token is not None:
            text = token.lstrip(b"\n")
            if text.startswith(b"\x01"):
                if pending is not None:
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
                path = next(tokens, b"").decode("utf-8", "replace")
                status = meta[4][:1]
                if status == "D":
                    env_changed |= walk.remove(path)
                else:
                    env_changed |= walk.put(path, meta[3], meta[1])
            token = next(tokens, None)
        if pending is not None:
            yield WalkStep(pending, walk.signature(), env_changed, walk)

    def close(self) -> None:
        self.repo.close()


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
