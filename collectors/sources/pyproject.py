"""``pyproject.toml``: PEP 621 ``[project]``, PEP 735 ``[dependency-groups]`` and Poetry.

tomllib gives values but no line numbers, so :class:`TomlLines` finds them by searching
the text: the key inside its table, then the quoted string after the key. That is
right for the way people write these files (one table header, one key per line) and
falls back to the table header when the key is written some other way (inline tables,
dotted keys in a parent table).

Poetry 2 lets ``[tool.poetry.dependencies]`` enrich entries already declared in
``[project] dependencies``; such duplicates are dropped so each package appears once.
``[build-system] requires`` is left out: build tools are not installed at runtime.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping
from typing import Any

from packaging.markers import InvalidMarker
from packaging.specifiers import InvalidSpecifier
from packaging.utils import canonicalize_name

from depaudit.collectors.sources.base import error, guarded, squeeze_blanks
from depaudit.collectors.sources.pep508 import (
    normalize_specifier,
    package_fact,
    requirement_fact,
    safe_message,
)
from depaudit.collectors.sources.toml_document import TomlProblem, load_document
from depaudit.model import Entrypoint, Fact, Package, ParseError, Runtime, SourceResult

_HEADER = re.compile(r"^\s*\[\[?\s*([^\]#]+?)\s*\]\]?\s*(#.*)?$")


class TomlLines:
    """Line numbers of keys and string values in TOML text (see the module docstring).

    Each table's keys are indexed once, so finding every key of a big table (or every
    ``[[package]]`` of a lock file) stays linear in the size of the text.
    """

    # how far past the previous item a list item is looked for
    VALUE_WINDOW = 1000

    def __init__(self, text: str) -> None:
        # _HEADER backtracks quadratically on long blank runs (33 KB of spaces: 2 s)
        self.lines = squeeze_blanks(text).splitlines()
        # 0-based indexes of the header lines, and the positions of each table's headers
        self.headers: list[int] = []
        self.positions: dict[str, list[int]] = {}
        for index, line in enumerate(self.lines):
            match = _HEADER.match(line)
            if match:
                self.positions.setdefault(_normalise_key(match.group(1)), []).append(
                    len(self.headers)
                )
                self.headers.append(index)
        self._key_index: dict[tuple[str, int], dict[str, int]] = {}

    def _span(self, table: str, occurrence: int = 0) -> tuple[int, int] | None:
        """Body line range [start, end) of the ``occurrence``-th header named ``table``."""
        if not table:
            return 0, self.headers[0] if self.headers else len(self.lines)
        found = self.positions.get(table, [])
        if occurrence >= len(found):
            return None
        position = found[occurrence]
        start = self.headers[position] + 1
        end = self.headers[position + 1] if position + 1 < len(self.headers) else len(self.lines)
        return start, end

    def header_line(self, table: str, occurrence: int = 0) -> int:
        span = self._span(table, occurrence) if table else None
        return span[0] if span else 0  # the body starts right after the header: 1-based header

    def line_of(self, name: str) -> int:
        """1-based line of ``name`` (dotted), a table header or a key, else 1."""
        parent, _, last = name.rpartition(".")
        return self.header_line(name) or self.key_line(parent, last)

    def key_line(self, table: str, key: str, occurrence: int = 0) -> int:
        """1-based line of ``key = ...`` in ``table``; parent tables with dotted keys next."""
        parts = table.split(".") if table else []
        for cut in range(len(parts), -1, -1):
            parent = ".".join(parts[:cut])
            dotted = ".".join([*parts[cut:], key])
            line = self._keys(parent, occurrence if cut == len(parts) else 0).get(dotted, 0)
            if line:
                return line
        return self.header_line(table, occurrence) or 1

    def _keys(self, table: str, occurrence: int) -> dict[str, int]:
        """Normalised dotted key -> 1-based line, for the keys written in one table body."""
        cached = self._key_index.get((table, occurrence))
        if cached is not None:
            return cached
        keys: dict[str, int] = {}
        span = self._span(table, occurrence)
        for index in range(*(span or (0, 0))):
            match = _KEY.match(self.lines[index])
            if match:
                name = ".".join(p.strip("\"'") for p in _KEY_PART.findall(match.group(1)))
                keys.setdefault(name, index + 1)
        self._key_index[(table, occurrence)] = keys
        return keys

    def value_line(self, after: int, value: str) -> int:
        """1-based line of the quoted ``value`` at or after line ``after`` (else ``after``).

        Callers walking a list pass the previous item's line, so a list is read once.
        """
        needles = (f'"{value}"', f"'{value}'")
        stop = min(len(self.lines), max(after - 1, 0) + self.VALUE_WINDOW)
        for index in range(max(after - 1, 0), stop):
            line = self.lines[index]
            if any(n in line for n in needles):
                return index + 1
            if index >= after and _HEADER.match(line):
                break
        return after


_KEY_PART = re.compile(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""")
_KEY = re.compile(
    r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)


def _normalise_key(raw: str) -> str:
    return ".".join(p.strip("\"'") for p in _KEY_PART.findall(raw))


def load_toml(text: str, path: str) -> dict[str, Any] | SourceResult:
    """The TOML document, or an error result naming the line."""
    document = load_document(text)
    if isinstance(document, TomlProblem):
        return error(path, document.message, document.line)
    return document


# --------------------------------------------------------------------------- poetry


def poetry_specifier(constraint: str) -> str:
    """A Poetry constraint as a PEP 440 specifier: ``^1.2.3`` -> ``>=1.2.3,<2.0.0``.

    Raises InvalidSpecifier for what has no PEP 440 form. ``||`` alternatives have none;
    they give "" (unconstrained), which can never claim a false conflict.
    """
    constraint = constraint.strip()
    if "||" in constraint or constraint in ("", "*"):
        return ""
    parts: list[str] = []
    # Poetry separates AND-ed constraints with commas or spaces: ">=1.2 <2.0", ">= 1.2, < 2".
    for token in re.findall(r"(?:[\^~]=?|[<>=!]=?=?)?\s*[^\s,<>=!^~]+", constraint):
        token = token.replace(" ", "")
        if token.startswith("^"):
            parts.extend(_caret(token[1:]))
        elif token.startswith("~") and not token.startswith("~="):
            parts.extend(_tilde(token[1:]))
        elif token[0].isdigit():
            parts.append("==" + token)
        else:
            parts.append(token)
    return normalize_specifier(",".join(parts))


def _release(version: str) -> list[int]:
    match = re.match(r"^v?(\d+(?:\.\d+)*)", version)
    if not match:
        raise InvalidSpecifier(f"invalid version {version!r}")
    return [int(p) for p in match.group(1).split(".")]


def _caret(version: str) -> list[str]:
    release = _release(version)
    # bump the first non-zero component (the last one if all are zero), keep the length
    first = next((i for i, n in enumerate(release) if n != 0), len(release) - 1)
    upper = [*release[:first], release[first] + 1] + [0] * (len(release) - first - 1)
    return [f">={version}", "<" + ".".join(map(str, upper))]


def _tilde(version: str) -> list[str]:
    release = _release(version)
    bump = 0 if len(release) == 1 else 1
    upper = [*release[:bump], release[bump] + 1] + [0] * (len(release) - bump - 1)
    return [f">={version}", "<" + ".".join(map(str, upper))]


# ---------------------------------------------------------------------------- source


class PyprojectTomlSource:
    """PEP 621 / PEP 735 / Poetry dependency declarations in ``pyproject.toml``."""

    name = "pyproject"

    def matches(self, path: str) -> bool:
        return path.rsplit("/", 1)[-1] == "pyproject.toml"

    def parse(self, text: str, path: str) -> SourceResult:
        document = load_toml(text, path)
        if isinstance(document, SourceResult):
            return document
        reader = _Reader(path, TomlLines(text))
        project = document.get("project", {})
        if isinstance(project, Mapping):
            reader.project(project)
        elif "project" in document:
            reader.wrong_type("project", "", "a table")
        groups = document.get("dependency-groups")
        if groups is not None:
            reader.dependency_groups(groups)
        tool = document.get("tool", {})
        poetry = tool.get("poetry") if isinstance(tool, Mapping) else None
        if isinstance(poetry, Mapping):
            reader.poetry(poetry)
            reader.scripts("tool.poetry.scripts", poetry.get("scripts"))
        if isinstance(project, Mapping):
            reader.scripts("project.scripts", project.get("scripts"))
        return SourceResult(tuple(reader.facts))


class _Reader:
    def __init__(self, path: str, lines: TomlLines) -> None:
        self.path = path
        self.lines = lines
        self.facts: list[Fact] = []

    def wrong_type(self, table: str, key: str, expected: str) -> None:
        where = f"{table}.{key}" if key else table
        line = self.lines.key_line(table, key) if key else self.lines.line_of(table)
        self.facts.append(ParseError(self.path, f"{where} must be {expected}", line))

    def requirement(self, text: str, line: int, group: str, optional: str = "") -> None:
        fact = requirement_fact(text, self.path, line, group=group)
        if isinstance(fact, Package) and optional:
            fact = dataclasses.replace(fact, optional=optional)
        if fact is not None:
            self.facts.append(fact)

    def pep508_list(self, table: str, key: str, value: Any, group: str, optional: str = "") -> None:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.wrong_type(table, key, "a list of strings")
            return
        line = self.lines.key_line(table, key)
        for requirement in value:
            line = self.lines.value_line(line, requirement)
            self.requirement(requirement, line, group, optional)

    # -------------------------------------------------------------------- PEP 621

    def project(self, project: Mapping[str, Any]) -> None:
        if "dependencies" in project:
            self.pep508_list("project", "dependencies", project["dependencies"], "")
        optional = project.get("optional-dependencies", {})
        if not isinstance(optional, Mapping):
            self.wrong_type("project", "optional-dependencies", "a table")
        else:
            for extra, requirements in optional.items():
                self.pep508_list(
                    "project.optional-dependencies", extra, requirements, extra, "extra"
                )
        requires_python = project.get("requires-python")
        if requires_python is not None:
            line = self.lines.key_line("project", "requires-python")
            self.runtime_python(requires_python, line, "project.requires-python", poetry=False)

    def scripts(self, table: str, scripts: Any) -> None:
        """``[project.scripts]`` / ``[tool.poetry.scripts]``: console scripts are where a
        serving package's process starts (``serve = "fraud_api.main:run"``)."""
        if scripts is None:
            return
        if not isinstance(scripts, Mapping):
            self.wrong_type(table, "", "a table")
            return
        for name, target in scripts.items():
            if isinstance(target, Mapping):  # poetry's {reference = ..., type = "file"} form
                target = target.get("reference", "")
            if not isinstance(target, str) or not target.strip():
                self.wrong_type(table, str(name), "a string like 'pkg.module:function'")
                continue
            module = target.split(":", 1)[0].strip()
            line = self.lines.key_line(table, str(name))
            self.facts.append(
                Entrypoint(command=f"{name} = {target}", file=self.path, line=line, module=module)
            )

    def runtime_python(self, value: Any, line: int, where: str, *, poetry: bool) -> None:
        if not isinstance(value, str):
            self.facts.append(ParseError(self.path, f"{where} must be a string", line))
            return
        try:
            spec = poetry_specifier(value) if poetry else normalize_specifier(value)
        except InvalidSpecifier as exc:
            self.facts.append(ParseError(self.path, safe_message(f"{where}: {exc}"), line))
            return
        self.facts.append(Runtime("python", spec, self.path, line, detail=where))

    # -------------------------------------------------------------------- PEP 735

    def dependency_groups(self, groups: Any) -> None:
        if not isinstance(groups, Mapping):
            self.wrong_type("dependency-groups", "", "a table")
            return
        by_normal: dict[str, str] = {canonicalize_name(str(g)): g for g in groups}
        for group in groups:
            # uv installs the ``dev`` group by default; any other only when asked
            optional = "" if canonicalize_name(group) == "dev" else "group"
            for requirement, line in self._expand_group(groups, by_normal, group, ()):
                self.requirement(requirement, line, group, optional)

    def _expand_group(
        self,
        groups: Mapping[str, Any],
        by_normal: Mapping[str, str],
        group: str,
        seen: tuple[str, ...],
    ) -> Iterator[tuple[str, int]]:
        entries = groups[group]
        key_line = self.lines.key_line("dependency-groups", group)
        if not isinstance(entries, list):
            self.wrong_type("dependency-groups", group, "a list")
            return
        line = key_line
        for entry in entries:
            if isinstance(entry, str):
                line = self.lines.value_line(line, entry)
                yield entry, line
                continue
            included = entry.get("include-group") if isinstance(entry, Mapping) else None
            target = (
                by_normal.get(canonicalize_name(included)) if isinstance(included, str) else None
            )
            if target is None or target in seen or target == group:
                problem = "a cycle" if target is not None else f"unknown entry {entry!r}"
                self.facts.append(
                    ParseError(
                        self.path, safe_message(f"dependency-groups.{group}: {problem}"), key_line
                    )
                )
                continue
            yield from self._expand_group(groups, by_normal, target, (*seen, group))

    # --------------------------------------------------------------------- Poetry

    def poetry(self, poetry: Mapping[str, Any]) -> None:
        declared = {(f.name, f.group) for f in self.facts if isinstance(f, Package)}
        tables: list[tuple[str, str, Any]] = [
            ("tool.poetry", "dependencies", poetry.get("dependencies")),
            ("tool.poetry", "dev-dependencies", poetry.get("dev-dependencies")),
        ]
        poetry_groups = poetry.get("group", {})
        if isinstance(poetry_groups, Mapping):
            for name, body in poetry_groups.items():
                deps = body.get("dependencies") if isinstance(body, Mapping) else None
                tables.append((f"tool.poetry.group.{name}", "dependencies", deps))
        for table, key, deps in tables:
            if deps is None:
                continue
            group = _poetry_group(table, key)
            if not isinstance(deps, Mapping):
                self.wrong_type(table, key, "a table")
                continue
            full = f"{table}.{key}"
            for name, constraint in deps.items():
                line = self.lines.key_line(full, name)
                if canonicalize_name(name) == "python":
                    if group == "":
                        value = (
                            constraint.get("version")
                            if isinstance(constraint, Mapping)
                            else constraint
                        )
                        self.runtime_python(value, line, f"{full}.python", poetry=True)
                    continue
                if (canonicalize_name(name), group) in declared:
                    continue  # Poetry 2 enriching a [project] entry
                entries = constraint if isinstance(constraint, list) else [constraint]
                for entry in entries:
                    self.facts.append(self.poetry_package(name, entry, line, group))

    def poetry_package(self, name: str, entry: Any, line: int, group: str) -> Fact:
        where = f"poetry dependency {name}"
        if isinstance(entry, str):
            entry = {"version": entry}
        if not isinstance(entry, Mapping):
            return ParseError(self.path, f"{where} must be a string or a table", line)
        url = ""
        if "git" in entry:
            ref = entry.get("rev") or entry.get("tag") or entry.get("branch")
            url = f"git+{entry['git']}" + (f"@{ref}" if ref else "")
        elif "url" in entry or "path" in entry:
            url = str(entry.get("url") or entry.get("path"))
        extras = entry.get("extras", [])
        markers = entry.get("markers", "")
        try:
            return package_fact(
                name,
                self.path,
                line,
                specifier=poetry_specifier(str(entry.get("version", ""))),
                extras=[str(e) for e in extras] if isinstance(extras, list) else (),
                marker=markers if isinstance(markers, str) else "",
                url=url,
                editable=bool(entry.get("develop", False)),
                group=group,
                manager="poetry",
            )
        except (InvalidSpecifier, InvalidMarker) as exc:
            return ParseError(self.path, safe_message(f"{where}: {exc}"), line)


def _poetry_group(table: str, key: str) -> str:
    if key == "dev-dependencies":
        return "dev"
    if table.startswith("tool.poetry.group."):
        return table.removeprefix("tool.poetry.group.")
    return ""


__all__ = ["SOURCE", "PyprojectTomlSource", "TomlLines", "load_toml", "poetry_specifier"]

SOURCE = guarded(PyprojectTomlSource())
