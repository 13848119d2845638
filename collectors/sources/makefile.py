"""Makefiles: the images their recipes build (``docker build``), with tags and build args.

Book and course repositories build their images from a Makefile: one target builds a
base image from a shared folder, others pass it to the training and serving Dockerfiles
with ``--build-arg FROM_IMAGE=$(BASE_IMAGE)``. Each ``docker build`` / ``docker buildx
build`` / ``docker image build`` of a recipe becomes an :class:`ImageBuild` fact, with
Make variables expanded (``NAME = value``, ``:=``, ``?=``, ``+=``, ``export NAME``) and
paths resolved against the folder ``make`` runs in (the Makefile's, or a ``cd dir &&``
before the command). Nothing is executed: ``$(shell ...)`` and unknown variables stay
as written, and a build whose Dockerfile path still holds one is left out.
"""

from __future__ import annotations

import posixpath
import re
import shlex

from depaudit.collectors.sources.base import guarded
from depaudit.model import Fact, ImageBuild, SourceResult

_NAMES = frozenset({"makefile", "gnumakefile"})
_ASSIGN = re.compile(r"^(?:export\s+|override\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*([:?+]?=)\s*(.*)$")
_VAR = re.compile(r"\$[({]([A-Za-z_][A-Za-z0-9_.-]*)[)}]")
_BUILD = re.compile(r"\bdocker\s+(?:buildx\s+build|image\s+build|build)\b")
_MAX_EXPANSIONS = 16
_MAX_COMMAND = 20_000  # characters of one (joined) recipe command worth splitting


class MakefileSource:
    name = "makefile"

    def matches(self, path: str) -> bool:
        name = path.rsplit("/", 1)[-1].lower()
        return name in _NAMES or name.endswith(".mk")

    def parse(self, text: str, path: str) -> SourceResult:
        lines = _logical_lines(text)
        variables: dict[str, str] = {}
        for _, line in lines:
            if line.startswith("\t"):
                continue
            match = _ASSIGN.match(line.strip())
            if match is None:
                continue
            name, op, value = match.groups()
            if op == "?=" and name in variables:
                continue
            variables[name] = (
                (variables.get(name, "") + " " + value).strip() if op == "+=" else value.strip()
            )
        facts: list[Fact] = []
        folder = posixpath.dirname(path)
        for number, line in lines:
            if not line.startswith("\t") or not _BUILD.search(line):
                continue
            command = _expand(line.strip().lstrip("@-+").strip(), variables)
            if len(command) > _MAX_COMMAND:
                continue
            for part in re.split(r"&&|;|\|\|", command):
                part = part.strip()
                if part.startswith("cd "):
                    target = part[3:].strip().strip("'\"")
                    folder = _join(folder, target)
                    continue
                found = _build(part, folder, path, number)
                if found is not None:
                    facts.append(found)
            folder = posixpath.dirname(path)  # every recipe line runs in its own shell
        return SourceResult(tuple(facts))


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Lines with backslash continuations joined, each with its first line's number."""
    out: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        if raw.endswith("\\"):
            pending.append(raw[:-1])
            continue
        pending.append(raw)
        out.append((start, " ".join(p.strip() if i else p for i, p in enumerate(pending))))
        pending = []
    if pending:
        out.append((start, " ".join(pending)))
    return out


def _expand(text: str, variables: dict[str, str]) -> str:
    for _ in range(_MAX_EXPANSIONS):
        expanded = _VAR.sub(lambda m: variables.get(m.group(1), m.group(0)), text)
        if expanded == text:
            break
        text = expanded
    return text


def _join(folder: str, target: str) -> str:
    joined = posixpath.normpath(posixpath.join(folder, target)) if target else folder
    return "" if joined in (".", "") else joined


def _build(command: str, folder: str, path: str, line: int) -> ImageBuild | None:
    """The build a shell command runs, when ``docker`` is the program it runs (not a
    word inside an ``echo`` string)."""
    try:
        words = shlex.split(command, comments=False)
    except ValueError:
        words = command.split()
    while words and ("=" in words[0] or words[0] in ("sudo", "env", "exec")):
        words = words[1:]
    if len(words) < 2 or words[0] != "docker":
        return None
    if words[1] == "build":
        words = words[2:]
    elif words[1:3] in (["buildx", "build"], ["image", "build"]):
        words = words[3:]
    else:
        return None
    tag = dockerfile = ""
    args: list[str] = []
    positional: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        value = words[i + 1] if i + 1 < len(words) else ""
        flag, eq, inline = word.partition("=")
        if flag in ("-t", "--tag", "-f", "--file", "--build-arg") and not eq:
            i += 2
        elif word.startswith("-"):
            value = inline
            i += 1
        else:
            positional.append(word)
            i += 1
            continue
        if flag in ("-t", "--tag") and not tag:
            tag = value
        elif flag in ("-f", "--file"):
            dockerfile = value
        elif flag == "--build-arg" and "=" in value:
            args.append(value)
    context = _join(folder, positional[-1]) if positional else folder
    dockerfile = _join(folder, dockerfile) if dockerfile else _join(context, "Dockerfile")
    if "$" in dockerfile or dockerfile.startswith(".."):
        return None  # a variable we cannot know, or outside the tree
    return ImageBuild(tag, dockerfile, context, tuple(args), path, line)


SOURCE = guarded(MakefileSource())
