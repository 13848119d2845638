"""pip requirements files: ``requirements*.txt``, ``constraints*.txt``, pip-compile ``.in``.

pip-requirements-parser does the line work (continuations, comments, option parsing,
``-e`` / URL / VCS forms), but only through its *line-level* functions fed with our
text: ``RequirementsFile.from_string`` is broken in the released version and
``include_nested`` reads other files from disk. ``-r`` / ``-c`` lines become
:class:`~depaudit.model.Include` facts; the snapshot builder resolves them inside the
same commit.

This module also holds the PEP 508 helpers the other Python sources share
(:func:`package_from_pep508`, :func:`specifier_text`), so every source writes names,
specifiers and pins the same way.
"""

from __future__ import annotations

import optparse
import posixpath
import re
import shlex
from collections.abc import Callable, Iterator
from typing import Any

import pip_requirements_parser as prp
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from collectors.sources.base import guarded, squeeze_blanks
from depaudit.model import Fact, Include, NetworkTarget, Package, ParseError, SourceResult
from depaudit.secrets import scrub, split_url, strip_url_credentials

# Names pip-compile and common project layouts use for input files (``*.in``). Any
# ``*.in`` would also catch ``MANIFEST.in`` and autotools templates (``Makefile.in``).
_IN_FILE_WORDS = ("requirement", "constraint", "reqs")

# depaudit.secrets' URL patterns take quadratic time on long runs of URL-ish characters;
# URLs and lines this long are not real, so they are replaced or rejected, never scanned.
MAX_URL_CHARS = 4096
MAX_LINE_CHARS = 100_000
MAX_LINE_BRACKETS = 64  # extras take one pair; "[[[[..." costs O(n^2) in pip-requirements-parser
# Requirement lines read per file (real ones have hundreds; each costs ~50 us to parse, so
# a 10 MB file of one-letter lines would otherwise take minutes). The rest is an error.
MAX_REQUIREMENT_LINES = 10_000

# Order specifiers the way people write them: pins, then lower bounds, upper bounds, exclusions.
_OPERATOR_RANK = {"===": 0, "==": 0, "~=": 1, ">=": 2, ">": 2, "<=": 3, "<": 3, "!=": 4}


class RequirementsTxtSource:
    """pip requirements and constraints files."""

    name = "requirements"

    def matches(self, path: str) -> bool:
        base = posixpath.basename(path).lower()
        parent = posixpath.basename(posixpath.dirname(path)).lower()
        stem, ext = posixpath.splitext(base)
        if ext == ".txt":
            return (
                "requirements" in stem or stem.startswith("constraints") or parent == "requirements"
            )
        if ext == ".in":
            return parent == "requirements" or any(word in stem for word in _IN_FILE_WORDS)
        return False

    def parse(self, text: str, path: str) -> SourceResult:
        is_constraints = "constraint" in posixpath.basename(path).lower()
        return SourceResult(tuple(parse_requirements_text(text, path, constraints=is_constraints)))


def parse_requirements_text(
    text: str, path: str, *, constraints: bool = False, first_line: int = 1
) -> list[Fact]:
    """Facts of requirements-file ``text``; ``first_line`` offsets line numbers (conda ``pip:``)."""
    facts: list[Fact] = []
    group = "constraints" if constraints else ""
    line_parser = _line_parser()
    read = 0
    # the library's comment regex backtracks quadratically on long runs of blanks
    for numbered in prp.preprocess(squeeze_blanks(text)):
        if isinstance(numbered, prp.CommentLine):
            continue
        number, line = numbered
        lineno = number + first_line - 1
        read += 1
        if read > MAX_REQUIREMENT_LINES:
            facts.append(
                ParseError(
                    path,
                    f"more than {MAX_REQUIREMENT_LINES} requirement lines; the rest is not read",
                    lineno,
                )
            )
            break
        if len(line) > MAX_LINE_CHARS:
            facts.append(ParseError(path, f"line too long ({len(line)} characters)", lineno))
            continue
        if line.count("[") > MAX_LINE_BRACKETS:  # the library's extras regex is quadratic in them
            facts.append(
                ParseError(path, f"invalid requirement: more than {MAX_LINE_BRACKETS} '['", lineno)
            )
            continue
        requirement_line = prp.RequirementLine(line=line, line_number=lineno, filename=path)
        try:
            requirement_string, options, arguments = line_parser(line)  # type: ignore[misc]
        except Exception as exc:  # the library raises its own and optparse errors
            facts.append(_line_error(path, lineno, "invalid option line", exc))
            continue
        parsed_line = prp.ParsedLine(
            requirement_line=requirement_line,
            requirement_string=requirement_string,
            options=options,
            is_constraint=constraints,
            arguments=arguments,
        )
        for item in prp.handle_line(parsed_line):
            facts.extend(_facts_of_item(item, path, lineno, group))
    return facts


def _line_parser() -> Callable[[str], tuple[str, Any, list[str]]]:
    """``prp.get_line_parser()`` without its cost of one optparse parser per line.

    The library builds a new parser for every line (about 1.5 ms), so a hostile 10 MB
    file of short lines took tens of minutes. One parser serves every line here: a fresh
    copy of its defaults (and their lists) per line keeps appendable options from
    accumulating, which is why the library rebuilt it; lines without options skip optparse.
    """
    parser = prp.build_parser()
    defaults = vars(parser.get_default_values())

    def parse_line(line: str) -> tuple[str, Any, list[str]]:
        args_str, options_str = _break_args_options(line)
        values = optparse.Values(
            {k: list(v) if isinstance(v, list) else v for k, v in defaults.items()}
        )
        if not options_str.strip():
            return args_str, values, []
        opts, arguments = parser.parse_args(shlex.split(options_str), values)
        return args_str, opts, arguments

    return parse_line


def _break_args_options(line: str) -> tuple[str, str]:
    """``prp.break_args_options`` in linear time (it pops from the front of a list)."""
    tokens = line.split(" ")
    for i, token in enumerate(tokens):
        if token.startswith("-"):
            return " ".join(tokens[:i]), " ".join(tokens[i:])
    return line, ""


def _facts_of_item(item: Any, path: str, lineno: int, group: str) -> Iterator[Fact]:
    if isinstance(item, prp.ParsedRequirement):
        try:
            requirement = prp.build_req_from_parsedreq(item)
        except Exception as exc:  # InstallationError, InvalidWheelFilename, InvalidRequirement...
            yield _line_error(path, lineno, "invalid requirement", exc)
            return
        package = _package_of(requirement, path, lineno, group)
        if package is not None:
            yield package
    elif isinstance(item, prp.InvalidRequirementLine):
        yield _line_error(path, lineno, "invalid line", item.error_message)
    elif isinstance(item, prp.OptionLine):
        yield from _facts_of_options(item.options, path, lineno)


def _facts_of_options(options: dict[str, Any], path: str, lineno: int) -> Iterator[Fact]:
    for target in options.get("requirements", []):
        yield Include(target=target, file=path, line=lineno, kind="requirements")
    for target in options.get("constraints", []):
        yield Include(target=target, file=path, line=lineno, kind="constraints")
    urls: list[tuple[str, str]] = []
    if options.get("index_url"):
        urls.append(("--index-url", options["index_url"]))
    urls += [("--extra-index-url", url) for url in options.get("extra_index_urls", [])]
    urls += [("--find-links", url) for url in options.get("find_links", [])]
    for key, url in urls:
        _, host = split_url(url)
        if host:  # a local --find-links directory is no network target
            yield NetworkTarget(clean_url(url), "index", path, lineno, key=key)
    for host in options.get("trusted_hosts", []):
        yield NetworkTarget(host.lower(), "host", path, lineno, key="--trusted-host")


def _package_of(
    requirement: Any, path: str, lineno: int, group: str
) -> Package | ParseError | None:
    link_url = str(requirement.link.url) if requirement.link is not None else ""
    name = requirement.name or _guess_name(link_url)
    if not name:
        if link_url and "://" not in link_url and not any(c.isspace() for c in link_url):
            # An unnamed local path (``-e .``, ``./libs/shared``) is the repository's own
            # code, which the code collector reads; pip names it only by building it.
            return None
        return _line_error(path, lineno, "invalid requirement", f"no package name in {link_url!r}")
    specifier = requirement.req.specifier if requirement.req is not None else SpecifierSet()
    return Package(
        name=canonicalize_name(name),
        file=path,
        line=lineno,
        specifier=specifier_text(specifier),
        version=pinned_version(specifier),
        extras=tuple(sorted(canonicalize_name(e) for e in requirement.extras)),
        marker=str(requirement.marker) if requirement.marker is not None else "",
        group=group,
        url=clean_url(link_url),
        editable=bool(requirement.is_editable),
        manager="pip",
    )


def _guess_name(url: str) -> str:
    """Distribution name from an unnamed URL: the repo or archive name (pip would build it)."""
    if not url or any(c.isspace() for c in url) or not split_url(url.split("+", 1)[-1])[1]:
        return ""  # local paths stay unnamed
    last = url.split("#", 1)[0].split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    last = last.split("@", 1)[0]
    for suffix in (".git", ".tar.gz", ".tar.bz2", ".tgz", ".zip", ".tar"):
        if last.endswith(suffix):
            last = last[: -len(suffix)]
            break
    match = re.match(r"^(.+?)-\d", last)
    name = match.group(1) if match else last
    return name if prp.is_valid_name(name) else ""


def _line_error(path: str, lineno: int, what: str, detail: object) -> ParseError:
    return ParseError(file=path, message=safe_message(f"{what}: {detail}"), line=lineno)


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


# ------------------------------------------------------------------ shared PEP 508 helpers


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


def package_from_pep508(
    requirement: str, path: str, line: int, *, group: str = "", manager: str = "pip"
) -> Package | ParseError:
    """A Package from one PEP 508 string (pyproject, setup.cfg), or a ParseError."""
    try:
        req = Requirement(requirement)
    except InvalidRequirement as exc:
        return ParseError(file=path, message=safe_message(f"invalid requirement: {exc}"), line=line)
    return Package(
        name=canonicalize_name(req.name),
        file=path,
        line=line,
        specifier=specifier_text(req.specifier),
        version=pinned_version(req.specifier),
        extras=tuple(sorted(canonicalize_name(e) for e in req.extras)),
        marker=str(req.marker) if req.marker is not None else "",
        group=group,
        url=clean_url(req.url or ""),
        manager=manager,
    )


__all__ = [
    "SOURCE",
    "InvalidSpecifier",
    "RequirementsTxtSource",
    "clean_url",
    "normalize_specifier",
    "package_from_pep508",
    "parse_requirements_text",
    "pinned_version",
    "pinned_version_of",
    "safe_message",
    "specifier_text",
]

SOURCE = guarded(RequirementsTxtSource())
