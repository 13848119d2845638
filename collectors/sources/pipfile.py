"""``Pipfile`` (pipenv): ``[packages]``, ``[dev-packages]`` (group "dev"), ``[requires]``.

pipenv also accepts custom package categories (any other table of package entries,
e.g. ``[docs]``); those become groups named after the table. ``[[source]]`` URLs become
index network targets with credentials stripped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from packaging.markers import InvalidMarker
from packaging.specifiers import InvalidSpecifier

from depaudit.collectors.sources.base import guarded
from depaudit.collectors.sources.pep508 import (
    clean_url,
    package_fact,
    safe_message,
)
from depaudit.collectors.sources.pyproject import TomlLines, load_toml
from depaudit.model import Fact, NetworkTarget, ParseError, Runtime, SourceResult

_NOT_CATEGORIES = {"source", "requires", "pipenv", "scripts"}


class PipfileSource:
    """Dependencies declared in a pipenv ``Pipfile``."""

    name = "pipfile"

    def matches(self, path: str) -> bool:
        return path.rsplit("/", 1)[-1] == "Pipfile"

    def parse(self, text: str, path: str) -> SourceResult:
        document = load_toml(text, path)
        if isinstance(document, SourceResult):
            return document
        lines = TomlLines(text)
        facts: list[Fact] = []
        sources = document.get("source", [])
        for index, source in enumerate(sources if isinstance(sources, list) else []):
            url = source.get("url") if isinstance(source, Mapping) else None
            if isinstance(url, str) and url:
                line = lines.key_line("source", "url", index)
                facts.append(NetworkTarget(clean_url(url), "index", path, line, key="source.url"))
        requires = document.get("requires", {})
        if isinstance(requires, Mapping):
            for key in ("python_full_version", "python_version"):
                if isinstance(requires.get(key), str):
                    line = lines.key_line("requires", key)
                    facts.append(
                        Runtime("python", requires[key], path, line, detail=f"requires.{key}")
                    )
                    break
        for table, body in document.items():
            if table in _NOT_CATEGORIES or not isinstance(body, Mapping):
                continue
            group = {"packages": "", "dev-packages": "dev"}.get(table, table)
            for name, entry in body.items():
                line = lines.key_line(table, name)
                facts.append(_package(str(name), entry, path, line, group))
        for table in ("packages", "dev-packages"):
            if table in document and not isinstance(document[table], Mapping):
                facts.append(
                    ParseError(path, f"{table} must be a table", lines.key_line("", table))
                )
        return SourceResult(tuple(facts))


def _package(name: str, entry: Any, path: str, line: int, group: str) -> Fact:
    if isinstance(entry, str):
        entry = {"version": entry}
    if not isinstance(entry, Mapping):
        return ParseError(path, f"{name}: entry must be a string or a table", line)
    raw = entry.get("version", "*")
    raw = raw.strip() if isinstance(raw, str) else "*"
    # pipenv reads a bare version ("1.2") as a pin
    specifier = "" if raw in ("", "*") else ("==" + raw if raw[0].isdigit() else raw)
    url = ""
    if isinstance(entry.get("git"), str):
        ref = entry.get("ref")
        url = "git+" + entry["git"] + (f"@{ref}" if isinstance(ref, str) else "")
    elif isinstance(entry.get("file"), str) or isinstance(entry.get("path"), str):
        url = str(entry.get("file") or entry.get("path"))
    extras = entry.get("extras", [])
    markers = entry.get("markers", "")
    try:
        return package_fact(
            name,
            path,
            line,
            specifier=specifier,
            extras=[str(e) for e in extras] if isinstance(extras, list) else (),
            marker=markers if isinstance(markers, str) else "",
            url=url,
            editable=entry.get("editable") is True,
            group=group,
            manager="pipenv",
        )
    except (InvalidSpecifier, InvalidMarker) as exc:
        return ParseError(path, safe_message(f"{name}: {exc}"), line)


SOURCE = guarded(PipfileSource())
