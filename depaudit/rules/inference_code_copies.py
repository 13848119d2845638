"""DA206 / DA207: copies of a function or class in training and serving code.

This module exports ``RULES`` (both rules share one pairing pass) instead of ``RULE``.

A *copy* is a top-level definition of a training-only file and one of a serving-only file
that are the same code: the same name with similar bodies, the same normalised body under
another name (a renamed copy), or a renamed copy that has since been edited (similar
bodies, different names). Identical copies (DA206, shared) work today but should be one
module both sides import; diverged copies (DA207, drift) are training/serving skew, and
the finding carries the unified diff. A file present in both snapshots (``common/``) is
properly shared code and is never reported.

Thresholds (why): same-name pairs need a line similarity of 0.5, so two unrelated
``main()`` functions are not called copies; differently named pairs need 0.75 and at
least ``MIN_LINES`` lines, so small look-alike helpers are not matched by accident.
"""

from __future__ import annotations

import ast
import difflib
import functools
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from depaudit.catalog import rule_info
from depaudit.identity_memo import IdentityMemo
from depaudit.model import CodeModule, Definition, Finding
from depaudit.rules.findings import finding
from depaudit.rules.view import PairView

SAME_NAME_SIMILARITY = 0.5
RENAMED_SIMILARITY = 0.75
MIN_LINES = 3
MAX_DIFF_CHARS = 20_000
# lines shared by more definitions than this are too common to suggest a copy
_COMMON_LINE = 20


@dataclass(frozen=True, slots=True)
class Side:
    module: CodeModule
    definition: Definition

    @property
    def qualname(self) -> str:
        return f"{self.module.module}.{self.definition.name}"

    @property
    def where(self) -> str:
        return f"{self.module.file}:{self.definition.line}"


@dataclass(frozen=True, slots=True)
class Copy:
    training: Side
    serving: Side
    identical: bool


@functools.lru_cache(maxsize=65_536)
def _lines(body: str) -> tuple[str, ...]:
    """Body lines without indentation, blank lines, comments and the def / class line.

    Memoised by body: a history's states share almost all their definitions, and the
    copy search reads every definition of both sides at each new state."""
    # quote style is the commonest formatter difference: do not let it break similarity
    out = [ln.strip().replace("'", '"') for ln in body.split("\n")]
    out = [ln for ln in out if ln and not ln.startswith("#")]
    # drop decorators and the header line: renaming must not count against similarity
    while out and out[0].startswith("@"):
        out.pop(0)
    return tuple(out[1:])


@functools.lru_cache(maxsize=65_536)
def _line_set(lines: tuple[str, ...]) -> frozenset[str]:
    return frozenset(lines)


@functools.lru_cache(maxsize=262_144)
def _ratio(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    """Line similarity of two bodies. Memoised by the bodies: the same definitions are
    compared again at every new state of a history, and the matcher is the rule's dearest
    step (a bounded cache: the pairs that recur are those of unchanged modules)."""
    if not a and not b:
        return 1.0
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < SAME_NAME_SIMILARITY:
        return 0.0
    return matcher.ratio()


def _module_sides(module: CodeModule) -> tuple[tuple[Side, tuple[str, ...]], ...]:
    return tuple((Side(module, d), _lines(d.body)) for d in module.definitions)


# by module identity: an unchanged module is the same object at the next state
_SIDES_OF: IdentityMemo[CodeModule, tuple[tuple[Side, tuple[str, ...]], ...]] = IdentityMemo(
    _module_sides, 50_000
)


def _sides(
    modules: list[CodeModule], skip_files: frozenset[str]
) -> tuple[list[Side], list[tuple[str, ...]], list[CodeModule]]:
    """Every definition of ``modules`` (by file, then as written), its body lines, and the
    modules read (in that order)."""
    sides: list[Side] = []
    lines: list[tuple[str, ...]] = []
    read: list[CodeModule] = []
    for m in sorted(modules, key=lambda m: m.file):
        if m.file in skip_files:
            continue
        read.append(m)
        for side, body in _SIDES_OF(m):
            sides.append(side)
            lines.append(body)
    return sides, lines, read


# Lines shared by more than _COMMON_LINE *unused* serving definitions are skipped. The
# index counts every serving definition; the few that earlier passes used are taken off
# at match time, so a line is worth keeping in a training definition's probe while its
# count is within this margin of the limit (beyond it, the search is done in full).
_USED_MARGIN = 64


@dataclass(eq=False, slots=True)
class _ServingIndex:
    """The serving side's definitions, indexed and kept up to date from state to state.

    A history's consecutive states change a module or two: the index of the last states'
    serving sides is updated by the modules that came and went (found by identity: an
    unchanged module is the same object) instead of being built again, and each training
    module's lookups in it (``probes``) are kept until the index changes. A definition is
    a *slot* (a number that stays its own while its module is indexed); ``order`` sorts
    slots as the search reads serving code (by file, then as written), so every choice
    between candidates is the one a fresh search makes."""

    skip: frozenset[str]  # files both sides hold: never searched
    modules: dict[int, CodeModule] = field(default_factory=dict)  # keeps their ids theirs
    slots_of: dict[int, list[int]] = field(default_factory=dict)
    side: dict[int, Side] = field(default_factory=dict)
    lines: dict[int, tuple[str, ...]] = field(default_factory=dict)
    order: dict[int, tuple[str, int]] = field(default_factory=dict)
    by_hash: dict[tuple[str, str], set[int]] = field(default_factory=dict)
    by_name: dict[tuple[str, str], set[int]] = field(default_factory=dict)
    by_line: dict[str, set[int]] = field(default_factory=dict)  # definitions of MIN_LINES+
    probes: dict[int, tuple[CodeModule, list[list[set[int]]]]] = field(default_factory=dict)
    next_slot: int = 0

    def update(self, serving: dict[int, CodeModule]) -> None:
        """Make the index hold exactly ``serving`` (modules by id)."""
        gone = [mid for mid in self.modules if mid not in serving]
        came = [mid for mid in serving if mid not in self.modules]
        for mid in gone:
            self._remove(mid)
        for mid in came:
            self._add(serving[mid])
        if gone or came:
            self.probes.clear()

    def _add(self, module: CodeModule) -> None:
        self.modules[id(module)] = module
        slots: list[int] = []
        self.slots_of[id(module)] = slots
        if module.file in self.skip:
            return
        for position, (side, body) in enumerate(_SIDES_OF(module)):
            slot = self.next_slot
            self.next_slot += 1
            slots.append(slot)
            d = side.definition
            self.side[slot] = side
            self.lines[slot] = body
            self.order[slot] = (module.file, position)
            self.by_hash.setdefault((d.kind, d.body_hash), set()).add(slot)
            self.by_name.setdefault((d.kind, d.name), set()).add(slot)
            if len(body) >= MIN_LINES:
                for ln in _line_set(body):
                    self.by_line.setdefault(ln, set()).add(slot)

    def _remove(self, mid: int) -> None:
        del self.modules[mid]
        for slot in self.slots_of.pop(mid):
            d = self.side.pop(slot).definition
            body = self.lines.pop(slot)
            del self.order[slot]
            _discard(self.by_hash, (d.kind, d.body_hash), slot)
            _discard(self.by_name, (d.kind, d.name), slot)
            if len(body) >= MIN_LINES:
                for ln in _line_set(body):
                    _discard(self.by_line, ln, slot)

    def sorted_slots(self, slots: set[int]) -> list[int]:
        return sorted(slots, key=self.order.__getitem__)

    def probe(self, module: CodeModule, margin: bool = True) -> list[list[set[int]]]:
        """For each definition of ``module``: the serving definitions sharing each of its
        distinctive lines (one set per line; none for a definition too short). With
        ``margin``, lines shared by far too many definitions are left out (and kept)."""
        if margin:
            known = self.probes.get(id(module))
            if known is not None and known[0] is module:
                return known[1]
        limit = _COMMON_LINE + _USED_MARGIN if margin else None
        out: list[list[set[int]]] = []
        for _side, body in _SIDES_OF(module):
            if len(body) < MIN_LINES:
                out.append([])
                continue
            hits = [self.by_line.get(ln) for ln in _line_set(body)]
            out.append([h for h in hits if h and (limit is None or len(h) <= limit)])
        if margin:
            self.probes[id(module)] = (module, out)
        return out


def _discard(index: dict[Any, set[int]], key: Any, slot: int) -> None:
    held = index[key]
    held.discard(slot)
    if not held:
        del index[key]


# The serving indexes of the last states (a monorepo's pairs have several serving sides):
# a request takes the one closest to it, updated, or a new one when none is close.
_POOL: list[_ServingIndex] = []
_POOL_SIZE = 16


def _serving_index(serving: list[CodeModule], skip: frozenset[str]) -> _ServingIndex:
    wanted = {id(m): m for m in serving}
    best: tuple[int, int] | None = None  # (modules to add or remove, pool position)
    for k, index in enumerate(_POOL):
        if index.skip != skip:
            continue
        change = sum(1 for mid in index.modules if mid not in wanted) + sum(
            1 for mid in wanted if mid not in index.modules
        )
        if best is None or change < best[0]:
            best = (change, k)
    if best is not None and best[0] <= max(8, len(wanted) // 2):
        index = _POOL.pop(best[1])
    else:
        index = _ServingIndex(skip)
        if len(_POOL) >= _POOL_SIZE:
            _POOL.pop(0)
    index.update(wanted)
    _POOL.append(index)
    return index


def find_copies(training: list[CodeModule], serving: list[CodeModule]) -> list[Copy]:
    """Pairs of copied definitions, each definition in at most one pair."""
    shared_files = frozenset({m.file for m in training} & {m.file for m in serving})
    index = _serving_index(serving, shared_files)
    train, lines_t, read = _sides(training, shared_files)
    serve, lines_s = index.side, index.lines
    used_t: set[int] = set()
    used_s: set[int] = set()
    out: list[Copy] = []

    def take(i: int, j: int, identical: bool) -> None:
        used_t.add(i)
        used_s.add(j)
        out.append(Copy(train[i], serve[j], identical))

    # 1. identical bodies: same name first, then renamed copies of a real size
    for same_name in (True, False):
        for i, t in enumerate(train):
            if i in used_t:
                continue
            found = index.by_hash.get((t.definition.kind, t.definition.body_hash))
            for j in index.sorted_slots(found) if found else ():
                if j in used_s or (t.definition.name == serve[j].definition.name) != same_name:
                    continue
                if same_name or len(lines_t[i]) >= MIN_LINES:
                    take(i, j, True)
                    break

    # 2. same name, different bodies that are still recognisably the same code
    for i, t in enumerate(train):
        if i in used_t:
            continue
        best: tuple[float, int] | None = None
        named = index.by_name.get((t.definition.kind, t.definition.name))
        for j in index.sorted_slots(named) if named else ():
            if j in used_s:
                continue
            r = _ratio(lines_t[i], lines_s[j])
            if r >= SAME_NAME_SIMILARITY and (best is None or r > best[0]):
                best = (r, j)
        if best is not None:
            take(i, best[1], False)

    # 3. renamed and edited: candidates share distinctive lines (inverted index), then ratio
    margin = len(used_s) <= _USED_MARGIN
    i = -1
    for module in read:
        for hit_sets in index.probe(module, margin):
            i += 1
            lines = lines_t[i]
            if i in used_t or len(lines) < MIN_LINES:
                continue
            counts: dict[int, int] = {}
            for hits in hit_sets:
                unused = hits - used_s if used_s else hits
                if len(unused) > _COMMON_LINE:
                    continue
                for j in unused:
                    counts[j] = counts.get(j, 0) + 1
            best = None
            for j in index.sorted_slots(set(counts)):
                if j in used_s or serve[j].definition.kind != train[i].definition.kind:
                    continue
                if counts[j] < RENAMED_SIMILARITY * min(len(lines), len(lines_s[j])) / 2:
                    continue
                r = _ratio(lines, lines_s[j])
                if r >= RENAMED_SIMILARITY and (best is None or r > best[0]):
                    best = (r, j)
            if best is not None:
                take(i, best[1], False)
    # The source hashes text (cheap); a pair whose text differs only in layout a formatter
    # changes (wrapping, parentheses, quotes) is confirmed identical on the AST here.
    confirmed = [
        Copy(c.training, c.serving, True)
        if not c.identical
        and _canonical(c.training.definition) == _canonical(c.serving.definition) is not None
        else c
        for c in out
    ]
    return sorted(confirmed, key=lambda c: (c.serving.qualname, c.training.qualname))


def _canonical(definition: Definition) -> str | None:
    """``ast.unparse`` of a definition with docstrings removed and its name blanked."""
    return _canonical_body(definition.body)


@functools.lru_cache(maxsize=4096)
def _canonical_body(body: str) -> str | None:
    """Memoised by body: a copy found at one state is confirmed again at every later
    state of the history, and parsing and unparsing it is the rule's dearest step."""
    try:
        tree = ast.parse(textwrap.dedent(body))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            node.name = "_"
    return "\n".join(_strip_docstrings(tree))


def _strip_docstrings(tree: ast.Module) -> list[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            first = node.body[0] if node.body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                node.body = node.body[1:] or [ast.Pass()]
    return ast.unparse(tree).split("\n")


@functools.lru_cache(maxsize=4096)
def _normalised(body: str) -> tuple[str, ...]:
    """The body as ``ast.unparse`` writes it, docstrings removed; raw text if it does not
    parse (memoised by body, like ``_canonical_body``)."""
    try:
        tree = ast.parse(textwrap.dedent(body))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return tuple(body.split("\n"))
    return tuple(_strip_docstrings(tree))


def unified_diff(copy: Copy) -> str:
    diff = "\n".join(
        difflib.unified_diff(
            _normalised(copy.training.definition.body),
            _normalised(copy.serving.definition.body),
            fromfile=f"training: {copy.training.where} {copy.training.definition.name}",
            tofile=f"serving: {copy.serving.where} {copy.serving.definition.name}",
            lineterm="",
        )
    )
    if len(diff) > MAX_DIFF_CHARS:
        diff = diff[:MAX_DIFF_CHARS] + "\n... (diff truncated)"
    return diff


# DA206 and DA207 read one pairing pass: the last view's copies, kept for the second rule
_LAST: list[tuple[PairView, list[Copy]]] = []


def _copies(view: PairView) -> list[Copy]:
    if _LAST and _LAST[0][0] is view:
        return _LAST[0][1]
    copies = find_copies(view.training.of_type(CodeModule), view.serving.of_type(CodeModule))
    _LAST[:] = [(view, copies)]
    return copies


def _renamed(copy: Copy) -> str:
    t, s = copy.training.definition.name, copy.serving.definition.name
    return f" (renamed from {t})" if t != s else ""


class IdenticalInferenceCode:
    info = rule_info("DA206")

    def check(self, view: PairView) -> Iterator[Finding]:
        allow = set(view.allow(self.info.id))
        for copy in _copies(view):
            if not copy.identical or copy.serving.qualname in allow:
                continue
            kind = copy.serving.definition.kind
            yield finding(
                self.info,
                "shared",
                copy.serving.qualname,
                f"{kind} {copy.serving.definition.name}{_renamed(copy)} is copied in "
                f"{copy.training.where} and {copy.serving.where}; the copies are identical "
                "but should be one shared module imported by both.",
                training=copy.training.qualname,
                serving=copy.serving.qualname,
                file=copy.serving.module.file,
                line=copy.serving.definition.line,
            )


class DivergedInferenceCode:
    info = rule_info("DA207")

    def check(self, view: PairView) -> Iterator[Finding]:
        allow = set(view.allow(self.info.id))
        for copy in _copies(view):
            if copy.identical or copy.serving.qualname in allow:
                continue
            kind = copy.serving.definition.kind
            yield finding(
                self.info,
                "drift",
                copy.serving.qualname,
                f"{kind} {copy.serving.definition.name}{_renamed(copy)} differs between "
                f"{copy.training.where} and {copy.serving.where} (training/serving skew); "
                "make it one shared module imported by both.",
                training=copy.training.qualname,
                serving=copy.serving.qualname,
                file=copy.serving.module.file,
                line=copy.serving.definition.line,
                evidence=unified_diff(copy),
            )


RULES = (IdenticalInferenceCode(), DivergedInferenceCode())
