"""``Pipfile.lock``: the versions pipenv resolved, in ``default`` and ``develop`` (group "dev").

Every entry is ``direct=False``: the lock flattens direct and transitive packages and
does not record which is which (``Pipfile``, read by its own source, holds the direct
ones), nor the dependency tree, so ``requires`` stays empty. ``_meta.sources`` become
index network targets with credentials stripped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from packaging.utils import canonicalize_name

from depaudit.collectors.sources.base import error, guarded
from depaudit.collectors.sources.pep508 import clean_url
from depaudit.model import Fact, NetworkTarget, Package, ParseError, SourceResult

_SECTIONS = {"default": "", "develop": "dev"}


class PipfileLockSource:
    """Locked packages of a pipenv project."""

    name = "pipfile_lock"

    def matches(self, path: str) -> bool:
        return path.rsplit("/", 1)[-1] == "Pipfile.lock"

    def parse(self, text: str, path: str) -> SourceResult:
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            return error(path, f"invalid JSON: {exc.msg}", exc.lineno)
        except RecursionError:
            return error(path, "invalid JSON: nested too deeply")
        if not isinstance(document, Mapping):
            return error(path, "Pipfile.lock must be a JSON object", 1)
        lines = _JsonLines(text)
        facts: list[Fact] = []
        meta = document.get("_meta", {})
        sources = meta.get("sources", []) if isinstance(meta, Mapping) else []
        for source in sources if isinstance(sources, list) else []:
            url = source.get("url") if isinstance(source, Mapping) else None
            if isinstance(url, str) and url:
                line = lines.find(url.split("@")[-1], 0)
                facts.append(
                    NetworkTarget(clean_url(url), "index", path, line, key="_meta.sources.url")
                )
        for section, group in _SECTIONS.items():
            entries = document.get(section, {})
            start = lines.find(f'"{section}"', 0)
            if not isinstance(entries, Mapping):
                facts.append(ParseError(path, f"{section} must be an object", start))
                continue
            line = start
            for name, entry in entries.items():  # json keeps the file's order: walk forward
                line = lines.find(f'"{name}"', line)
                facts.append(_package(str(name), entry, path, line, group))
        return SourceResult(tuple(facts))


def _package(name: str, entry: Any, path: str, line: int, group: str) -> Fact:
    if not isinstance(entry, Mapping):
        return ParseError(path, f"{name}: entry must be an object", line)
    spec = entry.get("version", "")
    spec = spec if isinstance(spec, str) else ""
    version = spec[2:] if spec.startswith("==") and not spec.startswith("===") else ""
    url = ""
    if isinstance(entry.get("git"), str):
        ref = entry.get("ref")
        url = "git+" + entry["git"] + (f"@{ref}" if isinstance(ref, str) else "")
    elif isinstance(entry.get("file"), str) or isinstance(entry.get("path"), str):
        url = str(entry.get("file") or entry.get("path"))
    extras = entry.get("extras", [])
    markers = entry.get("markers", "")
    return Package(
        name=canonicalize_name(name),
        file=path,
        line=line,
        specifier=spec,
        version=version,
        extras=tuple(sorted(canonicalize_name(str(e)) for e in extras))
        if isinstance(extras, list)
        else (),
        marker=markers if isinstance(markers, str) else "",
        direct=False,
        group=group,
        url=clean_url(url),
        editable=entry.get("editable") is True,
        manager="pipenv",
    )


class _JsonLines:
    """First line of a literal at or after a line: json keeps no positions, pipenv indents."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    WINDOW = 1000  # how far past the previous entry the next one is looked for

    def find(self, literal: str, after: int) -> int:
        start = max(after - 1, 0)
        for index in range(start, min(len(self.lines), start + self.WINDOW)):
            if literal in self.lines[index]:
                return index + 1
        return after or 1


SOURCE = guarded(PipfileLockSource())
