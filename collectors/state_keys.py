"""What of each environment file can change a finding: the keys of the walk's signature.

DESIGN.md §7: a state is keyed by the content of its facts, and "a code edit that
changes no import or definition is the same state". Most commits of a real ML
repository edit a function body. The history walk builds each commit's signature from
one key per environment file; for most files the key is the blob, but for code (a
Python module, a notebook) it is what the rules read of it:

- the module's imports (name, line, dynamic, optional), judged calls (name, line), app
  objects and parse errors — the reachability, library and call rules;
- its top-level definitions by name and kind, and, for a definition that can be half of
  a copy (DA206 / DA207), also its body and line. A definition can be half of a copy
  when another file defines the same name, or the same normalised body, or when the
  last audited state reported it as a copy (``watch``, by qualified name). Other bodies cannot change a
  finding, so editing them leaves the key — and the state — unchanged.

The one approximation: a function edited into a near-copy (≥ 75 % similar) of a
differently named function of the other side is found when the next state is audited,
not at that commit. Which definitions count depends on every other file, so when a name
or a body starts or stops appearing in two files, the files defining it are re-keyed
(:meth:`StateKeys.stale`).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

from depaudit.collectors.git import GitRepository
from depaudit.collectors.snapshot import BlobCache, parse_entry
from depaudit.collectors.sources import source_for
from depaudit.collectors.sources.notebook import SOURCE as NOTEBOOK
from depaudit.collectors.sources.python_code import SOURCE as PYTHON
from depaudit.collectors.tree import TreeEntry, TreeReadError
from depaudit.model import CodeModule, Definition, Fact

_MOD = 1 << 256
_CODE_SOURCES = frozenset({PYTHON.name, NOTEBOOK.name})


def blob_key(path: str, blob: str, mode: str) -> int:
    """The key of a file that is not code: its blob (any change is a change)."""
    digest = hashlib.blake2b(f"{path}\0{blob}\0{mode}".encode("utf-8", "replace"), digest_size=32)
    return int.from_bytes(digest.digest(), "big")


class _BlobReader:
    """The tiny Tree a parse of one blob needs."""

    def __init__(self, repo: GitRepository) -> None:
        self.repo = repo

    def entries(self) -> list[TreeEntry]:
        return []

    def read(self, entry: TreeEntry) -> bytes:
        if entry.kind != "file":
            raise TreeReadError(f"{entry.kind} not followed")
        return self.repo.read_blob(entry.blob_id)


class StateKeys:
    """Keys of a walk's environment files; code files keyed by their rule-relevant facts."""

    def __init__(self, repo: GitRepository, cache: BlobCache) -> None:
        self._repo = repo
        self._reader = _BlobReader(repo)
        self._cache = cache
        self._defs: dict[str, tuple[Definition, ...]] = {}  # path -> its definitions
        self._name_files: dict[str, set[str]] = defaultdict(set)
        self._body_files: dict[str, set[str]] = defaultdict(set)
        self._watched: set[str] = set()  # qualified names (module.definition)
        self._module_files: dict[str, str] = {}  # module name -> its file
        self._stale: set[str] = set()

    def is_code(self, path: str) -> bool:
        source = source_for(path)
        return source is not None and source.name in _CODE_SOURCES

    def key(self, path: str, blob: str, mode: str) -> int:
        """The key of ``path`` at ``blob`` (registers its definitions)."""
        if mode[:3] != "100" or not self.is_code(path):
            return blob_key(path, blob, mode)
        size = self._repo.blob_sizes([blob])[blob]
        result = parse_entry(self._reader, TreeEntry(path, blob, size), self._cache)
        modules = [f for f in result.facts if isinstance(f, CodeModule)]
        # every other fact (a notebook's %pip packages, a URL or a key in code) counts whole
        others: list[Fact] = [f for f in result.facts if not isinstance(f, CodeModule)]
        self._register(path, tuple(d for m in modules for d in m.definitions))
        for m in modules:
            self._module_files[m.module] = path
        return self._key_of(path, modules, others)

    def forget(self, path: str) -> None:
        """``path`` left the tree: its definitions no longer count."""
        if path in self._defs:
            self._register(path, ())
            del self._defs[path]

    def watch(self, qualnames: set[str]) -> None:
        """``module.definition`` names the last audited state reported as copies."""
        changed = qualnames ^ self._watched
        self._watched = set(qualnames)
        for qualname in changed:
            path = self._module_files.get(qualname.rsplit(".", 1)[0])
            if path is not None and path in self._defs:
                self._stale.add(path)

    def stale(self) -> set[str]:
        """Files whose key may have changed because of other files; cleared on read."""
        out, self._stale = self._stale, set()
        return out

    # ------------------------------------------------------------------ internals

    def _register(self, path: str, defs: tuple[Definition, ...]) -> None:
        old = self._defs.get(path, ())
        if old == defs:
            return
        for index, attr in ((self._name_files, "name"), (self._body_files, "body_hash")):
            before = {getattr(d, attr) for d in old}
            after = {getattr(d, attr) for d in defs}
            for value in before - after:
                self._leave(index, value, path)
            for value in after - before:
                self._join(index, value, path)
        self._defs[path] = defs

    def _join(self, index: dict[str, set[str]], value: str, path: str) -> None:
        files = index[value]
        files.add(path)
        if len(files) == 2:  # now shared: the other file's definition starts to count
            self._stale |= files - {path}

    def _leave(self, index: dict[str, set[str]], value: str, path: str) -> None:
        files = index.get(value)
        if files is None:
            return
        files.discard(path)
        if len(files) == 1:  # no longer shared: the remaining file's body stops counting
            self._stale |= files
        elif not files:
            del index[value]

    def _counts(self, module: str, d: Definition) -> bool:
        return (
            len(self._name_files.get(d.name, ())) > 1
            or len(self._body_files.get(d.body_hash, ())) > 1
            or f"{module}.{d.name}" in self._watched
        )

    def _key_of(self, path: str, modules: list[CodeModule], others: list[Fact]) -> int:
        parts: list[object] = [path]
        for m in modules:
            defs = tuple(
                (d.name, d.kind, d.body_hash, d.line)
                if self._counts(m.module, d)
                else (d.name, d.kind)
                for d in m.definitions
            )
            parts.append(
                (
                    m.module,
                    m.is_package,
                    m.imports,
                    m.calls,
                    m.app_objects,
                    m.pickled,
                    m.scope,
                    defs,
                )
            )
        parts.extend(others)
        digest = hashlib.blake2b(repr(parts).encode("utf-8", "replace"), digest_size=32)
        return int.from_bytes(digest.digest(), "big")
