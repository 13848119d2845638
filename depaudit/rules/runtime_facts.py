"""Which runtime facts describe what an environment actually runs.

- A Dockerfile's **final stage** is the image that runs: facts of earlier (builder) stages
  never reach it. A stage starts at its ``FROM`` line, i.e. at a ``base_image`` fact, so
  the final stage of a file is everything at or after the last ``base_image`` line.
- When several files state the same property (``requires-python``, ``.python-version``,
  the Dockerfile), the image wins: it is what serves. Then the first concrete value.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TypeVar

from depaudit.model import EnvironmentSnapshot, Runtime, SystemPackage

_CONCRETE_PYTHON = re.compile(r"^\s*(\d+)\.(\d+)")
FactT = TypeVar("FactT", Runtime, SystemPackage)


def is_dockerfile(path: str) -> bool:
    name = path.rsplit("/", 1)[-1].lower()
    return name.startswith(("dockerfile", "containerfile")) or name.endswith(
        (".dockerfile", ".containerfile")
    )


def final_stage_starts(snapshot: EnvironmentSnapshot) -> dict[str, int]:
    """Dockerfile -> line of its last FROM.

    Only Dockerfiles have stages: a Kubernetes manifest or compose file naming several
    images runs all of them.
    """
    starts: dict[str, int] = {}
    for fact in snapshot.of_type(Runtime):
        if fact.item == "base_image" and is_dockerfile(fact.file):
            starts[fact.file] = max(starts.get(fact.file, 0), fact.line)
    return starts


def in_final_stage(facts: Sequence[FactT], snapshot: EnvironmentSnapshot) -> list[FactT]:
    starts = final_stage_starts(snapshot)
    return [f for f in facts if f.line >= starts.get(f.file, 0)]


def runtime_facts(snapshot: EnvironmentSnapshot, item: str) -> list[Runtime]:
    facts = [f for f in snapshot.of_type(Runtime) if f.item == item]
    return in_final_stage(facts, snapshot)


def preferred(snapshot: EnvironmentSnapshot, item: str) -> Runtime | None:
    """The fact that describes ``item`` for the running environment."""
    facts = runtime_facts(snapshot, item)
    if item == "python":
        concrete = [f for f in facts if concrete_python(f.value)]
        facts = concrete or facts
    image = [f for f in facts if is_dockerfile(f.file)]
    return (image or facts)[0] if facts else None


def concrete_python(value: str) -> str:
    """``3.11`` for ``3.11.4`` / ``3.11`` / ``python3.11``; "" for a specifier like ``>=3.10``."""
    text = value.strip().lower().removeprefix("python").removeprefix("cpython-")
    if text[:1] in "<>=!~^":
        return ""
    match = _CONCRETE_PYTHON.match(text)
    return f"{match.group(1)}.{match.group(2)}" if match else ""


def image_name(ref: str) -> str:
    """``python:3.11-slim`` for ``docker.io/library/python:3.11-slim@sha256:...``."""
    name = ref.split("@", 1)[0].lower()
    for prefix in ("docker.io/library/", "docker.io/", "index.docker.io/library/"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
    return name


def image_digest(ref: str) -> str:
    return ref.split("@", 1)[1] if "@" in ref else ""
