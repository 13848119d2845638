"""The one size / binary guard every source goes through (``base.GuardedSource``).

Sources used to repeat the check (or forget it, or word it their own way); now the
registry and each module's ``SOURCE`` wrap the parser, so an oversized or binary text
never reaches a parser and gives the same one-line error whichever source reads it.
"""

from __future__ import annotations

import importlib

import pytest

from depaudit.collectors.sources import SOURCE_MODULES, all_sources
from depaudit.collectors.sources.base import MAX_FILE_BYTES, GuardedSource, guarded
from depaudit.model import ParseError, SourceResult

# a path each registered source reads, so the guard is tried in front of every parser
PATHS = {
    "requirements": "api/requirements-prod.txt",
    "pyproject": "svc/pyproject.toml",
    "poetry_lock": "svc/poetry.lock",
    "uv_lock": "uv.lock",
    "pipfile_lock": "Pipfile.lock",
    "pipfile": "Pipfile",
    "setup_cfg": "lib/setup.cfg",
    "conda": "envs/environment-gpu.yml",
    "python_version": ".python-version",
    "dockerfile": "deploy/Dockerfile.api",
    "compose": "compose.yaml",
    "python": "api/main.py",
    "notebook": "notebooks/eda.ipynb",
    "makefile": "Makefile",
    "config": "conf/settings.json",
}
# modules whose own SOURCE is built guarded (the others are guarded by the registry)
GUARDED_MODULES = [m for m in SOURCE_MODULES if m not in ("python_code", "config_files", "compose")]


class Spy:
    name = "spy"

    def __init__(self) -> None:
        self.calls = 0

    def matches(self, path: str) -> bool:
        return True

    def parse(self, text: str, path: str) -> SourceResult:
        self.calls += 1
        return SourceResult()


def test_every_registered_source_is_guarded_and_has_a_path_here() -> None:
    sources = all_sources()
    assert all(isinstance(s, GuardedSource) for s in sources)
    assert {s.name for s in sources} == set(PATHS)
    for source in sources:
        assert source.matches(PATHS[source.name]), source.name


@pytest.mark.parametrize("module", GUARDED_MODULES)
def test_module_sources_are_built_guarded(module: str) -> None:
    source = importlib.import_module(f"depaudit.collectors.sources.{module}").SOURCE
    assert isinstance(source, GuardedSource)


@pytest.mark.parametrize("source", all_sources(), ids=lambda s: s.name)
def test_oversized_text_is_one_error_from_every_source(source: GuardedSource) -> None:
    path = PATHS[source.name]
    text = "a" * (MAX_FILE_BYTES + 7)
    assert source.parse(text, path).facts == (
        ParseError(path, f"file too large ({MAX_FILE_BYTES + 7} characters, limit 10485760)", 0),
    )


@pytest.mark.parametrize("source", all_sources(), ids=lambda s: s.name)
@pytest.mark.parametrize("where", ["start", "middle", "end"])
def test_binary_text_is_one_error_from_every_source(source: GuardedSource, where: str) -> None:
    path = PATHS[source.name]
    body = "name: x\n" * 2000  # the NUL past the snapshot builder's 8 KB sniff, too
    text = {"start": "\x00" + body, "middle": body + "\x00" + body, "end": body + "\x00"}[where]
    assert source.parse(text, path).facts == (
        ParseError(path, "binary file (contains NUL bytes)", 0),
    )


@pytest.mark.parametrize(
    ("size", "reaches_parser"),
    [(MAX_FILE_BYTES - 1, True), (MAX_FILE_BYTES, True), (MAX_FILE_BYTES + 1, False)],
)
def test_limit_is_inclusive_and_a_rejected_text_never_reaches_the_parser(
    size: int, reaches_parser: bool
) -> None:
    spy = Spy()
    result = guarded(spy).parse("x" * size, "f.txt")
    assert spy.calls == (1 if reaches_parser else 0)
    assert (result.facts == ()) is reaches_parser


def test_guarding_twice_wraps_once() -> None:
    spy = Spy()
    once = guarded(spy)
    assert guarded(once) is once
    assert once.name == "spy" and once.inner is spy
