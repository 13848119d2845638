"""pip requirements files: ``requirements*.txt``, ``constraints*.txt``, pip-compile ``.in``.

pip-requirements-parser does the line work (continuations, comments, option parsing,
``-e`` / URL / VCS forms), but only through its *line-level* functions fed with our
text: ``RequirementsFile.from_string`` is broken in the released version and
``include_nested`` reads other files from disk. ``-r`` / ``-c`` lines become
:class:`~depaudit.model.Include` facts; the snapshot builder resolves them inside the
same commit.

Each requirement goes through :func:`depaudit.collectors.sources.pep508.requirement_fact`, the
one path from a requirement string to a Package fact that every source shares.
"""

from __future__ import annotations

import optparse
import posixpath
import shlex
from collections.abc import Callable, Iterator
from typing import Any

import pip_requirements_parser as prp

from depaudit.collectors.sources.base import guarded, squeeze_blanks
from depaudit.collectors.sources.pep508 import (
    MAX_REQUIREMENT_CHARS,
    clean_url,
    requirement_fact,
    safe_message,
)
from depaudit.model import Fact, Include, NetworkTarget, ParseError, SourceResult
from depaudit.secrets import split_url

# Names pip-compile and common project layouts use for input files (``*.in``). Any
# ``*.in`` would also catch ``MANIFEST.in`` and autotools templates (``Makefile.in``).
_IN_FILE_WORDS = ("requirement", "constraint", "reqs")

MAX_LINE_CHARS = MAX_REQUIREMENT_CHARS
# Requirement lines read per file (real ones have hundreds; each costs ~50 us to parse, so
# a 10 MB file of one-letter lines would otherwise take minutes). The rest is an error.
MAX_REQUIREMENT_LINES = 10_000


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
        fact = requirement_fact(
            item.requirement_string,
            path,
            lineno,
            group=group,
            editable=bool(item.is_editable),
            pip_forms=True,
        )
        if fact is not None:
            yield fact
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


def _line_error(path: str, lineno: int, what: str, detail: object) -> ParseError:
    return ParseError(file=path, message=safe_message(f"{what}: {detail}"), line=lineno)


__all__ = ["SOURCE", "RequirementsTxtSource", "parse_requirements_text"]

SOURCE = guarded(RequirementsTxtSource())
