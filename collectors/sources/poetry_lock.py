"""``poetry.lock``: the versions Poetry resolved.

Every entry is ``direct=False``: a poetry.lock does not record which packages the
project asks for (that is ``pyproject.toml``, read by its own source, whose entries are
direct). The group comes from ``groups`` (Poetry >= 1.5 / 2.x) or the older ``category``;
``main`` is the default group "". ``requires`` lists each package's dependencies, which
gives the dependency tree. Private sources (``[package.source]`` of type ``legacy``)
become index network targets, credentials stripped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from packaging.utils import canonicalize_name

from depaudit.collectors.sources.base import guarded
from depaudit.collectors.sources.pep508 import clean_url
from depaudit.collectors.sources.pyproject import TomlLines, load_toml
from depaudit.model import Fact, NetworkTarget, Package, ParseError, SourceResult


class PoetryLockSource:
    """Locked packages of a Poetry project."""

    name = "poetry_lock"

    def matches(self, path: str) -> bool:
        return path.rsplit("/", 1)[-1] == "poetry.lock"

    def parse(self, text: str, path: str) -> SourceResult:
        document = load_toml(text, path)
        if isinstance(document, SourceResult):
            return document
        packages = document.get("package", [])
        lines = TomlLines(text)
        if not isinstance(packages, list):
            line = lines.line_of("package")
            return SourceResult((ParseError(path, "package must be an array of tables", line),))
        facts: list[Fact] = []
        indexes: set[str] = set()
        for index, entry in enumerate(packages):
            line = lines.key_line("package", "name", index)
            fact = _package(entry, path, line)
            facts.append(fact)
            source = entry.get("source") if isinstance(entry, Mapping) else None
            if isinstance(source, Mapping) and source.get("type") == "legacy":
                url = clean_url(str(source.get("url", "")))
                if url and url not in indexes:
                    indexes.add(url)
                    facts.append(NetworkTarget(url, "index", path, line, key="package.source.url"))
        return SourceResult(tuple(facts))


def _package(entry: Any, path: str, line: int) -> Fact:
    if not isinstance(entry, Mapping):
        return ParseError(path, "package entry must be a table", line)
    name, version = entry.get("name"), entry.get("version")
    if not isinstance(name, str) or not isinstance(version, str):
        return ParseError(path, "package entry needs a string name and version", line)
    dependencies = entry.get("dependencies", {})
    if not isinstance(dependencies, Mapping):
        return ParseError(path, f"package {name}: dependencies must be a table", line)
    markers = entry.get("markers", "")
    source = entry.get("source")
    url = ""
    if isinstance(source, Mapping) and source.get("type") in ("git", "url", "file", "directory"):
        ref = source.get("resolved_reference") or source.get("reference")
        prefix = "git+" if source.get("type") == "git" else ""
        url = prefix + str(source.get("url", "")) + (f"@{ref}" if ref and prefix else "")
    return Package(
        name=canonicalize_name(name),
        file=path,
        line=line,
        specifier=f"=={version}",
        version=version,
        marker=markers if isinstance(markers, str) else "",
        direct=False,
        group=_group(entry),
        url=clean_url(url),
        manager="poetry",
        requires=tuple(sorted({canonicalize_name(str(d)) for d in dependencies})),
    )


def _group(entry: Mapping[str, Any]) -> str:
    groups = entry.get("groups")
    if isinstance(groups, list) and groups:
        names = [str(g) for g in groups]
        return "" if "main" in names else sorted(names)[0]
    category = entry.get("category", "main")
    return "" if category == "main" else str(category)


SOURCE = guarded(PoetryLockSource())
