"""One commit's tree read from git objects (``depaudit check --rev``), never a checkout."""

from __future__ import annotations

from pathlib import Path

from collectors.tree import TreeEntry, TreeReadError


class GitRevisionError(Exception):
    """The path is not a git repository, or the revision does not exist."""


class GitRevisionTree:
    """``git ls-tree -r -l`` for the listing (sizes included), the object database for blobs."""

    def __init__(self, repo_path: str | Path, rev: str) -> None:
        import git  # imported lazily: GitPython is slow to import

        try:
            self._repo = git.Repo(str(repo_path))
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise GitRevisionError(f"{repo_path}: not a git repository") from None
        try:
            self.sha = self._repo.git.rev_parse("--verify", "--quiet", f"{rev}^{{commit}}")
        except git.GitCommandError:
            raise GitRevisionError(f"{repo_path}: unknown revision {rev!r}") from None
        self._entries: list[TreeEntry] | None = None

    def entries(self) -> list[TreeEntry]:
        if self._entries is None:
            out = self._repo.git.ls_tree(
                "-r", "-l", "-z", "--full-tree", self.sha, stdout_as_string=False
            )
            entries: list[TreeEntry] = []
            for record in out.split(b"\x00"):
                if not record:
                    continue
                meta, _, raw_path = record.partition(b"\t")
                mode, _type, blob, size = meta.split()
                path = raw_path.decode("utf-8", "surrogateescape")
                kind = {b"160000": "submodule", b"120000": "symlink"}.get(mode, "file")
                entries.append(
                    TreeEntry(path, blob.decode(), int(size) if size.isdigit() else 0, kind)
                )
            self._entries = entries
        return self._entries

    def read(self, entry: TreeEntry) -> bytes:
        if entry.kind != "file":
            raise TreeReadError(f"{entry.kind} not followed")
        stream = self._repo.odb.stream(bytes.fromhex(entry.blob_id))
        data: bytes = stream.read()
        return data
