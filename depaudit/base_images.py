"""What a well-known ML base image installs, from its reference alone (nothing is pulled).

``implied_packages("pytorch/pytorch:2.1.0-cuda12.1-cudnn8-runtime")`` gives torch 2.1.0,
torchvision 0.16.0 and torchaudio 2.1.0; ``implied_packages("python:3.11-slim")`` gives
nothing. The knowledge is data: ``depaudit/data/base_images.toml``, one entry per image
family with the reason and the source of its numbers (read that file's header for the
matching rules). This module only reads references and that table:

- registries, mirrors and pull-through caches are tolerated (``nvcr.io/nvidia/pytorch``,
  ``harbor.example.com/dockerhub/pytorch/pytorch``, ``localhost:5000/...``);
- a digest keeps the tag's meaning (``...:2.1.0-runtime@sha256:...``); a digest alone, an
  absent tag (``latest``), an unknown tag or an unsubstituted ``${ARG}`` in the tag imply
  the package with an unknown version, never a guessed one; an ``${ARG}`` in the
  repository (``${BASE_IMAGE}``) implies nothing;
- ``--platform=...`` before the reference is ignored.

Pure: loading the packaged data file once is the only read it does.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

# A reference longer than this is not an image name; nothing is implied (and no regex
# runs on hostile input).
MAX_REFERENCE = 512
_GROUP = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_VARIABLE = re.compile(r"\$\{?[A-Za-z_]")


@dataclass(frozen=True, slots=True)
class ImpliedPackage:
    """A Python distribution an image installs."""

    name: str  # canonical (PEP 503)
    version: str = ""  # exact version, when the tag (or a table keyed by it) says it
    specifier: str = ""  # "==2.1.*" when only the release series is known
    direct: bool = True  # False for what the image bundles beside what it is chosen for
    reason: str = ""  # why the image installs it (the table entry's reason)

    @property
    def detail(self) -> str:
        """``2.1.0``, ``2.1.* series`` or ``unknown version``: for messages."""
        if self.version:
            return self.version
        if self.specifier:
            return f"{self.specifier.removeprefix('==')} series"
        return "unknown version"


@dataclass(frozen=True, slots=True)
class ImageReference:
    """An image reference split tolerantly; ``path`` has no registry and no ``library/``."""

    registry: str  # "" for Docker Hub (or a ${REGISTRY} left unsubstituted)
    path: str  # lower-case, e.g. "pytorch/pytorch", "nvidia/pytorch"
    tag: str  # "" when absent (Docker's "latest")
    digest: str


def parse_reference(image: str) -> ImageReference | None:
    """Split ``[registry/]path[:tag][@digest]``; None when the repository is unknown."""
    words = [w for w in image.split() if not w.startswith("--")]
    if not words or len(words[0]) > MAX_REFERENCE:
        return None
    ref = words[0]
    ref, _, digest = ref.partition("@")
    parts = ref.split("/")
    registry = ""
    if len(parts) > 1 and (
        "." in parts[0] or ":" in parts[0] or parts[0] == "localhost" or _VARIABLE.match(parts[0])
    ):
        registry = parts[0].lower()
        parts = parts[1:]
    tag = ""
    if ":" in parts[-1]:
        parts[-1], _, tag = parts[-1].partition(":")
    path = "/".join(parts).lower()
    if registry in ("", "docker.io", "index.docker.io", "registry-1.docker.io"):
        registry = ""
        path = path.removeprefix("library/")
    if not path or _VARIABLE.search(path) or "{" in path:
        return None
    return ImageReference(registry=registry, path=path, tag=tag, digest=digest)


def implied_packages(image: str) -> tuple[ImpliedPackage, ...]:
    """The packages ``image`` installs, per ``depaudit/data/base_images.toml``; () if unknown."""
    ref = parse_reference(image)
    if ref is None:
        return ()
    for entry in _entries():
        found = entry.implied(ref)
        if found is not None:
            return found
    return ()


# ------------------------------------------------------------------------ table


@dataclass(frozen=True, slots=True)
class _PackageRule:
    name: str
    version: str  # template, "" = always unknown
    series: bool
    table: str
    only_known: bool
    direct: bool
    when_tag: re.Pattern[str] | None
    when_repository: re.Pattern[str] | None


@dataclass(frozen=True, slots=True)
class _Entry:
    id: str
    registry: re.Pattern[str] | None
    repository: re.Pattern[str]
    tag: re.Pattern[str] | None
    tag_required: bool
    reason: str
    packages: tuple[_PackageRule, ...]
    tables: dict[str, dict[str, str]]

    def implied(self, ref: ImageReference) -> tuple[ImpliedPackage, ...] | None:
        """The packages if this entry describes ``ref``; None to try the next entry."""
        if self.registry is not None and not self.registry.search(ref.registry):
            return None
        match = _match_tail(self.repository, ref.path)
        if match is None:
            return None
        groups = {k: v for k, v in match.groupdict().items() if v}
        tag_match = None
        if self.tag is not None and ref.tag and not _VARIABLE.search(ref.tag):
            tag_match = self.tag.match(ref.tag.lower())
        if self.tag_required and tag_match is None:
            return None
        if tag_match is not None:
            groups.update({k: v for k, v in tag_match.groupdict().items() if v})
        out: list[ImpliedPackage] = []
        for rule in self.packages:
            if rule.when_tag is not None and not rule.when_tag.search(ref.tag.lower()):
                continue
            if rule.when_repository is not None and not rule.when_repository.search(ref.path):
                continue
            version, specifier = self._version(rule, groups)
            if rule.only_known and not (version or specifier):
                continue
            out.append(
                ImpliedPackage(rule.name, version, specifier, rule.direct, reason=self.reason)
            )
        return tuple(out)

    def _version(self, rule: _PackageRule, groups: dict[str, str]) -> tuple[str, str]:
        """(exact version, series specifier) of one package; ("", "") when unknown."""
        if not rule.version:
            return "", ""
        names = _GROUP.findall(rule.version)
        if any(n not in groups for n in names):
            return "", ""
        value = _GROUP.sub(lambda m: groups[m.group(1)], rule.version)
        if rule.table:
            value = _lookup(self.tables.get(rule.table, {}), value)
            if not value:
                return "", ""
        if rule.series:
            return "", f"=={value}.*"
        return value, ""


def _match_tail(pattern: re.Pattern[str], path: str) -> re.Match[str] | None:
    """``pattern`` against ``path`` or any tail of it that starts after a ``/`` (mirrors)."""
    start = 0
    while True:
        match = pattern.fullmatch(path, start)
        if match is not None:
            return match
        start = path.find("/", start) + 1
        if start == 0:
            return None


def _lookup(table: dict[str, str], key: str) -> str:
    """``table[key]``, also when the key is written differently (``1.4`` vs ``1.4.0``)."""
    if key in table:
        return table[key]
    try:
        wanted = Version(key)
    except InvalidVersion:
        return ""
    for known, value in table.items():
        try:
            if Version(known) == wanted:
                return value
        except InvalidVersion:
            continue
    return ""


class BaseImageTableError(ValueError):
    """The packaged table is malformed (a bug in depaudit, caught by its tests)."""


@functools.cache
def _entries() -> tuple[_Entry, ...]:
    text = resources.files("depaudit").joinpath("data/base_images.toml").read_text("utf-8")
    return load_table(tomllib.loads(text))


def load_table(data: dict[str, Any]) -> tuple[_Entry, ...]:
    """Entries of a parsed table, every regex compiled; raises BaseImageTableError."""
    tables = {str(k): {str(a): str(b) for a, b in v.items()} for k, v in data["tables"].items()}
    out: list[_Entry] = []
    for raw in data["image"]:
        try:
            if not raw.get("reason") or not raw.get("source"):
                raise BaseImageTableError(f"entry {raw.get('id')!r}: reason and source required")
            rules = tuple(_package_rule(p, tables) for p in raw.get("packages", []))
            out.append(
                _Entry(
                    id=str(raw["id"]),
                    registry=_compile(raw.get("registry")),
                    repository=re.compile(raw["repository"]),
                    tag=_compile(raw.get("tag")),
                    tag_required=raw.get("when", "image") == "tag",
                    reason=str(raw["reason"]),
                    packages=rules,
                    tables=tables,
                )
            )
        except (KeyError, TypeError, re.error) as exc:
            raise BaseImageTableError(f"entry {raw.get('id')!r}: {exc}") from exc
    return tuple(out)


def _package_rule(raw: dict[str, Any], tables: dict[str, dict[str, str]]) -> _PackageRule:
    table = str(raw.get("table", ""))
    if table and table not in tables:
        raise BaseImageTableError(f"unknown table {table!r}")
    name = str(raw["name"])
    if canonicalize_name(name) != name:
        raise BaseImageTableError(f"package {name!r} is not a canonical name")
    return _PackageRule(
        name=name,
        version=str(raw.get("version", "")),
        series=bool(raw.get("series", False)),
        table=table,
        only_known=bool(raw.get("only_known", False)),
        direct=bool(raw.get("direct", True)),
        when_tag=_compile(raw.get("when_tag")),
        when_repository=_compile(raw.get("when_repository")),
    )


def _compile(pattern: object) -> re.Pattern[str] | None:
    return re.compile(str(pattern)) if pattern else None


__all__ = ["ImageReference", "ImpliedPackage", "implied_packages", "parse_reference"]
