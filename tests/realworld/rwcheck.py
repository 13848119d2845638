"""Run ``depaudit check --rev HEAD --format json`` on a fixture repository and read it back.

The real-world fixtures (tests/realworld/test_rw_*.py) are small synthetic repositories
shaped after public ML repositories (see each module's docstring). Each is committed as a
real git history with :class:`tests.gitrepo.GitRepo` and audited by the ``depaudit``
console script, exactly as a user or a CI job runs it. What the tests compare:

- **pairs**: which training environment was compared with which serving environment.
  The JSON report's ``pairs`` are used when the report has them; otherwise the
  ``pairs compared:`` block ``check`` prints on stderr. Environments are named by the
  tool, and those names are a presentation choice, so the tests name each side by a
  file only that side holds (an *anchor*): ``("lesson_a/train.py",
  "lesson_a/app.py")`` is the pair whose training environment holds ``train.py`` and
  whose serving environment holds ``app.py``.
- **rows**: ``(status, rule, item, file, line)`` of every ``leftover`` / ``drift``
  finding of kind ``package`` or ``runtime`` — the exact set a careful auditor expects;
  anything else is a false positive, anything missing a miss.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.gitrepo import GitRepo

DEPAUDIT = str(Path(sys.executable).parent / "depaudit")

Row = tuple[str, str, str, str, int]  # (status, rule, item, file, line)
Anchor = tuple[str, str]  # (a file of the training side, a file of the serving side)

# Findings whose (status, kind) the exact-set expectations cover.
COMPARED_STATUSES = frozenset({"leftover", "drift"})
COMPARED_KINDS = frozenset({"package", "runtime"})


@dataclass(frozen=True)
class Environment:
    name: str
    role: str
    origin: str
    files: dict[str, str] = field(default_factory=dict)  # path -> why it is there


@dataclass(frozen=True)
class PairLine:
    training: str
    serving: str
    reason: str


@dataclass(frozen=True)
class Assignment:
    """What ``check`` prints on stderr before the report: environments, pairs, the rest."""

    environments: dict[str, Environment]
    pairs: list[PairLine]
    unpaired: dict[str, str]  # environment -> why it is compared with nothing
    unassigned: list[str]  # "not in any environment: a, b, c" (the first 20)


_ENV = re.compile(r"^  (?P<name>\S.*?) \[(?P<role>training|serving), (?P<origin>[^\]]+)\]$")
_FILE = re.compile(r"^    (?P<path>\S.*?)  <- (?P<reason>.*)$")
_PAIR = re.compile(r"^  (?P<training>\S.*?) x (?P<serving>\S.*?)  <- (?P<reason>.*)$")
_UNPAIRED = re.compile(r"^  (?P<name>\S.*?) is compared with nothing: (?P<why>.*)$")
_UNASSIGNED = "  not in any environment: "


def parse_assignment(stderr: str) -> Assignment:
    """Read the environment / pair listing ``depaudit check`` prints on stderr.

    Lines it does not know (progress, warnings) are skipped, so a new log line does not
    break the reader; a listing that is not there at all gives empty results, which the
    tests' exact expectations then report.
    """
    envs: dict[str, Environment] = {}
    pairs: list[PairLine] = []
    unpaired: dict[str, str] = {}
    unassigned: list[str] = []
    section = ""
    current: Environment | None = None
    for line in stderr.splitlines():
        if line.startswith("environments ("):
            section = "environments"
            continue
        if line.startswith("pairs compared:"):
            section = "pairs"
            continue
        if line.startswith(_UNASSIGNED):
            unassigned.extend(p.strip() for p in line[len(_UNASSIGNED) :].split(", ") if p)
            continue
        if m := _UNPAIRED.match(line):
            unpaired[m["name"]] = m["why"]
            continue
        if section == "environments":
            if m := _ENV.match(line):
                current = Environment(m["name"], m["role"], m["origin"])
                envs[current.name] = current
            elif (m := _FILE.match(line)) and current is not None:
                current.files[m["path"]] = m["reason"]
        elif section == "pairs" and (m := _PAIR.match(line)):
            pairs.append(PairLine(m["training"], m["serving"], m["reason"]))
    return Assignment(envs, pairs, unpaired, unassigned)


@dataclass(frozen=True)
class CheckResult:
    returncode: int
    stdout: str
    stderr: str
    report: dict[str, Any]
    assignment: Assignment

    @property
    def findings(self) -> list[dict[str, Any]]:
        return list(self.report.get("findings", []))

    @property
    def pairs(self) -> list[PairLine]:
        """Pairs from the JSON report when it carries them, else from stderr."""
        given = self.report.get("pairs")
        if isinstance(given, list) and given:
            return [
                PairLine(
                    str(p.get("training") or p.get("training_env") or ""),
                    str(p.get("serving") or p.get("serving_env") or ""),
                    str(p.get("reason", "")),
                )
                for p in given
                if isinstance(p, Mapping)
            ]
        return self.assignment.pairs

    def env(self, name: str) -> Environment:
        return self.assignment.environments.get(name, Environment(name, "?", "?"))

    def env_holding(self, path: str, role: str) -> list[str]:
        """Names of the environments of ``role`` that hold ``path``."""
        return sorted(
            e.name
            for e in self.assignment.environments.values()
            if e.role == role and path in e.files
        )

    def anchored_pairs(self, anchors: Iterable[Anchor]) -> tuple[set[Anchor], list[str]]:
        """The expected anchor pairs found among the pairs, and every pair no anchor names
        (shown as ``training x serving`` with the files of each side)."""
        anchors = list(anchors)
        found: set[Anchor] = set()
        unexpected: list[str] = []
        for pair in self.pairs:
            t, s = self.env(pair.training), self.env(pair.serving)
            hits = [a for a in anchors if a[0] in t.files and a[1] in s.files]
            found.update(hits)
            if not hits:
                unexpected.append(
                    f"{pair.training} {sorted(t.files)} x {pair.serving} {sorted(s.files)}"
                    f" <- {pair.reason}"
                )
        return found, unexpected

    def rows(
        self,
        statuses: Iterable[str] = COMPARED_STATUSES,
        kinds: Iterable[str] = COMPARED_KINDS,
    ) -> set[Row]:
        statuses, kinds = set(statuses), set(kinds)
        return {
            (f["status"], f["rule"], f["item"], f["file"], f["line"] or 0)
            for f in self.findings
            if f["status"] in statuses and f["kind"] in kinds
        }

    def row_counts(self) -> Counter[Row]:
        """How often each package / runtime leftover or drift row appears (once per pair)."""
        return Counter(
            (f["status"], f["rule"], f["item"], f["file"], f["line"] or 0)
            for f in self.findings
            if f["status"] in COMPARED_STATUSES and f["kind"] in COMPARED_KINDS
        )

    def items(self, status: str, *, kind: str = "package") -> set[str]:
        return {f["item"] for f in self.findings if f["status"] == status and f["kind"] == kind}

    def about(self, item: str, *, kind: str = "package") -> list[dict[str, Any]]:
        return [f for f in self.findings if f["item"] == item and f["kind"] == kind]

    def errors(self) -> list[tuple[str, str, int, str]]:
        """(rule, file, line, message) of every error finding."""
        return [
            (f["rule"], f["file"], f["line"] or 0, f["message"])
            for f in self.findings
            if f["status"] == "error"
        ]

    def explain(self) -> str:
        """Everything a failing assertion should show: pairs and the compared rows."""
        lines = ["pairs:"]
        lines += [f"  {p.training} x {p.serving} <- {p.reason}" for p in self.pairs] or ["  none"]
        lines += [f"  {n} compared with nothing: {w}" for n, w in self.assignment.unpaired.items()]
        lines.append("environments:")
        for env in self.assignment.environments.values():
            lines.append(f"  {env.name} [{env.role}, {env.origin}]: {sorted(env.files)}")
        lines.append("leftover / drift rows (package, runtime):")
        lines += [
            f"  {f['training_env']} x {f['serving_env']}: {f['status']} {f['rule']} {f['item']}"
            f" {f['file']}:{f['line']} ({f['training']} / {f['serving']})"
            for f in self.findings
            if f["status"] in COMPARED_STATUSES and f["kind"] in COMPARED_KINDS
        ] or ["  none"]
        errors = self.errors()
        if errors:
            lines.append("errors:")
            lines += [f"  {r} {p}:{n} {m}" for r, p, n, m in errors]
        return "\n".join(lines)


def dedent(files: Mapping[str, str | bytes]) -> dict[str, str | bytes]:
    """Fixture texts are written indented in the test modules."""
    return {
        path: text if isinstance(text, bytes) else textwrap.dedent(text).lstrip("\n")
        for path, text in files.items()
    }


def build(
    root: Path,
    commits: Sequence[tuple[str, Mapping[str, str | bytes | None]]],
) -> Path:
    """A git repository at ``root`` with one commit per ``(message, files)``."""
    repo = GitRepo(root)
    for message, files in commits:
        repo.commit(message, files)
    return root


def check(repo: Path, *args: str) -> CheckResult:
    """``depaudit check REPO --rev HEAD --format json --fail-on never`` with the console script."""
    proc = subprocess.run(
        [
            DEPAUDIT,
            "check",
            str(repo),
            "--rev",
            "HEAD",
            "--format",
            "json",
            "--fail-on",
            "never",
            *args,
        ],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
        timeout=180,
    )
    try:
        report = json.loads(proc.stdout) if proc.stdout.strip() else {}
    except json.JSONDecodeError:
        report = {}
    return CheckResult(
        proc.returncode, proc.stdout, proc.stderr, report, parse_assignment(proc.stderr)
    )


def line_of(text: str, needle: str, *, occurrence: int = 1) -> int:
    """1-based line of the ``occurrence``-th line of ``text`` containing ``needle``
    (fixture texts are dedented first), so expectations name the line a user would open."""
    seen = 0
    for number, line in enumerate(textwrap.dedent(text).lstrip("\n").splitlines(), start=1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{needle!r} not in the fixture text")


def notebook(*cells: str | tuple[str, str], language: str = "python") -> str:
    """An nbformat 4.5 notebook as Jupyter writes it (indent 1, one source line per JSON
    string). A cell is Python source, or ``("markdown", text)``."""
    out = []
    for number, cell in enumerate(cells, start=1):
        kind, text = cell if isinstance(cell, tuple) else ("code", cell)
        source = textwrap.dedent(text).strip("\n").splitlines(keepends=True)
        entry: dict[str, Any] = {
            "cell_type": kind,
            "id": f"cell-{number:04d}",
            "metadata": {},
            "source": source,
        }
        if kind == "code":
            entry.update(execution_count=number, outputs=[])
        out.append(entry)
    document = {
        "cells": out,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": language, "name": "python3"},
            "language_info": {"name": language, "version": "3.11.6"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(document, indent=1) + "\n"


def notebook_line(text: str, needle: str) -> int:
    """1-based line of the ``.ipynb`` JSON that holds ``needle`` (notebook facts point there)."""
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in the notebook")
