"""Source modules, one per file format, each exporting ``SOURCE`` (see ``base.Source``).

Order matters: the first source whose ``matches(path)`` is true reads the file, so
specific formats (``poetry.lock``, compose files, conda ``environment.yml``) come before
the generic config reader. Modules are imported lazily on first use.
"""

from __future__ import annotations

import functools
import importlib

from depaudit.collectors.sources.base import Source, guarded

# module names under depaudit.collectors.sources, in match order
SOURCE_MODULES: tuple[str, ...] = (
    "requirements",
    "pyproject",
    "poetry_lock",
    "uv_lock",
    "pipfile_lock",
    "pipfile",
    "setup_cfg",
    "conda",
    "python_version",
    "dockerfile",
    "compose",
    "makefile",
    "python_code",
    "notebook",  # .ipynb code cells (config_files skips notebooks; listed before it anyway)
    "config_files",  # YAML (incl. Kubernetes manifests, detected by content), JSON, TOML, INI, .env
)


@functools.cache
def all_sources() -> tuple[Source, ...]:
    found: list[Source] = []
    for name in SOURCE_MODULES:
        try:
            module = importlib.import_module(f"depaudit.collectors.sources.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"depaudit.collectors.sources.{name}":
                continue  # not built yet in this checkout
            raise
        found.append(guarded(module.SOURCE))  # the one size / binary guard
    return tuple(found)


@functools.cache
def source_for(path: str) -> Source | None:
    """The source that reads ``path``, or None if it is not an environment file."""
    for source in all_sources():
        if source.matches(path):
            return source
    return None


def include_source(path: str) -> Source:
    """The source that reads a file named by ``-r`` / ``-c`` (``pip install -r``).

    pip reads whatever such a line names as a requirements file (``-r base.txt``,
    ``-c common.txt``, ``-r prod``); a name another source recognises is read by it.
    """
    found = source_for(path)
    if found is not None:
        return found
    requirements: Source = importlib.import_module(
        "depaudit.collectors.sources.requirements"
    ).SOURCE
    return requirements
