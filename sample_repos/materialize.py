"""Turn a scenario (``scenarios/<name>.yaml``) into a real git repository, one commit per step.

A scenario is a list of ``steps``; each step names its author, email, ISO date and commit
message, the files it writes (``write: {path: content}``), deletes (``delete: [path]``) and
renames (``rename: {old: new}``), and ``expect``: how the set of expected leftover and drift
findings changes at that commit (``add`` / ``remove`` lists of ``[rule, item]``). The
expected set at a commit is the running set after applying every step up to it.

The repositories are rebuilt from scratch every time, with author and committer identity
and dates taken from the step, so the same scenario always gives the same commit shas.

    python -m sample_repos.materialize [--out sample_repos/build] [NAMES...]
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
DEFAULT_OUT = Path(__file__).resolve().parent / "build"

Expectation = set[tuple[str, str]]
_STEP_KEYS = {"author", "email", "date", "message", "write", "delete", "rename", "expect"}


class ScenarioError(Exception):
    """A scenario file that does not describe a valid history."""


def scenario_paths(names: Sequence[str] = ()) -> list[Path]:
    """The scenario files, all of them or the named ones (``tabular_fraud``)."""
    if not names:
        return sorted(SCENARIO_DIR.glob("*.yaml"))
    paths = [SCENARIO_DIR / f"{name.removesuffix('.yaml')}.yaml" for name in names]
    missing = [p.stem for p in paths if not p.is_file()]
    if missing:
        known = ", ".join(p.stem for p in sorted(SCENARIO_DIR.glob("*.yaml")))
        raise ScenarioError(f"unknown scenario(s): {', '.join(missing)} (known: {known})")
    return paths


def load_scenario(scenario: Path | str | Mapping[str, Any]) -> dict[str, Any]:
    """A scenario as a dict, validated: known step keys, increasing dates, safe paths."""
    if isinstance(scenario, Mapping):
        data = dict(scenario)
    else:
        path = Path(scenario)
        data = yaml.safe_load(path.read_text("utf-8"))
        if not isinstance(data, dict):
            raise ScenarioError(f"{path}: a scenario is a mapping with 'name' and 'steps'")
        data.setdefault("name", path.stem)
    steps = data.get("steps")
    if not isinstance(steps, list) or not steps:
        raise ScenarioError(f"{data.get('name')}: 'steps' must be a non-empty list")
    previous = ""
    for index, step in enumerate(steps):
        if isinstance(step.get("date"), datetime.datetime | datetime.date):
            step["date"] = step["date"].isoformat()  # an unquoted YAML timestamp
        where = f"{data.get('name')} step {index} ({step.get('message', '?')!r})"
        unknown = set(step) - _STEP_KEYS
        if unknown:
            raise ScenarioError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        for key in ("author", "email", "date", "message"):
            if not isinstance(step.get(key), str) or not step[key]:
                raise ScenarioError(f"{where}: '{key}' must be a non-empty string")
        if step["date"] <= previous:
            raise ScenarioError(f"{where}: date {step['date']} is not after {previous}")
        previous = step["date"]
        paths = [
            *step.get("write", {}),
            *step.get("delete", []),
            *step.get("rename", {}).keys(),
            *step.get("rename", {}).values(),
        ]
        for rel in paths:
            if rel.startswith("/") or ".." in rel.split("/") or rel.split("/")[0] == ".git":
                raise ScenarioError(f"{where}: unsafe path {rel!r}")
    return data


def _git(repo: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args],
        check=True,
        capture_output=True,
        text=True,
        env={**_clean_git_env(), **(env or {})},
    )
    return done.stdout.strip()


def _clean_git_env() -> dict[str, str]:
    """The caller's environment without anything that would change the commits we make."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env["GIT_CONFIG_GLOBAL"] = os.devnull
    env["LC_ALL"] = "C"
    return env


def _apply(repo: Path, step: Mapping[str, Any]) -> None:
    for old, new in step.get("rename", {}).items():
        target = repo / new
        target.parent.mkdir(parents=True, exist_ok=True)
        (repo / old).rename(target)
    for rel in step.get("delete", []):
        (repo / rel).unlink()
    for rel, content in step.get("write", {}).items():
        target = repo / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        text = "" if content is None else str(content)
        target.write_bytes(text.encode("utf-8"))  # bytes: no platform newline translation
    # drop folders a delete or rename emptied, as git would not record them anyway
    for folder in sorted(
        (p for p in repo.rglob("*") if p.is_dir() and ".git" not in p.parts), reverse=True
    ):
        if not any(folder.iterdir()):
            folder.rmdir()


def materialize(scenario_path: Path | str, out_dir: Path | str) -> Path:
    """Build the scenario's repository under ``out_dir/<name>`` from scratch; return its path."""
    scenario = load_scenario(Path(scenario_path))
    repo = Path(out_dir) / scenario["name"]
    if repo.exists():
        shutil.rmtree(repo)
    repo.mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    for key, value in (
        ("commit.gpgsign", "false"),
        ("core.autocrlf", "false"),
        ("core.fileMode", "true"),
    ):
        _git(repo, "config", key, value)
    for step in scenario["steps"]:
        _apply(repo, step)
        _git(repo, "add", "-A")
        identity = {
            "GIT_AUTHOR_NAME": step["author"],
            "GIT_AUTHOR_EMAIL": step["email"],
            "GIT_AUTHOR_DATE": step["date"],
            "GIT_COMMITTER_NAME": step["author"],
            "GIT_COMMITTER_EMAIL": step["email"],
            "GIT_COMMITTER_DATE": step["date"],
        }
        _git(
            repo,
            "commit",
            "-q",
            "--allow-empty",
            "--no-verify",
            "-m",
            step["message"],
            env=identity,
        )
    return repo


def commit_shas(repo: Path | str) -> list[str]:
    """The repository's commits on main, oldest first (one per scenario step)."""
    return _git(Path(repo), "rev-list", "--reverse", "--first-parent", "main").split()


def _pairs(raw: Any, where: str) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for pair in raw or []:
        if not (
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair)
        ):
            raise ScenarioError(f"{where}: expected [rule, item] pairs, got {pair!r}")
        out.add((pair[0], pair[1]))
    return out


def expected_findings(
    scenario: Path | str | Mapping[str, Any],
) -> list[tuple[int, str, Expectation]]:
    """(step index, commit message, expected set of (rule, item)) for every step.

    A step that removes a finding not in the running set, or adds one already there, is a
    scenario bug and raises: the running set must tell the story exactly.
    """
    data = load_scenario(scenario)
    running: Expectation = set()
    out: list[tuple[int, str, Expectation]] = []
    for index, step in enumerate(data["steps"]):
        expect = step.get("expect") or {}
        where = f"{data['name']} step {index} ({step['message']!r})"
        added = _pairs(expect.get("add"), where)
        removed = _pairs(expect.get("remove"), where)
        if missing := removed - running:
            raise ScenarioError(
                f"{where}: removes findings that are not expected: {sorted(missing)}"
            )
        if again := added & running:
            raise ScenarioError(
                f"{where}: adds findings that are already expected: {sorted(again)}"
            )
        running = (running - removed) | added
        out.append((index, step["message"], set(running)))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sample_repos.materialize", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="where to build (default: sample_repos/build)"
    )
    parser.add_argument("names", nargs="*", help="scenario names (default: all)")
    args = parser.parse_args(argv)
    try:
        paths = scenario_paths(args.names)
        for path in paths:
            repo = materialize(path, args.out)
            print(f"{repo}: {len(commit_shas(repo))} commits", file=sys.stderr)
    except ScenarioError as exc:
        print(f"materialize: error: {exc}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as exc:
        print(
            f"materialize: error: git {' '.join(exc.cmd[3:4])} failed: {exc.stderr.strip()}",
            file=sys.stderr,
        )
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
