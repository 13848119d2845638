from __future__ import annotations

import pytest

from depaudit.collectors.sources.python_version import SOURCE
from depaudit.model import ParseError, Runtime


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3.10.12\n", Runtime("python", "3.10.12", ".python-version", 1)),
        ("3.11\n3.10\n2.7\n", Runtime("python", "3.11", ".python-version", 1)),
        ("# pinned for the model\n\n3.12.2\n", Runtime("python", "3.12.2", ".python-version", 3)),
        ("pypy3.9-7.3.9\n", Runtime("python", "3.9", ".python-version", 1, detail="pypy3.9-7.3.9")),
        ("3.13t\n", Runtime("python", "3.13", ".python-version", 1, detail="3.13t")),
        ("3.10.12\r\n", Runtime("python", "3.10.12", ".python-version", 1)),
    ],
)
def test_python_version_file(text: str, expected: Runtime) -> None:
    assert SOURCE.parse(text, ".python-version").facts == (expected,)


def test_runtime_txt() -> None:
    assert SOURCE.parse("python-3.10.12\n", "api/runtime.txt").facts == (
        Runtime("python", "3.10.12", "api/runtime.txt", 1),
    )


@pytest.mark.parametrize(
    ("text", "path"),
    [("system\n", ".python-version"), ("", ".python-version"), ("java-17\n", "runtime.txt")],
)
def test_no_python_version_named_gives_no_fact(text: str, path: str) -> None:
    assert SOURCE.parse(text, path).facts == ()


@pytest.mark.parametrize("text", ["\x00\x00\x00", "3" * 11_000_000])
def test_binary_or_huge_is_an_error(text: str) -> None:
    result = SOURCE.parse(text, ".python-version")
    assert len(result.facts) == 1 and isinstance(result.facts[0], ParseError)


def test_matches() -> None:
    assert SOURCE.matches(".python-version") and SOURCE.matches("serving/runtime.txt")
    assert not SOURCE.matches("python-version.txt") and not SOURCE.matches("requirements.txt")
