"""``uv.lock``: the versions uv resolved, with the dependency tree.

The project itself (and workspace members) are the entries whose ``source`` is
``editable`` or ``virtual``; they are not emitted as packages. Their ``dependencies``
are the direct packages (group ""), their ``optional-dependencies`` / ``dev-dependencies``
the direct packages of that extra / group. Everything else is ``direct=False``, in the
group of the first root group that reaches it ("" when main reaches it).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

from packaging.utils import canonicalize_name

from depaudit.collectors.sources.base import guarded
from depaudit.collectors.sources.pep508 import clean_url
from depaudit.collectors.sources.pyproject import TomlLines, load_toml
from depaudit.model import Fact, NetworkTarget, Package, ParseError, SourceResult

_ROOT_SOURCES = ("editable", "virtual")
_PYPI = "https://pypi.org/simple"


class UvLockSource:
    """Locked packages of a uv project."""

    name = "uv_lock"

    def matches(self, path: str) -> bool:
        return path.rsplit("/", 1)[-1] == "uv.lock"

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
        locked: list[tuple[Mapping[str, Any], int]] = []
        roots: list[Mapping[str, Any]] = []
        for index, entry in enumerate(packages):
            line = lines.key_line("package", "name", index)
            if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
                facts.append(ParseError(path, "package entry needs a string name", line))
                continue
            source = entry.get("source", {})
            if isinstance(source, Mapping) and any(k in source for k in _ROOT_SOURCES):
                roots.append(entry)
            else:
                locked.append((entry, line))
        groups = _groups_by_package(roots, [e for e, _ in locked])
        direct = {name for name, (_, is_direct) in groups.items() if is_direct}
        registries: set[str] = set()
        for entry, line in locked:
            name = canonicalize_name(entry["name"])
            version = entry.get("version")
            if not isinstance(version, str):
                facts.append(ParseError(path, f"package {name}: version must be a string", line))
                continue
            source = entry.get("source", {})
            source = source if isinstance(source, Mapping) else {}
            url = ""
            if "git" in source:
                url = "git+" + str(source["git"])
            elif "url" in source:
                url = str(source["url"])
            facts.append(
                Package(
                    name=name,
                    file=path,
                    line=line,
                    specifier=f"=={version}",
                    version=version,
                    direct=name in direct,
                    group=groups.get(name, ("", False))[0],
                    url=clean_url(url),
                    manager="uv",
                    requires=tuple(sorted({n for n, _ in _dependency_names(entry)})),
                )
            )
            registry = source.get("registry")
            if isinstance(registry, str) and registry.rstrip("/") != _PYPI:
                target = clean_url(registry)
                if target not in registries:
                    registries.add(target)
                    facts.append(NetworkTarget(target, "index", path, line, key="source.registry"))
        return SourceResult(tuple(facts))


def _dependency_names(entry: Mapping[str, Any], key: str = "dependencies") -> list[tuple[str, str]]:
    """(canonical name, group) of a package's dependency list or dependency tables."""
    value = entry.get(key, [])
    tables: list[tuple[str, Any]] = (
        [(str(g), deps) for g, deps in value.items()]
        if isinstance(value, Mapping)
        else [("", value)]
    )
    out: list[tuple[str, str]] = []
    for group, deps in tables:
        if not isinstance(deps, list):
            continue
        for dep in deps:
            if isinstance(dep, Mapping) and isinstance(dep.get("name"), str):
                out.append((canonicalize_name(dep["name"]), group))
    return out


def _groups_by_package(
    roots: list[Mapping[str, Any]], locked: list[Mapping[str, Any]]
) -> dict[str, tuple[str, bool]]:
    """name -> (group, direct). The group is the first root group (sorted, so main "" wins)
    that reaches the package: a dev tool that main also needs is installed by main."""
    requires: dict[str, list[str]] = {
        canonicalize_name(e["name"]): [n for n, _ in _dependency_names(e)] for e in locked
    }
    starts: dict[str, list[str]] = {}
    for root in roots:
        for key in ("dependencies", "optional-dependencies", "dev-dependencies"):
            for name, group in _dependency_names(root, key):
                starts.setdefault(group, []).append(name)
    direct = {name for names in starts.values() for name in names}
    reached: dict[str, str] = {}
    for group in sorted(starts):
        queue = deque(starts[group])
        seen: set[str] = set()
        while queue:
            name = queue.popleft()
            if name in seen:
                continue
            seen.add(name)
            reached.setdefault(name, group)
            queue.extend(requires.get(name, []))
    return {name: (group, name in direct) for name, group in reached.items()}


SOURCE = guarded(UvLockSource())
