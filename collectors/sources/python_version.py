"""``.python-version`` (pyenv) and ``runtime.txt`` (Heroku-style ``python-3.10.12``).

pyenv may list several versions, one per line; the first one is the one ``python``
runs. Non-version entries (``system``) name no version and give no fact. A
``runtime.txt`` that names no Python runtime belongs to another platform: no fact.
"""

from __future__ import annotations

import re

from depaudit.collectors.sources.base import guarded
from depaudit.model import Runtime, SourceResult

# "3.10.12", "3.12t", "pypy3.9-7.3.9", "miniconda3-3.10", "graalpy-23.1" (version after a name)
_PYENV = re.compile(
    r"^(?:(?P<impl>[a-z]+[a-z0-9]*?)-?)?(?P<version>\d+\.\d+(?:\.\d+)?)(?P<tail>\S*)$",
    re.IGNORECASE,
)
_RUNTIME_TXT = re.compile(r"^python-(?P<version>\d+\.\d+(?:\.\d+)?)\s*$", re.IGNORECASE)


class PythonVersionSource:
    """The Python version a repository asks for."""

    name = "python_version"

    def matches(self, path: str) -> bool:
        return path.rsplit("/", 1)[-1] in (".python-version", "runtime.txt")

    def parse(self, text: str, path: str) -> SourceResult:
        runtime_txt = path.rsplit("/", 1)[-1] == "runtime.txt"
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            match = (_RUNTIME_TXT if runtime_txt else _PYENV).match(line[:200])
            if match is None:
                return SourceResult()
            impl = match.groupdict().get("impl") or ""
            detail = line[:100] if impl or match.groupdict().get("tail") else ""
            return SourceResult(
                (Runtime("python", match.group("version"), path, number, detail=detail),)
            )
        return SourceResult()


SOURCE = guarded(PythonVersionSource())
