"""Hostile Dockerfiles: work stays linear, and every bound is one error (field test item 7).

``RUN pip install`` with 100,000 packages took 28 s because the line of each package
was found by rescanning the instruction's text. Speed is measured by
``bench/bench_dockerfile.py``; here the *work* is counted (characters the line search
reads), and each bound on what one file can make the parser read gives one error while
what came before it is kept.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from depaudit.collectors.sources import dockerfile
from depaudit.collectors.sources.dockerfile import SOURCE
from depaudit.collectors.sources.dockerfile_syntax import instructions
from depaudit.model import ConfigEntry, NetworkTarget, Package, ParseError, SystemPackage

F = "serving/Dockerfile"


def continued_pip(n: int) -> str:
    body = " \\\n    ".join(f'"feature-pkg-{i}[extra]>={i % 9}.{i % 7}"' for i in range(n))
    return f"FROM python:3.11-slim\nRUN pip install --no-cache-dir \\\n    {body}\n"


def continued_apt(n: int) -> str:
    body = " \\\n      ".join(f"libfoo{i}-dev=1.{i}" for i in range(n))
    return f"FROM ubuntu:22.04\nRUN apt-get update && apt-get install -y \\\n      {body}\n"


def continued_urls(n: int) -> str:
    body = " \\\n  && ".join(
        f"curl -fsSL https://ci:tok{i}@files{i}.example.com/a{i}.tgz" for i in range(n)
    )
    return f"FROM python:3.11-slim\nRUN {body}\n"


def continued_env(n: int) -> str:
    body = " \\\n    ".join(f"FEATURE_{i}=value{i}" for i in range(n))
    return f"FROM python:3.11-slim\nENV {body}\n"


@pytest.mark.parametrize("make", [continued_pip, continued_apt, continued_urls, continued_env])
def test_finding_lines_reads_each_character_a_bounded_number_of_times(
    make: Callable[[int], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    finders: list[dockerfile._LineFinder] = []
    original = dockerfile._LineFinder.__init__

    def recording(self: dockerfile._LineFinder, *args: object) -> None:
        original(self, *args)  # type: ignore[arg-type]
        finders.append(self)

    monkeypatch.setattr(dockerfile._LineFinder, "__init__", recording)
    for n in (500, 2000, 800):  # rescanning per item read n^2 / 2 lines: 2000 -> 2,000,000
        finders.clear()
        text = make(n)
        facts = list(SOURCE.parse(text, F))
        assert len(facts) > min(n, 500)
        assert sum(f.scanned for f in finders) <= 2 * len(text), n


def test_lines_are_still_exact_in_a_long_continued_install() -> None:
    facts = list(SOURCE.parse(continued_pip(3000), F))
    lines = {f.name: f.line for f in facts if isinstance(f, Package)}
    assert lines["feature-pkg-0"] == 3 and lines["feature-pkg-2999"] == 3002
    apt = {
        f.name: f.line for f in SOURCE.parse(continued_apt(3000), F) if isinstance(f, SystemPackage)
    }
    assert apt["libfoo0-dev"] == 3 and apt["libfoo2999-dev"] == 3002


def test_a_long_continued_instruction_is_one_instruction() -> None:
    text = continued_pip(5000)
    (_, run) = instructions(text)
    assert (run.start, run.end) == (2, 5002)
    assert run.value.count("feature-pkg-") == 5000


def errors(text: str) -> list[ParseError]:
    return [f for f in SOURCE.parse(text, F) if isinstance(f, ParseError)]


def one_line_pip(n: int) -> str:
    return "FROM python:3.11\nRUN pip install " + " ".join(f"p{i}" for i in range(n)) + "\n"


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        (
            one_line_pip(dockerfile.MAX_INSTALLS + 5),
            f"more than {dockerfile.MAX_INSTALLS} packages installed; the rest is not read",
            2,
        ),
        (
            "FROM python:3.11\n"
            + "# generated\n" * dockerfile.MAX_LINES
            + "RUN pip install late\n",
            f"more than {dockerfile.MAX_LINES} lines; the rest is not read",
            dockerfile.MAX_LINES + 1,
        ),
        (
            "FROM python:3.11\n"
            + "".join(f"LABEL n{i}=x\n" for i in range(dockerfile.MAX_INSTRUCTIONS)),
            f"more than {dockerfile.MAX_INSTRUCTIONS} instructions; the rest is not read",
            dockerfile.MAX_INSTRUCTIONS + 1,
        ),
        (
            continued_env(dockerfile.MAX_KEYS + 3),
            f"more than {dockerfile.MAX_KEYS} ENV / ARG keys; the rest is not read",
            2,
        ),
        (
            "FROM python:3.11\nRUN "
            + " && ".join(
                f"curl https://h{i}.example.com/x" for i in range(dockerfile.MAX_URLS + 2)
            ),
            f"more than {dockerfile.MAX_URLS} URLs in RUN commands; the rest is not read",
            2,
        ),
        (
            "FROM python:3.11\nRUN <<EOF\n"
            + "echo a b c d\n" * (dockerfile.MAX_SHELL_WORDS // 5)
            + "pip install late\nEOF\n",
            f"RUN commands longer than {dockerfile.MAX_SHELL_WORDS} words; the rest is not read",
            2,
        ),
    ],
    ids=["installs", "lines", "instructions", "keys", "urls", "shell-words"],
)
def test_each_bound_is_one_error_and_what_came_before_is_kept(
    text: str, message: str, line: int
) -> None:
    facts = list(SOURCE.parse(text, F))
    assert [(e.message, e.line) for e in facts if isinstance(e, ParseError)] == [(message, line)]
    assert any(f.line == 1 for f in facts)  # the base image, read before the bound
    assert "late" not in {f.name for f in facts if isinstance(f, Package)}


def test_facts_before_a_bound_are_all_there() -> None:
    facts = list(SOURCE.parse(one_line_pip(dockerfile.MAX_INSTALLS + 5), F))
    names = {f.name for f in facts if isinstance(f, Package)}
    assert len(names) == dockerfile.MAX_INSTALLS
    assert {"p0", f"p{dockerfile.MAX_INSTALLS - 1}"} <= names
    keys = [f for f in SOURCE.parse(continued_env(100), F) if isinstance(f, ConfigEntry)]
    assert len(keys) == 100
    urls = [f for f in SOURCE.parse(continued_urls(50), F) if isinstance(f, NetworkTarget)]
    assert len(urls) == 50 and not any("tok" in u.target for u in urls)
