"""Which Python installs of a builder stage a ``COPY --from`` carries into the image.

A builder stage installs packages *somewhere*: the image's own interpreter
(``site-packages`` under ``/usr/local/lib`` or ``/usr/lib``), a virtualenv
(``python -m venv /opt/venv``), a ``--prefix`` / ``--target`` / ``--root`` directory,
``--user`` (``~/.local``), a conda prefix, or a wheel directory (``pip wheel -w``).
Those packages reach the shipped image only when a ``COPY --from`` source is that
place, inside it or above it (``/opt`` carries ``/opt/venv``, ``/`` carries everything).
``COPY --from=build /opt /opt`` after a plain ``pip install wandb`` carries nothing:
wandb is in the builder's ``/usr/local/lib/python3.x/site-packages``.

A location may be unknown (an unresolved ``--prefix $PREFIX``); then a source counts
only if it is a conventional place for packages.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Iterable

SYSTEM = ""  # the interpreter the image ships (pip without a venv or prefix)
UNKNOWN = "?"  # somewhere we cannot tell
USER = "~/.local"  # pip install --user
CONDA_BASE = "/opt/conda"

_SYSTEM_SITES = (
    "/usr/local/lib/python*/site-packages",
    "/usr/local/lib/python*/dist-packages",
    "/usr/lib/python*/site-packages",
    "/usr/lib/python*/dist-packages",
)
_USER_SITES = ("/root/.local", "/home/*/.local")
# a source no known install reaches still carries packages when it is one of these
_CONVENTIONAL = re.compile(
    r"(^|/)(site-packages|dist-packages|\.?venv[^/]*|virtualenvs?|wheels?|wheelhouse|"
    r"(mini|ana)?conda\d*|mambaforge|micromamba)(/|$)|^/install(/|$)|^/root/\.local(/|$)|"
    r"^/home/[^/]+/\.local(/|$)"
)
# names of a directory that holds a Python environment (its bin/ first on PATH selects it)
_ENV_NAME = re.compile(
    r"^(\.?venv.*|.*virtualenv.*|\.?env|(mini|ana)?conda\d*|mambaforge|micromamba)$"
)


def absolute(path: str, workdir: str) -> str:
    """``path`` made absolute against ``workdir`` (``~`` stays: whose home is unknown)."""
    if path.startswith("~"):
        return posixpath.normpath(path)
    joined = posixpath.normpath(posixpath.join(workdir or "/", path))
    return "/" + joined.lstrip("/")  # POSIX keeps a leading "//"; a path in an image does not


def prefix_of_program(program: str, workdir: str) -> str | None:
    """``/opt/venv`` for ``/opt/venv/bin/pip`` (or ``.venv/bin/python``); None for a bare name."""
    if "/" not in program:
        return None
    directory = posixpath.dirname(absolute(program, workdir))
    if posixpath.basename(directory) != "bin":
        return None
    return posixpath.dirname(directory) or "/"


def active_environment(variables: dict[str, str], known: Iterable[str], workdir: str) -> str:
    """Where a bare ``pip`` installs given the stage's ENV: ``VIRTUAL_ENV``, else the first
    ``PATH`` entry ``X/bin`` whose ``X`` holds an environment (created in the file, or
    named like one), else the image's interpreter."""
    virtual_env = variables.get("VIRTUAL_ENV", "").strip()
    if virtual_env and "$" not in virtual_env:
        return absolute(virtual_env, workdir)
    envs = set(known)
    for entry in variables.get("PATH", "").split(":"):
        entry = entry.strip().rstrip("/")
        if not entry.endswith("/bin") or "$" in entry:
            continue
        prefix = posixpath.dirname(entry)
        if prefix in envs or _ENV_NAME.match(posixpath.basename(prefix)):
            return prefix
    return SYSTEM


def carries(sources: Iterable[str], location: str) -> bool:
    """True if copying any of ``sources`` (absolute paths in the builder) takes along
    what was installed at ``location``."""
    for source in sources:
        if location == UNKNOWN or "$" in location:
            if _CONVENTIONAL.search(source):
                return True
            continue
        if re.search(r"(^|/)(site|dist)-packages(/|$)", source):
            return True  # whatever was installed, a site-packages directory holds it
        targets = (
            _SYSTEM_SITES
            if location == SYSTEM
            else _USER_SITES
            if location == USER
            else (location,)
        )
        if any(_overlaps(source, target) for target in targets):
            return True
    return False


def _overlaps(source: str, target: str) -> bool:
    """One path is the other or above it (``target`` may hold ``*`` in a component)."""
    source_parts = [p for p in source.split("/") if p]
    target_parts = [p for p in target.split("/") if p]
    return all(fnmatch.fnmatchcase(s, t) for s, t in zip(source_parts, target_parts, strict=False))
