"""One view of an environment's Python packages, merged across the files that declare them.

An environment often names the same distribution in several places (``requirements.txt``,
a lock file, a ``pip install`` line in its Dockerfile). Rules compare one merged entry per
canonical name:

- an exact version (a ``==`` pin, a lock entry or an installed version) beats a range;
  when files disagree, a lock file's version wins (it is what gets installed), else the
  first one in fact order;
- specifiers of all files are intersected (``>=1.2`` and ``<2`` give ``<2,>=1.2``);
- entries of development groups (``dev``, ``test``, ``lint``, ``docs``...) and constraint
  files are ignored: they are not installed in the image or only constrain;
- what a base image installs (``manager="image"``) yields to the environment's own pin, or
  to a range its version does not satisfy: later installs win;
- ``direct`` is true if any file names the package directly. A side whose files hold no
  direct entry at all (a lone lock file) counts every entry as direct.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass

from packaging.utils import canonicalize_name

from depaudit.knowledge import Entry, Knowledge
from depaudit.model import EnvironmentSnapshot, Include, Package, ProjectInstall
from depaudit.rules.version_ranges import contains, parse_specifier

IGNORED_GROUPS = frozenset({"dev", "test", "tests", "lint", "docs", "typing", "constraints"})
_LOCK_SUFFIXES = (".lock", "-lock.txt", ".lock.txt", "lock.json")


@dataclass(frozen=True, slots=True)
class MergedPackage:
    name: str
    version: str  # exact version, "" when only a range is known
    specifier: str  # intersection of every file's specifier, "" when unconstrained
    direct: bool
    extras: tuple[str, ...]
    fact: Package  # where to point the user: the first direct declaration
    declared: str = ""  # intersection of the non-lock files' specifiers (what humans asked for)
    pinned_by: Package | None = None  # the entry whose version is installed (a lock's, a pin)

    @property
    def version_fact(self) -> Package:
        """Where the installed version is set: the lock entry or pin it comes from, else
        the declaration (a drift between two versions points at what sets them)."""
        return self.pinned_by or self.fact

    @property
    def shown(self) -> str:
        """The value shown in a finding's training / serving column."""
        return self.version or self.specifier or "*"


def is_lock_file(path: str) -> bool:
    name = path.rsplit("/", 1)[-1].lower()
    return name.endswith(_LOCK_SUFFIXES) or name in {"pipfile.lock", "poetry.lock", "uv.lock"}


def is_install_command(path: str) -> bool:
    """A file whose packages are installed by a command run after the environment's
    dependency files (``RUN pip install`` in a Dockerfile, ``%pip install`` in a notebook)."""
    name = path.rsplit("/", 1)[-1].lower()
    return name.endswith((".ipynb", ".dockerfile")) or name.startswith("dockerfile")


def _counts(fact: Package, asked: _Asked) -> bool:
    if fact.group.lower() in IGNORED_GROUPS:
        return False
    if fact.optional == "extra":
        return asked.all_extras or canonicalize_name(fact.group) in asked.extras
    if fact.optional == "group":
        return asked.all_groups or canonicalize_name(fact.group) in asked.groups
    return True


@dataclass(frozen=True, slots=True)
class _Asked:
    """The optional parts of the project an environment's install commands ask for."""

    extras: frozenset[str]
    groups: frozenset[str]
    all_extras: bool
    all_groups: bool


def _asked(snapshot: EnvironmentSnapshot) -> _Asked:
    installs = [f for f in snapshot.facts if isinstance(f, ProjectInstall)]
    return _Asked(
        frozenset(canonicalize_name(e) for f in installs for e in f.extras),
        frozenset(canonicalize_name(g) for f in installs for g in f.groups),
        any(f.all_extras for f in installs),
        any(f.all_groups for f in installs),
    )


def merged_packages(snapshot: EnvironmentSnapshot) -> dict[str, MergedPackage]:
    """Canonical name -> merged package for one environment."""
    by_name: dict[str, list[Package]] = {}
    asked = _asked(snapshot)
    for fact in snapshot.facts:
        if isinstance(fact, Package) and _counts(fact, asked):
            by_name.setdefault(canonicalize_name(fact.name), []).append(fact)
    any_direct = any(f.direct for facts in by_name.values() for f in facts)
    order = _install_order(snapshot)
    return {name: _merge(name, facts, any_direct, order) for name, facts in by_name.items()}


def _install_order(snapshot: EnvironmentSnapshot) -> dict[str, tuple[int, int]]:
    """File -> when its packages are installed in the image: the Dockerfile line of the
    ``pip install -r FILE`` that installs it (files installed by no Dockerfile first)."""
    order: dict[str, tuple[int, int]] = {}
    installs = [
        i
        for i in snapshot.of_type(Include)
        if i.kind in ("requirements", "constraints") and _is_dockerfile(i.file)
    ]
    if not installs:
        return order
    for path in {f.file for f in snapshot.of_type(Package)}:
        for inc in installs:
            target = posixpath.normpath(inc.target.strip("\"'")).lstrip("./")
            if path == target or path.endswith("/" + target):
                order[path] = min(order.get(path, (9, 1 << 30)), (2, inc.line))
    return order


def _rank(fact: Package, order: dict[str, tuple[int, int]]) -> tuple[int, int]:
    if fact.manager == "image":
        return (0, 0)  # the base image installs first
    if _is_dockerfile(fact.file):
        return (2, fact.line)  # RUN pip install ..., in line order
    return order.get(fact.file, (1, 0))


def _is_dockerfile(path: str) -> bool:
    name = path.rsplit("/", 1)[-1].lower()
    return name.startswith(("dockerfile", "containerfile")) or name.endswith(
        (".dockerfile", ".containerfile")
    )


def _effective_version(facts: list[Package], order: dict[str, tuple[int, int]]) -> Package | None:
    """The entry whose version ends up installed (DESIGN.md §5 "effective version"): a lock
    file's when there is one (it is the truth) unless a later install command pins one;
    else installs in order — base image, ``-r`` files, own lines, later ``RUN pip install``
    — where a later pin replaces the version, a later range the version does not satisfy
    makes it unknown (pip upgrades), and a later unpinned mention changes nothing (pip
    keeps a satisfied requirement)."""
    locked = [f for f in facts if f.version and is_lock_file(f.file)]
    # a pin installed by a command replaces what the lock installed before it (a
    # notebook's ``%pip install scikit-learn==1.4.1`` trains on 1.4.1)
    commanded = [f for f in facts if f.version and is_install_command(f.file)]
    if locked and not commanded:
        return locked[0]
    if locked:
        return max(commanded, key=lambda f: _rank(f, order))
    pinned: Package | None = None
    for fact in sorted(facts, key=lambda f: _rank(f, order)):
        if fact.version:
            pinned = fact
        elif pinned and fact.specifier and not contains(fact.specifier, pinned.version):
            pinned = None
    return pinned


def _merge(
    name: str, facts: list[Package], any_direct: bool, order: dict[str, tuple[int, int]]
) -> MergedPackage:
    facts = _after_base_image(facts)
    pinned = _effective_version(facts, order)
    specifier = _intersect(f.specifier for f in facts)
    declared = _intersect(f.specifier for f in facts if not is_lock_file(f.file))
    direct_facts = [f for f in facts if f.direct]
    extras = tuple(sorted({e for f in facts for e in f.extras}))
    return MergedPackage(
        name=name,
        version=pinned.version if pinned else "",
        specifier=specifier,
        direct=bool(direct_facts) or not any_direct,
        extras=extras,
        fact=(direct_facts or facts)[0],
        declared=declared,
        pinned_by=pinned,
    )


def _after_base_image(facts: list[Package]) -> list[Package]:
    """Drop what the base image installs when the environment's own files override it.

    The base image's packages (``manager="image"``) are installed first; a version the
    files pin, or a range the image's version does not satisfy, is what ends up installed.
    """
    own = [f for f in facts if f.manager != "image"]
    if len(own) in (0, len(facts)):
        return facts
    wanted = _intersect(f.specifier for f in own)
    image = [
        f
        for f in facts
        if f.manager == "image"
        and not any(o.version for o in own)
        and (not wanted or (f.version and contains(wanted, f.version)))
    ]
    return image + own


def _intersect(specifiers: Iterable[str]) -> str:
    parts: list[str] = []
    for text in specifiers:
        if not text:
            continue
        parsed = parse_specifier(text)
        parts.append(str(parsed) if parsed is not None else text)
    if not parts:
        return ""
    combined = parse_specifier(",".join(parts))
    if combined is None:
        return ",".join(dict.fromkeys(parts))
    return ",".join(sorted(dict.fromkeys(str(s) for s in combined)))


def training_entry(pkg: MergedPackage, knowledge: Knowledge) -> Entry | None:
    """The knowledge entry that makes this package training-only, if any.

    ``name[extra]`` entries match only when the extra is requested (``ray[tune]``).
    """
    entry = knowledge.package(pkg.name)
    if entry:
        return entry
    for extra in pkg.extras:
        entry = knowledge.package(f"{pkg.name}[{canonicalize_name(extra)}]")
        if entry:
            return entry
    return None


def allowed(names: tuple[str, ...]) -> frozenset[str]:
    """An allow list normalised to canonical names."""
    return frozenset(canonicalize_name(n) for n in names)
