"""Deciding whether two version specifiers admit a common version.

``packaging`` can intersect two ``SpecifierSet`` objects but cannot say whether the
intersection is empty. We decide it with a bounded candidate search: every version that
appears in either specifier, plus "bumps" of each (the next and previous value at every
release position, and one deeper ``.1``). A non-empty intersection of PEP 440 intervals
always contains one of those points, because interval bounds are exactly the versions
written in the clauses and the gaps between them are reached by a bump. The search is
O(clauses × release length), so it stays cheap for any real requirement.
"""

from __future__ import annotations

import functools

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version


@functools.lru_cache(maxsize=4096)
def parse_specifier(text: str) -> SpecifierSet | None:
    """The specifier set, or None when it is not valid PEP 440 (never raises)."""
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        return None


def _bumps(version: Version) -> set[Version]:
    release = list(version.release) + [0] * max(0, 3 - len(version.release))
    out: set[Version] = {version}
    for i in range(len(release)):
        up = [*release[:i], release[i] + 1] + [0] * (len(release) - i - 1)
        out.add(Version(".".join(map(str, up))))
        if release[i] > 0:
            down = [*release[:i], release[i] - 1, 99, 99, 99][: len(release) + 1]
            out.add(Version(".".join(map(str, down))))
    out.add(Version(".".join(map(str, [*release, 1]))))
    out.add(Version(".".join(map(str, release))))
    return out


def candidate_versions(*specs: SpecifierSet) -> set[Version]:
    """The versions worth trying against the intersection of ``specs``."""
    found: set[Version] = {Version("0"), Version("0.0.1")}
    for spec in specs:
        for clause in spec:
            text = clause.version.removesuffix(".*")
            try:
                found |= _bumps(Version(text))
            except InvalidVersion:  # arbitrary equality (===) on a non-PEP 440 string
                continue
    return found


@functools.lru_cache(maxsize=4096)
def have_common_version(a: str, b: str) -> bool:
    """True if some version satisfies both specifiers (unparsable input counts as True).

    Unparsable specifiers never produce a drift finding: we only claim "no common
    version" when we can show it.
    """
    left, right = parse_specifier(a), parse_specifier(b)
    if left is None or right is None:
        return True
    both = left & right
    if not str(both):
        return True
    candidates = candidate_versions(left, right)
    return any(both.contains(v, prereleases=True) for v in candidates)


def version_distance(a: str, b: str) -> str:
    """How far apart two versions are: "major", "minor", "patch" or "build" (or "")."""
    try:
        va, vb = Version(a), Version(b)
    except InvalidVersion:
        return ""
    ra = [*va.release, 0, 0, 0][:3]
    rb = [*vb.release, 0, 0, 0][:3]
    if va.epoch != vb.epoch or ra[0] != rb[0]:
        return "major"
    if ra[1] != rb[1]:
        return "minor"
    if ra[2] != rb[2]:
        return "patch"
    return "build"


def contains(spec: str, version: str) -> bool:
    """True if ``version`` satisfies ``spec`` (unparsable input counts as True)."""
    parsed = parse_specifier(spec)
    if parsed is None:
        return True
    try:
        return parsed.contains(Version(version), prereleases=True)
    except InvalidVersion:
        return True


def same_version(a: str, b: str) -> bool:
    """``1.0`` and ``1.0.0`` are the same version; unparsable versions compare as text."""
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b
