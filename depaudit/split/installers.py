"""What makes serving install a requirements file, besides ``-r`` lines and Dockerfiles.

A compose / Kubernetes / cluster spec that runs ``pip install -r FILE`` (a compose
``command:``, a SkyPilot ``setup:`` block, an Anyscale ``post_build_cmds`` entry, a CodeBuild
``commands:`` list) is read by the collectors as a config value or an entrypoint command,
not as an include. :func:`command_installers` finds the ones that name a given repository
file — by a path relative to the spec's folder or to the repository root, or by a URL that
ends with the file's path (a raw URL of the repository's own file) — so the split can point
them at serving's copy, or say which one a human has to change.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from depaudit.model import ConfigEntry, Entrypoint, EnvironmentSnapshot

_PIP = re.compile(r"(^|[\s/\"'])(pip3?|uv\s+pip|pip\s*-m|-m\s+pip)(\s|$)")
_FLAGS = ("-r", "--requirement")
_VARIABLE = re.compile(r"^\$(\{\w+\}|\w+)/")  # "$CODEBUILD_SRC_DIR/…", "${WORKDIR}/…"


@dataclass(frozen=True, slots=True)
class CommandInstaller:
    """A ``pip install -r TARGET`` in a spec's value or command, naming a repo file."""

    file: str  # the spec
    line: int  # the line of the value's key (a block value starts there)
    lines: int  # how many lines the value spans from ``line``
    target: str  # as written
    kind: Literal["path", "url"]


def requirement_targets(command: str) -> list[str]:
    """The ``-r`` / ``--requirement`` targets of the pip commands in ``command`` (a shell
    line, a block of lines, or a JSON / YAML list joined by spaces)."""
    out: list[str] = []
    for line in command.splitlines():
        if not _PIP.search(line):
            continue
        words = _words(line)
        for index, word in enumerate(words):
            word = word.strip("\"',[]")
            if word in _FLAGS and index + 1 < len(words):
                out.append(words[index + 1].strip("\"',[]"))
            elif word.startswith("--requirement="):
                out.append(word.removeprefix("--requirement="))
            elif word.startswith("-r") and len(word) > 2 and not word.startswith("--"):
                out.append(word[2:])
    return [t for t in out if t and not t.startswith("-")]


def _words(line: str) -> list[str]:
    """Shell words of ``line``; a quoted word holding a command (``sh -c "pip …"``, a
    JSON list's item) is split into its own words."""
    try:
        words = shlex.split(line, comments=False, posix=True)
    except ValueError:
        words = line.split()
    out: list[str] = []
    for word in words:
        inner = word.strip("\"',[]")
        out.extend(inner.split() if " " in inner and _PIP.search(inner) else [word])
    return out


def names_path(target: str, spec: str, path: str) -> bool:
    """True if ``target`` (written in ``spec``) is the repository file ``path``: relative
    to the spec's folder, to the root, or after a leading ``$VARIABLE/`` (a CI checkout
    root such as ``$CODEBUILD_SRC_DIR``)."""
    raw = _VARIABLE.sub("", target.strip())
    if not raw or "$" in raw or raw.startswith(("/", "~")) or "://" in raw:
        return False
    folder = posixpath.dirname(spec)
    candidates = {posixpath.normpath(raw), posixpath.normpath(posixpath.join(folder, raw))}
    return path in candidates


def url_names(target: str, path: str) -> bool:
    """True if ``target`` is an http(s) URL whose path ends with ``/path`` (the raw URL of
    the repository's own file on a forge: ``…/main/requirements.txt``)."""
    if not target.startswith(("http://", "https://")):
        return False
    return urlsplit(target).path.endswith("/" + path)


def _values(env: EnvironmentSnapshot) -> Iterator[tuple[str, int, str]]:
    for fact in env.facts:
        if isinstance(fact, ConfigEntry) and not fact.secret:
            yield fact.file, fact.line, fact.value
        elif isinstance(fact, Entrypoint):
            yield fact.file, fact.line, fact.command


def command_installers(env: EnvironmentSnapshot, path: str) -> list[CommandInstaller]:
    """The spec values and commands of ``env`` that pip-install the requirements file
    ``path`` (code files are not specs: their strings are not commands it runs)."""
    out: set[CommandInstaller] = set()
    for file, line, value in _values(env):
        if not file or file.endswith((".py", ".ipynb")) or "pip" not in value:
            continue
        span = value.count("\n") + 1
        for target in requirement_targets(value):
            if names_path(target, file, path):
                out.add(CommandInstaller(file, line, span, target, "path"))
            elif url_names(target, path):
                out.add(CommandInstaller(file, line, span, target, "url"))
    return sorted(out, key=lambda i: (i.file, i.line, i.target))


def spec_files(env: EnvironmentSnapshot) -> set[str]:
    """Files of ``env`` whose values or commands run ``pip install -r`` (what
    :func:`command_installers` may point at serving's copy)."""
    return {
        file
        for file, _, value in _values(env)
        if file
        and not file.endswith((".py", ".ipynb"))
        and "pip" in value
        and requirement_targets(value)
    }
