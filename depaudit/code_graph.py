"""The import graph of a repository's Python code, built from ``CodeModule`` facts.

Pure: no I/O, nothing is imported or executed. The graph answers three questions the code
rules ask: which repo module an import statement lands in (:meth:`ImportGraph.resolve`),
which modules a set of entrypoints reaches and through which import chain
(:meth:`ImportGraph.reachable`), and which imports leave the repository for a third-party
package (:meth:`ImportGraph.external_imports`).

Resolution follows what the interpreter does, statically:

* ``import a.b.c`` where ``a/b.py`` defines a function ``c`` lands in ``a.b`` (the longest
  prefix that is a module of the repo), and runs ``a/__init__.py`` on the way (parent
  packages are implicit edges).
* Namespace packages (folders without ``__init__.py``) exist as names, never as modules.
* ``src/`` layouts are handled by the module names themselves (the source strips ``src/``).
* An import that is not absolute in the repo is tried against the importer's own folder
  and its parents: a script run as ``python serving/app.py`` (or with ``serving/`` as the
  Docker ``WORKDIR``) imports its sibling ``utils.py`` as ``import utils``.
* Folders are tried as written, too: module names drop ``src/``, but an app that copies
  ``serving/src`` to ``/app/src`` imports ``src.api.routes`` (``serving/src/api/routes.py``)
  from ``serving/src/app.py``: first-party code, never a distribution. Only the importer's
  own folders count: ``training/utils/wandb.py`` is no reason to think serving's
  ``import wandb`` is the project's own, and a folder without the imported module
  (``wandb/run-1/...``) does not shadow an installed package.
"""

from __future__ import annotations

import posixpath
import sys
from collections import OrderedDict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from depaudit.identity_memo import IdentityMemo
from depaudit.import_names import distributions_for
from depaudit.model import CodeModule, ImportRef

STDLIB_MODULES: frozenset[str] = frozenset(sys.stdlib_module_names) | {"__future__", "__main__"}


@dataclass(frozen=True, slots=True)
class Step:
    """One hop of an import chain: ``module`` was imported at ``line`` of the previous hop."""

    module: str
    file: str
    line: int  # line of the import in the previous step's file; 0 for a start


Chain = tuple[Step, ...]


def format_chain(chain: Chain) -> str:
    """``serving/app.py -> common/io.py:3 -> training/train.py:7`` (line = the import line)."""
    parts: list[str] = []
    for i, step in enumerate(chain):
        if i == 0:
            parts.append(step.file)
        else:
            prev = chain[i - 1].file
            parts.append(
                f"{step.file} (imported at {prev}:{step.line})" if step.line else step.file
            )
    return " -> ".join(parts)


def training_call_key(name: str, calls: Mapping[str, object]) -> str | None:
    """The ``training_calls`` key a call name matches: dotted exactly, else ``.method``."""
    if name in calls:
        return name
    if "." in name:
        method = "." + name.rsplit(".", 1)[1]
        if method in calls:
            return method
    return None


# Answers of graphs with the same module layout, shared between them. A history's states
# (and the pairs of one state) build a graph per pair, but most commits change no module's
# name, file or kind: what an import resolves to is then the same as at the last state,
# and resolving every import of every module again was most of a new state's rule time.
_LAYOUTS: OrderedDict[frozenset[tuple[str, str, bool]], dict[object, object]] = OrderedDict()
_MAX_LAYOUTS = 32


def _answers_for(modules: Mapping[str, CodeModule]) -> dict[object, object]:
    """The memo of every graph whose modules have these names, files and kinds."""
    layout = frozenset((name, mod.file, mod.is_package) for name, mod in modules.items())
    memo = _LAYOUTS.get(layout)
    if memo is None:
        memo = _LAYOUTS[layout] = {}
        if len(_LAYOUTS) > _MAX_LAYOUTS:
            _LAYOUTS.popitem(last=False)
    else:
        _LAYOUTS.move_to_end(layout)
    return memo


class ImportGraph:
    """Modules of a repository and the imports between them.

    Resolution depends only on the modules' names, files and kinds (their layout), so its
    answers are memoised per layout and shared by every graph of that layout.
    """

    def __init__(self, modules: Iterable[CodeModule]) -> None:
        # The first module of a name wins: callers pass serving modules before training
        # ones, so a name both sides define resolves to serving's copy.
        self.modules: dict[str, CodeModule] = {}
        for mod in modules:
            self.modules.setdefault(mod.module, mod)
        # every dotted prefix of a module name is a package (regular or namespace)
        self.packages: set[str] = set()
        for name in self.modules:
            parts = name.split(".")
            for i in range(1, len(parts)):
                self.packages.add(".".join(parts[:i]))
        self.top_levels: frozenset[str] = frozenset(n.split(".", 1)[0] for n in self.modules)
        self._edges: dict[str, list[tuple[str, int]]] = {}
        # repo paths as written (no .py; a package is its folder) -> module: imports are
        # also resolved against the importer's folders as they are in the tree
        self._by_path: dict[str, str] = {}
        self._path_parts: set[str] = set()  # a cheap "cannot be a path" test for numpy & co.
        for name, mod in self.modules.items():
            path = mod.file.removesuffix(".py")
            if mod.is_package:
                path = posixpath.dirname(path)
            self._by_path.setdefault(path, name)
            self._path_parts.update(path.split("/"))
        self._answers = _answers_for(self.modules)

    # ------------------------------------------------------------------ resolution

    def _bases(self, importer: str | None) -> list[str]:
        """Absolute first, then the importer's folder and its parents (script imports)."""
        bases = [""]
        if importer and importer in self.modules:
            parts = importer.split(".")
            if not self.modules[importer].is_package:
                parts = parts[:-1]
            for i in range(len(parts), 0, -1):
                bases.append(".".join(parts[:i]))
        return bases

    def resolve(self, name: str, importer: str | None = None) -> str | None:
        """The repo module an imported dotted ``name`` lands in, or None if it is not ours."""
        key = ("resolve", name, importer)
        if key in self._answers:
            return self._answers[key]  # type: ignore[return-value]
        found = self._answers[key] = self._resolve(name, importer)
        return found

    def _resolve(self, name: str, importer: str | None) -> str | None:
        for base in self._bases(importer):
            full = f"{base}.{name}" if base else name
            parts = full.split(".")
            floor = base.count(".") + 1 if base else 0
            # longest prefix that is a module; it must go past the base folder itself
            for i in range(len(parts), floor, -1):
                candidate = ".".join(parts[:i])
                if candidate in self.modules:
                    return candidate
        return self._resolve_by_path(name, importer)

    def _importer_folders(self, importer: str | None) -> list[str]:
        """The importer's folder and its parents, nearest first, as repo paths ("" = root)."""
        mod = self.modules.get(importer) if importer else None
        if mod is None:
            return []
        folders = []
        folder = posixpath.dirname(mod.file)
        while folder:
            folders.append(folder)
            folder = posixpath.dirname(folder)
        return [*folders, ""]

    def _resolve_by_path(self, name: str, importer: str | None) -> str | None:
        parts = name.split(".")
        if parts[0] not in self._path_parts:
            return None
        for folder in self._importer_folders(importer):
            for i in range(len(parts), 0, -1):
                target = self._by_path.get(posixpath.join(folder, *parts[:i]))
                if target is not None:
                    return target
        return None

    def is_local(self, name: str, importer: str | None = None) -> bool:
        """True if the import names repo code (a module, or a folder of the repo)."""
        key = ("local", name, importer)
        hit = self._answers.get(key)
        if hit is None:
            hit = self._answers[key] = (
                self.resolve(name, importer) is not None or name.split(".", 1)[0] in self.top_levels
            )
        return bool(hit)

    def edges(self, module: str) -> list[tuple[str, int]]:
        """(target module, import line) for every repo module ``module`` imports, parents included."""
        cached = self._edges.get(module)
        if cached is not None:
            return cached
        mod = self.modules.get(module)
        key = ("edges", module, mod.imports if mod is not None else ())
        shared = self._answers.get(key)
        if shared is not None:
            self._edges[module] = shared  # type: ignore[assignment]
            return self._edges[module]
        out: list[tuple[str, int]] = []
        seen: set[str] = {module}
        if mod is not None:
            for ref in mod.imports:
                target = self.resolve(ref.name, module)
                if target is None:
                    continue
                # importing a.b.c runs a/__init__.py and a/b/__init__.py first
                parts = target.split(".")
                for i in range(1, len(parts) + 1):
                    hop = ".".join(parts[:i])
                    if hop not in seen and hop in self.modules:
                        seen.add(hop)
                        out.append((hop, ref.line))
        self._edges[module] = self._answers[key] = out
        return out

    # ---------------------------------------------------------------- reachability

    def reachable(self, from_modules: Iterable[str]) -> dict[str, Chain]:
        """Every module reached from ``from_modules``, with the shortest import chain (BFS)."""
        chains: dict[str, Chain] = {}
        queue: deque[str] = deque()
        for start in sorted(set(from_modules)):
            mod = self.modules.get(start)
            if mod is None or start in chains:
                continue
            chains[start] = (Step(start, mod.file, 0),)
            queue.append(start)
            # running ``python -m a.b`` or ``uvicorn a.b:app`` imports package ``a`` first
            parts = start.split(".")
            for i in range(1, len(parts)):
                parent = ".".join(parts[:i])
                pmod = self.modules.get(parent)
                if pmod is not None and parent not in chains:
                    chains[parent] = (*chains[start], Step(parent, pmod.file, 0))
                    queue.append(parent)
        while queue:
            current = queue.popleft()
            chain = chains[current]
            for target, line in self.edges(current):
                if target in chains:
                    continue
                chains[target] = (*chain, Step(target, self.modules[target].file, line))
                queue.append(target)
        return chains

    # ---------------------------------------------------------------- third party

    def external_imports(
        self, modules: Iterable[CodeModule]
    ) -> dict[str, list[tuple[CodeModule, ImportRef]]]:
        """Top-level import names that are neither repo code nor stdlib, with every site."""
        out: dict[str, list[tuple[CodeModule, ImportRef]]] = {}
        for mod in modules:
            for ref in mod.imports:
                top = ref.name.split(".", 1)[0]
                if not top or top in STDLIB_MODULES or self.is_local(ref.name, mod.module):
                    continue
                out.setdefault(top, []).append((mod, ref))
        return out


# overrides table -> import name -> distributions: each import of each module is looked up
# at every state of a history, with the same few tables (the knowledge base's)
_CANDIDATES: IdentityMemo[Mapping[str, tuple[str, ...]], dict[str, frozenset[str]]] = IdentityMemo(
    lambda table: {}, 16
)
_MAX_CANDIDATES = 100_000


def distribution_candidates(
    name: str, import_names: Mapping[str, tuple[str, ...]]
) -> frozenset[str]:
    """Distributions that provide an import (``google.cloud.storage`` -> ``google-cloud-storage``).

    Looked up in depaudit.import_names' map of real packages by the longest dotted prefix,
    ``import_names`` (the knowledge base's overrides) first; several distributions can provide
    one import (``cv2``) and any of them counts. An unknown import falls back to the
    distribution named after it; a bare namespace package (``import google``) gives none.
    """
    answers = _CANDIDATES(import_names)
    hit = answers.get(name)
    if hit is None:
        if len(answers) >= _MAX_CANDIDATES:
            answers.clear()
        hit = answers[name] = frozenset(distributions_for(name, import_names))
    return hit
