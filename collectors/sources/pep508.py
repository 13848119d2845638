"""A requirement string -> one ``Package`` fact or a ``ParseError``: the only such path.

Every source that meets requirement strings hands them to :func:`requirement_fact` with
where they came from and their context (group, manager, editable, direct):
requirements files and conda ``pip:`` sections (line by line, after
pip-requirements-parser has split off options), ``pip install`` / ``uv pip install``
words in Dockerfiles, PEP 621 / PEP 735 lists in ``pyproject.toml`` and ``setup.cfg``.
Pipfile and Poetry tables, which are not requirement strings, build their packages with
the same :func:`package_fact`. So ``Ray[Tune]>=2.9,<3`` is the same fact wherever it is
written: canonical name and extras (PEP 503 / 685), specifier in one order, the pinned
version of ``==`` / ``===`` (not of a wildcard), the marker as packaging writes it, the
URL without credentials.

Two syntaxes, one path. ``pip_forms=True`` is what pip accepts on a command line or in a
requirements file: PEP 508 plus bare URLs (``git+https://...#egg=name``, archives),
wheel files and local paths, read by pip-requirements-parser's copy of pip's own
constructors; a local project (``.``, ``./libs/x``) is the repository's own code and gives
no fact. Otherwise (package metadata) only PEP 508 is valid, read by ``packaging``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import pip_requirements_parser as prp
from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from depaudit.model import Package, ParseError
from depaudit.secrets import scrub, split_url, strip_url_credentials

# depaudit.secrets' URL patterns take quadratic time on long runs of URL-ish characters;
# URLs and requirements this long are not real, so they are replaced or rejected, never scanned.
MAX_URL_CHARS = 4096
MAX_REQUIREMENT_CHARS = 100_000
MAX_BRACKETS = 64  # extras take one pair; "[[[[..." costs O(n^2) in pip-requirements-parser

# Order specifiers the way people write them: pins, then lower bounds, upper bounds, exclusions.
_OPERATOR_RANK = {"===": 0, "==": 0, "~=": 1, ">=": 2, ">": 2, "<=": 3, "<": 3, "!=": 4}
_SHOWN_CHARS = 80  # of the requirement quoted in an error message

# what pip's constructors and packaging raise on a bad requirement
_INVALID = (
    InvalidRequirement,
    InvalidSpecifier,
    InvalidMarker,
    prp.InstallationError,
    prp.InvalidWheelFilename,
    ValueError,  # packaging / prp on odd versions and URLs
)


@dataclass(frozen=True, slots=True)
class _Parts:
    name: str  # as written; "" for an unnamed URL or path
    specifier: SpecifierSet
    extras: Iterable[str]
    marker: Marker | None
    url: str


def requirement_fact(
    text: str,
    file: str,
    line: int,
    *,
    group: str = "",
    manager: str = "pip",
    direct: bool = True,
    editable: bool = False,
    pip_forms: bool = False,
) -> Package | ParseError | None:
    """The Package ``text`` asks for, a ParseError saying why it is invalid, or None for a
    local project path (``pip_forms`` only: the repository's own code, no distribution).
    """
    written = text.strip()
    if len(written) > MAX_REQUIREMENT_CHARS:
        return ParseError(file, f"requirement too long ({len(written)} characters)", line)
    if written.count("[") > MAX_BRACKETS:
        return ParseError(file, f"invalid requirement: more than {MAX_BRACKETS} '['", line)
    try:
        parts = _pip_parts(written, editable) if pip_forms else _pep508_parts(written)
        if parts is None:
            return None
        return package_fact(
            parts.name,
            file,
            line,
            specifier=parts.specifier,
            extras=parts.extras,
            marker=parts.marker,
            url=parts.url,
            editable=editable,
            group=group,
            manager=manager,
            direct=direct,
        )
    except _INVALID as exc:
        return ParseError(file, invalid_message(written, exc), line)


def package_fact(
    name: str,
    file: str,
    line: int,
    *,
    specifier: SpecifierSet | str = "",
    extras: Iterable[str] = (),
    marker: Marker | str | None = None,
    url: str = "",
    editable: bool = False,
    group: str = "",
    manager: str = "pip",
    direct: bool = True,
) -> Package:
    """A declared Package in the one normal form; raises InvalidSpecifier / InvalidMarker."""
    specifiers = specifier if isinstance(specifier, SpecifierSet) else SpecifierSet(specifier)
    if isinstance(marker, str):
        marker = Marker(marker) if marker.strip() else None
    return Package(
        name=canonicalize_name(name),
        file=file,
        line=line,
        specifier=specifier_text(specifiers),
        version=pinned_version(specifiers),
        extras=tuple(sorted({canonicalize_name(e) for e in extras})),
        marker=str(marker) if marker is not None else "",
        group=group,
        url=clean_url(url),
        editable=editable,
        manager=manager,
        direct=direct,
    )


def _pep508_parts(text: str) -> _Parts:
    req = Requirement(text)
    return _Parts(req.name, req.specifier, req.extras, req.marker, req.url or "")


def _pip_parts(text: str, editable: bool) -> _Parts | None:
    if editable:
        parts = prp.parse_reqparts_from_editable(text)
    else:
        parts = prp.parse_reqparts_from_string(text)
    req = parts.requirement
    url = str(parts.link.url) if parts.link is not None else (req.url or "" if req else "")
    name = req.name if req is not None else _name_of_url(url)
    if not name:
        if url and "://" not in url and not any(c.isspace() for c in url):
            return None  # ".", "./libs/shared": the repository's own code
        raise InvalidRequirement(f"no package name in {url!r}")
    return _Parts(
        name,
        req.specifier if req is not None else SpecifierSet(),
        parts.extras or (req.extras if req is not None else ()),
        parts.marker or (req.marker if req is not None else None),
        url,
    )


def _name_of_url(url: str) -> str:
    """Distribution name of an unnamed URL: the repo or archive name (pip would build it)."""
    if not url or any(c.isspace() for c in url) or not split_url(url.split("+", 1)[-1])[1]:
        return ""  # local paths stay unnamed
    path = url.split("#", 1)[0].split("?", 1)[0].rstrip("/")
    if "/archive/" in path:  # a forge's archive of a branch or tag: named after the repo
        return _valid_name(path.split("/archive/", 1)[0].rsplit("/", 1)[-1])
    last = path.rsplit("/", 1)[-1]
    last = last.split("@", 1)[0]
    for suffix in (".git", ".tar.gz", ".tar.bz2", ".tgz", ".zip", ".tar"):
        if last.endswith(suffix):
            last = last[: -len(suffix)]
            break
    match = re.match(r"^(.+?)-\d", last)
    return _valid_name(match.group(1) if match else last)


def _valid_name(name: str) -> str:
    return name if prp.is_valid_name(name) else ""


def invalid_message(text: str, exc: Exception) -> str:
    """``invalid requirement 'x>=': Expected ...``: the first line of the reason, with the
    requirement (shortened) quoted, credentials removed.

    The reason is packaging's for the *whole* string, so the message is the same
    whichever syntax (and source) met it: pip's constructors read a marker apart.
    """
    reason = str(exc)
    wrapped = reason.startswith("Invalid requirement: ") and ";" not in text
    if isinstance(exc, prp.InstallationError) and wrapped:
        # pip's constructor quotes packaging's reason for the string, after its own hint
        reason = reason.removeprefix("Invalid requirement: ").partition(": ")[2] or reason
    elif not isinstance(exc, InvalidRequirement):
        try:
            Requirement(text)
        except InvalidRequirement as invalid:
            reason = str(invalid)
    first = reason.strip().splitlines()[0] if reason.strip() else type(exc).__name__
    first = first.removeprefix("Invalid requirement: ")
    if _ASSIGNED_VERSION.match(text):
        first = f"'=' is not a version operator, did you mean '=='? {first}"
    shown = text
    if len(shown) > _SHOWN_CHARS:  # credentials go before the text is shortened, never after
        shown = safe_message(shown)
        shown = shown if len(shown) <= _SHOWN_CHARS else shown[: _SHOWN_CHARS - 3] + "..."
    return safe_message(f"invalid requirement {shown!r}: {first}")


_ASSIGNED_VERSION = re.compile(r"^[A-Za-z0-9._-]+(\[[^\]]*\])?\s*=\s*[^=<>!~\s]")


# ------------------------------------------------------------------ text helpers


def safe_message(message: object) -> str:
    """One-line error text with credentials removed (library errors quote the input line).

    Long text is cut at a space *before* masking, so no URL is cut in half and left
    unmasked, and the masking never scans a huge string.
    """
    text = " ".join(str(message).split())
    if len(text) > 1000:
        head, space, _ = text[:1000].rpartition(" ")
        text = (head if space else text[:40].split(":", 1)[0]) + " ..."
    return " ".join(scrub(strip_url_credentials(text)).split())[:300]


def clean_url(url: str) -> str:
    """``url`` without credentials; an absurdly long one is replaced, never scanned."""
    if len(url) > MAX_URL_CHARS:
        return f"(url of {len(url)} characters omitted)"
    return strip_url_credentials(url)


def specifier_text(specifier: SpecifierSet) -> str:
    """``>=1.2,<2`` – normalised, in a stable human order."""
    specs = sorted(specifier, key=lambda s: (_OPERATOR_RANK.get(s.operator, 9), s.version))
    return ",".join(str(s) for s in specs)


def pinned_version(specifier: SpecifierSet) -> str:
    """The version of an exact pin (one ``==`` / ``===`` without wildcard), else ""."""
    specs = list(specifier)
    if (
        len(specs) == 1
        and specs[0].operator in ("==", "===")
        and not specs[0].version.endswith(".*")
    ):
        return specs[0].version
    return ""


def pinned_version_of(specifier: str) -> str:
    """:func:`pinned_version` of a specifier string (as :func:`specifier_text` writes it)."""
    return pinned_version(SpecifierSet(specifier))


def normalize_specifier(text: str) -> str:
    """A specifier string as :func:`specifier_text` writes it; raises InvalidSpecifier."""
    return specifier_text(SpecifierSet(text))


__all__ = [
    "MAX_URL_CHARS",
    "clean_url",
    "invalid_message",
    "normalize_specifier",
    "package_fact",
    "pinned_version",
    "pinned_version_of",
    "requirement_fact",
    "safe_message",
    "specifier_text",
]
