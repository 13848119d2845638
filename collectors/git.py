"""The one git reader: a repository, its objects, and the trees depaudit audits from it.

Everything depaudit reads through git goes through this module, so the history walk
(:mod:`depaudit.collectors.history`), ``depaudit check --rev``, ``--baseline REV`` and ``check`` of
a work tree follow the same rules:

- **Names** are bytes in git; each is decoded once, by :func:`depaudit.collectors.tree.decode_name`.
- **Sizes** are looked up only for the paths a source reads (``sized``): a data or docs
  file that no source reads is never looked up, let alone read.
- **Missing objects** (a partial or pruned clone) make only the files that need them
  unreadable: :class:`~depaudit.collectors.tree.TreeReadError`, which the snapshot turns into an
  ``error`` finding of that file. Nothing is fetched (collecting never touches the
  network): a partial clone's absent blobs are never asked for, and git may not fetch.
- **Errors** are :class:`RepositoryError`, whose message is one line for the user.

:func:`open_tree` is what ``depaudit check PATH [--rev REV]`` audits: a commit's tree, or,
for a work tree, what git tracks plus the untracked files it does not ignore, read from
disk; a directory outside git is read by :class:`~depaudit.collectors.tree.WorkingTree`.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from depaudit.collectors.sources.base import MAX_FILE_BYTES
from depaudit.collectors.tree import (
    Tree,
    TreeEntry,
    TreeReadError,
    WorkingTree,
    decode_name,
    disk_blob_id,
    excluded_paths,
    is_artefact_dir,
    read_regular_file,
)

MODE_SUBMODULE = "160000"
MODE_SYMLINK = "120000"
_BULK_SIZE_QUERY = 64  # above this many unknown sizes, one `cat-file --batch-check` run
_MAX_MESSAGE = 300


class RepositoryError(Exception):
    """A repository, revision or git installation that cannot be used; one line."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split())[:_MAX_MESSAGE])


class GitNotFoundError(RepositoryError):
    def __init__(self) -> None:
        super().__init__("git not found on PATH")


# Every git process of the reader: no transport at all (a partial clone's lazy fetch would
# reach the network; GIT_NO_LAZY_FETCH says so to git >= 2.44, GIT_ALLOW_PROTOCOL makes
# any older git refuse the fetch) and messages in English, since some are parsed.
_GIT_ENV = {"GIT_NO_LAZY_FETCH": "1", "GIT_ALLOW_PROTOCOL": "none", "LC_ALL": "C"}


def git_env() -> dict[str, str]:
    return {**os.environ, **_GIT_ENV}


def require_git() -> None:
    if shutil.which("git") is None:
        raise GitNotFoundError()


def run_git(
    args: Sequence[str], cwd: str | Path, *, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    """``git ARGS`` in ``cwd``; the completed process, whatever its exit code."""
    try:
        return subprocess.run(
            ["git", *args], cwd=cwd, input=stdin, capture_output=True, env=git_env(), check=False
        )
    except FileNotFoundError as exc:
        if exc.filename == "git":
            raise GitNotFoundError() from None
        raise RepositoryError(f"{cwd}: no such directory") from None
    except OSError as exc:
        raise RepositoryError(f"cannot run git: {exc.strerror or exc}") from None


def git_output(args: Sequence[str], cwd: str | Path) -> bytes:
    """stdout of ``git ARGS``; RepositoryError with git's own first line if it fails."""
    proc = run_git(args, cwd)
    if proc.returncode != 0:
        raise RepositoryError(git_message(proc.stderr) or f"git {args[0]} failed")
    return proc.stdout


def git_message(stderr: bytes) -> str:
    """git's complaint in one line: the first ``fatal:``/``error:`` line, prefix dropped."""
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines()]
    lines = [line for line in lines if line]
    first = next(
        (line.split(": ", 1)[1] for line in lines if line.startswith(("fatal: ", "error: "))),
        lines[0] if lines else "",
    )
    if first.startswith("detected dubious ownership"):
        # git's advice takes several lines; this is it in one
        first += (
            " (owned by another user: `git config --global --add safe.directory DIR` trusts it)"
        )
    return first


class GitRepository:
    """A git repository, read only through git objects (never a checkout).

    GitPython opens it (path validation, its persistent ``git cat-file`` processes for
    blobs and object headers); everything else is a plain ``git`` process.
    """

    def __init__(self, path: str | Path) -> None:
        require_git()
        try:
            import git
        except ImportError as exc:  # GitPython found no usable git executable
            raise RepositoryError(f"cannot use git: {str(exc).splitlines()[0]}") from None

        self.path = Path(path)
        try:
            self.repo = git.Repo(self.path)
        except git.NoSuchPathError:
            raise RepositoryError(f"{path}: no such directory") from None
        except git.InvalidGitRepositoryError:
            raise RepositoryError(f"{path}: not a git repository") from None
        except git.GitError as exc:
            raise RepositoryError(f"{path}: cannot open git repository: {exc}") from None
        self.repo.git.update_environment(**_GIT_ENV)
        self.git_dir = Path(self.repo.git_dir)
        try:  # git itself may refuse it (safe.directory): say so now, in one line
            self._git("rev-parse", "--git-dir")
        except RepositoryError as exc:
            raise RepositoryError(f"{path}: {exc}") from None
        self._sizes: dict[str, int] = {}
        # (path, blob, mode, sized) -> entry, for the commits of one walk (CommitTree.entry_map)
        self.entry_cache: dict[tuple[str, str, str, bool], TreeEntry] = {}
        self._missing: set[str] = set()
        self._local_blobs: set[str] | None = None
        self._local_blobs_known = False

    # ------------------------------------------------------------------ refs
    def _git(self, *args: str) -> str:
        return git_output(args, self.git_dir).decode("utf-8", "replace").strip()

    @property
    def is_bare(self) -> bool:
        return bool(self.repo.bare)

    @property
    def is_shallow(self) -> bool:
        return self._git("rev-parse", "--is-shallow-repository") == "true"

    def is_empty(self) -> bool:
        return not self._git("for-each-ref", "--count=1", "--format=%(objectname)", "refs/heads")

    def default_branch(self) -> str:
        """The checked-out branch's name, or "HEAD" when detached."""
        try:
            return self._git("symbolic-ref", "--short", "-q", "HEAD") or "HEAD"
        except RepositoryError:
            return "HEAD"

    def resolve(self, rev: str) -> str:
        """Full commit sha of ``rev``; RepositoryError with a one-line message if unknown."""
        if rev.startswith("-"):
            raise RepositoryError(f"unknown revision {rev!r}")
        proc = run_git(
            ["rev-parse", "--verify", "-q", "--end-of-options", f"{rev}^{{commit}}"], self.git_dir
        )
        if proc.returncode != 0:
            # -q: an unknown revision is a silent exit 1; anything said is another problem
            raise RepositoryError(
                f"{self.path}: {git_message(proc.stderr)}"
                if proc.stderr.strip()
                else f"unknown revision {rev!r} in {self.path}"
            )
        return proc.stdout.decode("ascii", "replace").strip()

    def has_commit(self, sha: str) -> bool:
        try:
            self._git("cat-file", "-e", f"{sha}^{{commit}}")
        except RepositoryError:
            return False
        return True

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        try:
            self._git("merge-base", "--is-ancestor", ancestor, descendant)
        except RepositoryError:
            return False
        return True

    def count_commits(
        self, head: str, *, base: str | None = None, first_parent: bool = True
    ) -> int:
        args = ["rev-list", "--count"] + (["--first-parent"] if first_parent else [])
        return int(self._git(*args, f"{base}..{head}" if base else head) or 0)

    def ancestors(self, rev: str) -> set[str]:
        return set(self._git("rev-list", rev).split())

    def stream(self, args: Sequence[str]) -> subprocess.Popen[bytes]:
        """``git ARGS`` started with its stdout as a pipe (the walk reads ``git log``)."""
        try:
            return subprocess.Popen(
                ["git", *args],
                cwd=self.git_dir,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=git_env(),
            )
        except FileNotFoundError:
            raise GitNotFoundError() from None

    # ----------------------------------------------------------------- trees
    def ls_tree(self, sha: str) -> dict[str, tuple[str, str]]:
        """Every path of commit ``sha`` -> (object id, mode); no object is read."""
        out = git_output(["ls-tree", "-r", "-z", "--full-tree", sha], self.git_dir)
        paths: dict[str, tuple[str, str]] = {}
        for record in out.split(b"\0"):
            if not record:
                continue
            meta, _, raw_path = record.partition(b"\t")
            mode, _kind, blob = meta.decode("ascii").split()
            paths[decode_name(raw_path)] = (blob, mode)
        return paths

    def tree_at(self, rev: str, sized: Callable[[str], bool] | None = None) -> CommitTree:
        """The tree of commit ``rev``; sizes are looked up for ``sized`` paths only
        (default: the paths a source reads, as in the history walk)."""
        sha = self.resolve(rev)
        if sized is None:
            from depaudit.collectors.snapshot import is_environment_path

            sized = is_environment_path
        return CommitTree(self, self.ls_tree(sha), sha, sized)

    # ----------------------------------------------------------------- blobs
    @property
    def is_partial_clone(self) -> bool:
        """True for a clone made with ``--filter``: some objects live only on a remote."""
        proc = run_git(
            ["config", "--get-regexp", r"^(extensions\.partialclone|remote\..*\.promisor)$"],
            self.git_dir,
        )
        for line in proc.stdout.decode("utf-8", "replace").splitlines():
            key, _, value = line.partition(" ")
            if key == "extensions.partialclone" and value.strip():
                return True
            if key.endswith(".promisor") and value.strip().lower() in ("true", "yes", "on", "1"):
                return True
        return False

    def _blobs_here(self) -> set[str] | None:
        """In a partial clone, the blobs it has (None: any blob may be asked for).

        git fetches an object a partial clone lacks as soon as it is asked for; the
        fetch is refused (no network while collecting), and ``cat-file`` then dies. So
        the blobs that are here are listed once, and the others are never asked for.
        """
        if not self._local_blobs_known:
            self._local_blobs_known = True
            if self.is_partial_clone:
                out = git_output(
                    [
                        "cat-file",
                        "--batch-all-objects",
                        "--unordered",
                        "--batch-check=%(objecttype) %(objectname)",
                    ],
                    self.git_dir,
                )
                self._local_blobs = {
                    line[5:]
                    for line in out.decode("ascii", "replace").splitlines()
                    if line.startswith("blob ")
                }
        return self._local_blobs

    def blob_sizes(self, blobs: list[str]) -> dict[str, int]:
        """Sizes of ``blobs`` from the object headers (contents are not read); cached.

        A missing object gets size 0 and is remembered: reading it raises TreeReadError.
        """
        unknown = sorted({b for b in blobs if b not in self._sizes})
        here = self._blobs_here() if unknown else None
        if here is not None:
            for blob in unknown:
                if blob not in here:
                    self._missing.add(blob)
                    self._sizes[blob] = 0
            unknown = [b for b in unknown if b in here]
        if len(unknown) > _BULK_SIZE_QUERY:
            proc = run_git(
                ["cat-file", "--batch-check"],
                self.git_dir,
                stdin="".join(f"{b}\n" for b in unknown).encode("ascii"),
            )
            for line in proc.stdout.decode("ascii", "replace").splitlines():
                parts = line.split()
                if len(parts) == 3 and parts[2].isdigit():
                    self._sizes[parts[0]] = int(parts[2])
            for blob in unknown:
                if blob not in self._sizes:
                    self._missing.add(blob)
                    self._sizes[blob] = 0
        else:
            for blob in unknown:
                try:
                    self._sizes[blob] = int(self.repo.odb.info(bytes.fromhex(blob)).size)
                except Exception:  # GitPython's ValueError "... missing", a dead cat-file
                    self._missing.add(blob)
                    self._sizes[blob] = 0
        return {b: self._sizes[b] for b in blobs}

    def read_blob(self, blob: str) -> bytes:
        """The bytes of a blob within the size limit, or TreeReadError saying why not."""
        size = self.blob_sizes([blob])[blob]
        if blob in self._missing:
            if self._local_blobs is not None:
                raise TreeReadError(
                    f"git object {blob[:12]} is not in this partial clone "
                    "(depaudit never fetches; clone without --filter to audit it)"
                )
            raise TreeReadError(f"git object {blob[:12]} is missing (pruned or damaged clone)")
        if size > MAX_FILE_BYTES:
            raise TreeReadError(f"blob is {size} bytes, above the limit")
        try:
            data: bytes = self.repo.odb.stream(bytes.fromhex(blob)).read()
        except Exception as exc:  # a corrupt pack, a cat-file process that died
            raise TreeReadError(
                f"cannot read git object {blob[:12]}: {type(exc).__name__}"
            ) from None
        return data

    def close(self) -> None:
        self.repo.close()


class CommitTree:
    """A :class:`depaudit.collectors.tree.Tree` over one commit's path map (a private copy)."""

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
        # time (and in a partial clone it may not be there). Other entries report size
        # 0; ``read`` checks the real size regardless.
        self._sized = sized

    def entries(self) -> list[TreeEntry]:
        sized = self._sized
        files = [
            blob
            for path, (blob, mode) in self._paths.items()
            if mode[:3] == "100" and (sized is None or sized(path))
        ]
        sizes = self._repo.blob_sizes(files)
        return [
            _entry(path, *self._paths[path], sizes.get(self._paths[path][0], 0))
            for path in sorted(self._paths)
        ]

    def entry_map(self) -> Mapping[str, TreeEntry]:
        return _CommitEntries(self._repo, self._paths, self._sized)

    def read(self, entry: TreeEntry) -> bytes:
        if entry.kind != "file":
            raise TreeReadError(f"{entry.kind} not followed")
        return self._repo.read_blob(entry.blob_id)


def _entry(path: str, blob: str, mode: str, size: int) -> TreeEntry:
    if mode == MODE_SUBMODULE:
        return TreeEntry(path, blob, 0, "submodule")
    if mode == MODE_SYMLINK:
        return TreeEntry(path, blob, 0, "symlink")
    return TreeEntry(path, blob, size)


_MAX_ENTRIES = 100_000


class _CommitEntries(Mapping[str, TreeEntry]):
    """A commit's entries built on lookup: the same entries ``CommitTree.entries`` lists
    (a size only for the paths ``sized`` accepts), without a pass over the whole tree."""

    def __init__(
        self,
        repo: GitRepository,
        paths: dict[str, tuple[str, str]],
        sized: Callable[[str], bool] | None,
    ) -> None:
        self._repo = repo
        self._paths = paths
        self._sized = sized
        # shared by the maps of one repository: an unchanged file is the same entry at
        # every commit, built once
        self._built = repo.entry_cache

    def __getitem__(self, path: str) -> TreeEntry:
        blob, mode = self._paths[path]
        wants_size = mode[:3] == "100" and (self._sized is None or self._sized(path))
        key = (path, blob, mode, wants_size)
        entry = self._built.get(key)
        if entry is None:
            size = self._repo.blob_sizes([blob])[blob] if wants_size else 0
            if len(self._built) >= _MAX_ENTRIES:
                self._built.clear()
            entry = self._built[key] = _entry(path, blob, mode, size)
        return entry

    def __contains__(self, path: object) -> bool:
        return path in self._paths

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)


class GitWorkTree:
    """A git work tree as git sees it, read from disk (``depaudit check PATH``).

    The files are those git tracks plus the untracked ones it does not ignore
    (``git ls-files``), under ``root`` (which may be a folder of the work tree). A
    tracked file deleted on disk is skipped; a submodule is listed, never entered; a
    symlink is listed, never followed. Untracked local artefacts (a virtualenv nobody
    ignored) are skipped as in a plain directory; tracked files are always read, as
    ``--rev`` would read them.
    """

    def __init__(self, root: str | Path, *, exclude: Iterable[Path] = ()) -> None:
        self.root = Path(root)
        self._top = os.fsencode(self.root)
        self._exclude = excluded_paths(self.root, exclude)
        self._raw: dict[str, bytes] = {}

    def entries(self) -> list[TreeEntry]:
        tracked = git_output(["ls-files", "-z", "--stage"], self.root)
        others = git_output(["ls-files", "-z", "--others", "--exclude-standard"], self.root)
        listed: dict[bytes, str] = {}  # raw path -> index mode ("" if untracked)
        for record in tracked.split(b"\0"):
            if record:
                meta, _, raw = record.partition(b"\t")
                listed.setdefault(raw, meta.split(b" ", 1)[0].decode("ascii", "replace"))
        artefact_dirs: dict[bytes, bool] = {}
        for raw in others.split(b"\0"):
            # "dir/": an untracked nested repository, which git does not enter either
            if raw and not raw.endswith(b"/") and not self._in_artefact(raw, artefact_dirs):
                listed.setdefault(raw, "")
        out: list[TreeEntry] = []
        for raw in sorted(listed):
            if raw in self._exclude:
                continue
            entry = self._entry(raw, listed[raw])
            if entry is not None:
                out.append(entry)
        return out

    def _entry(self, raw: bytes, mode: str) -> TreeEntry | None:
        rel = decode_name(raw)
        if mode == MODE_SUBMODULE:
            return TreeEntry(rel, "submodule:" + rel, 0, "submodule")
        try:
            st = os.lstat(os.path.join(self._top, raw))
        except OSError:  # tracked, but deleted in the work tree
            return None
        if stat.S_ISLNK(st.st_mode):
            return TreeEntry(rel, "symlink:" + rel, 0, "symlink")
        if not stat.S_ISREG(st.st_mode):
            return None
        self._raw[rel] = raw
        return TreeEntry(rel, disk_blob_id(raw, st), st.st_size)

    def _in_artefact(self, raw: bytes, seen: dict[bytes, bool]) -> bool:
        parts = raw.split(b"/")[:-1]
        for depth in range(1, len(parts) + 1):
            folder = b"/".join(parts[:depth])
            hit = seen.get(folder)
            if hit is None:
                hit = seen[folder] = is_artefact_dir(
                    os.path.join(self._top, folder), parts[depth - 1]
                )
            if hit:
                return True
        return False

    def read(self, entry: TreeEntry) -> bytes:
        if entry.kind != "file":
            raise TreeReadError(f"{entry.kind} not followed")
        raw = self._raw.get(entry.path) or os.fsencode(entry.path)
        return read_regular_file(os.path.join(self._top, raw))


@dataclass(frozen=True, slots=True)
class OpenedTree:
    """What ``depaudit check`` audits, and how it was found."""

    tree: Tree
    commit: str = ""  # full sha when read from git objects, "" for files on disk
    notice: str = ""  # one line for stderr when the choice may surprise, else ""


def open_tree(
    path: str | Path, rev: str | None = None, *, exclude: Iterable[Path] = ()
) -> OpenedTree:
    """The tree ``depaudit check PATH [--rev REV]`` audits; RepositoryError if none.

    - ``rev``: that commit of the repository at ``path``, from git objects.
    - A git work tree (or a folder of one): what git tracks plus the untracked files it
      does not ignore, read from disk (a local virtualenv or build/ that .gitignore
      names is not part of the repository).
    - A bare repository (or a git directory): HEAD's tree, as ``--rev HEAD`` reads it,
      with a notice saying so: it has no files on disk to audit, and HEAD is the
      commit a clone of it would check out.
    - Any other directory: its files (:class:`~depaudit.collectors.tree.WorkingTree`).

    ``exclude`` names files on disk to leave out (the report being written).
    """
    root = Path(path)
    if not root.exists():
        raise RepositoryError(f"{path}: no such directory")
    if not root.is_dir():
        raise RepositoryError(f"{path}: not a directory")
    if rev is not None:
        repo = GitRepository(root)
        tree = repo.tree_at(rev)
        return OpenedTree(tree, tree.sha)
    if not _may_be_in_git(root):
        return OpenedTree(WorkingTree(root, exclude=exclude))
    require_git()
    proc = run_git(
        ["rev-parse", "--is-inside-work-tree", "--absolute-git-dir", "--show-prefix"], root
    )
    if proc.returncode != 0:
        message = git_message(proc.stderr)
        if message.startswith("not a git repository"):  # a .git git itself does not use
            return OpenedTree(WorkingTree(root, exclude=exclude))
        raise RepositoryError(f"{path}: {message or 'git rev-parse failed'}")
    inside_work_tree, git_dir, prefix, *_ = [*os.fsdecode(proc.stdout).split("\n"), "", ""]
    if inside_work_tree == "true":
        if prefix and _is_ignored(root):
            return OpenedTree(
                WorkingTree(root, exclude=exclude),
                notice=f"{path} is ignored by its git repository: reading the directory",
            )
        return OpenedTree(GitWorkTree(root, exclude=exclude))
    repo = GitRepository(git_dir)
    what = "a bare repository" if repo.is_bare else "inside a git directory"
    if repo.is_empty():
        raise RepositoryError(f"{path} is {what} with no commits; nothing to audit")
    tree = repo.tree_at("HEAD")
    return OpenedTree(
        tree, tree.sha, notice=f"{path} is {what}: auditing HEAD ({tree.sha[:12]}) from git objects"
    )


def _may_be_in_git(root: Path) -> bool:
    """True if ``root`` or a parent holds ``.git`` or is a git directory itself.

    Checked without running git, so a plain directory needs no git at all; when this
    is true and git is missing, ``check`` says so instead of misreading a repository.
    """
    for folder in (root.resolve(), *root.resolve().parents):
        if os.path.lexists(folder / ".git"):
            return True
        if (folder / "HEAD").is_file() and (folder / "objects").is_dir():
            return True
    return False


def _is_ignored(root: Path) -> bool:
    """True if git ignores the folder ``root`` of its work tree."""
    proc = run_git(["check-ignore", "-q", "--", "."], root)
    return proc.returncode == 0
