"""Which file belongs to which environment: the config file wins, else naming conventions.

Pure: takes the list of environment-relevant paths of a tree (the snapshot builder
filters them) and an :class:`~depaudit.config.AuditConfig`, and returns the environments
with, for every file, the reason it was placed there, so a wrong guess is easy to see.
The conventions themselves (keywords, environments by location, projects) are
:mod:`depaudit.conventions`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from depaudit.config import AuditConfig
from depaudit.conventions import is_dependency_file, plan_conventions, role_of_name
from depaudit.model import EnvironmentSpec, FileAssignment

__all__ = [
    "EnvironmentPlan",
    "environment_of",
    "find_environments",
    "glob_match",
    "is_test_path",
    "is_vendored_path",
    "role_of_name",
]

_TEST_PARTS = frozenset({"tests", "test", "testing"})


@dataclass(frozen=True, slots=True)
class EnvironmentPlan:
    environments: tuple[EnvironmentSpec, ...]
    unassigned: tuple[str, ...]  # environment-looking files that belong to no environment
    origin: str  # config file path or "conventions"


@functools.lru_cache(maxsize=65_536)
def is_test_path(path: str) -> bool:
    """Test files never ship in an image; they are left out of every environment."""
    parts = path.split("/")
    name = parts[-1]
    if any(p in _TEST_PARTS for p in parts[:-1]):
        return True
    return name == "conftest.py" or (
        name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))
    )


_VENDORED_PARTS = frozenset(
    {
        "vendor",
        "vendored",
        "third_party",
        "third-party",
        "node_modules",
        "site-packages",
        ".ipynb_checkpoints",
    }
)


@functools.lru_cache(maxsize=65_536)
def is_vendored_path(path: str) -> bool:
    """Someone else's code copied into the tree (ksonnet ``vendor/``, ``third_party/``):
    not the repository's environments, and never compared."""
    return any(p in _VENDORED_PARTS for p in path.split("/")[:-1])


def find_environments(paths: Iterable[str], config: AuditConfig) -> EnvironmentPlan:
    """Where each environment file belongs; the same paths and config give the same plan.

    The last few plans are kept: consecutive commits of a history nearly always edit files
    without adding, moving or removing one, and the plan depends on the paths alone.
    """
    kept = tuple(sorted({p for p in paths if not is_test_path(p) and not is_vendored_path(p)}))
    for known_paths, known_config, plan in _RECENT_PLANS:
        if known_paths == kept and known_config == config:
            return plan
    plan = _from_config(list(kept), config) if config.environments else _from_conventions(kept)
    _RECENT_PLANS.insert(0, (kept, config, plan))
    del _RECENT_PLANS[4:]
    return plan


# (paths, config, plan), most recent first: see find_environments
_RECENT_PLANS: list[tuple[tuple[str, ...], AuditConfig, EnvironmentPlan]] = []


# ----------------------------------------------------------------------------- config


@functools.lru_cache(maxsize=4096)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """gitignore-like globs: ``**`` spans folders, ``*`` and ``?`` stay inside one.

    Consecutive stars are collapsed first so that a hostile pattern cannot make the
    regex backtrack exponentially.
    """
    pattern = re.sub(r"\*{3,}", "**", pattern.strip().lstrip("/"))
    if pattern.endswith("/"):
        pattern += "**"
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:[^/]*/)*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"(?:/.*)?\Z")


@functools.lru_cache(maxsize=4096)
def _glob_tokens(pattern: str) -> tuple[str, ...]:
    """The pattern as tokens: ``**/``, ``**``, ``*``, ``?`` or one literal character."""
    pattern = re.sub(r"\*{3,}", "**", pattern.strip().lstrip("/"))
    if pattern.endswith("/"):
        pattern += "**"
    out: list[str] = []
    i = 0
    while i < len(pattern):
        for token in ("**/", "**"):
            if pattern.startswith(token, i):
                break
        else:
            token = pattern[i]
        out.append(token)
        i += len(token)
    return tuple(out)


def glob_match(path: str, pattern: str) -> bool:
    """``path`` matches ``pattern`` (or lies under a folder it matches); what
    :func:`_glob_regex` describes, run as an automaton over the path.

    A backtracking regex is exponential on hostile patterns from an audited repo's
    config (``**/**/**/.../c`` against a deep path never finished); this is
    O(len(path) x len(pattern)).
    """
    tokens = _glob_tokens(pattern)
    end = len(tokens)

    def closure(states: set[tuple[int, bool]]) -> set[tuple[int, bool]]:
        # (token index, inside a folder name consumed by "**/"); stars may match nothing
        stack = list(states)
        while stack:
            i, inside = stack.pop()
            if (
                not inside
                and i < end
                and tokens[i] in ("**/", "**", "*")
                and (i + 1, False) not in states
            ):
                states.add((i + 1, False))
                stack.append((i + 1, False))
        return states

    states = closure({(0, False)})
    for ch in path:
        if ch == "/" and (end, False) in states:
            return True  # a folder the pattern names: everything under it matches
        following: set[tuple[int, bool]] = set()
        for i, inside in states:
            if i == end:
                continue
            token = tokens[i]
            if token == "**/":
                following.add((i, ch != "/"))  # "/" closes a folder name, else stay inside it
            elif inside:
                continue
            elif token == "**" or (token == "*" and ch != "/"):
                following.add((i, False))
            elif (token == "?" and ch != "/") or token == ch:
                following.add((i + 1, False))
        if not following:
            return False
        states = closure(following)
    return (end, False) in states


def _from_config(paths: Sequence[str], config: AuditConfig) -> EnvironmentPlan:
    files: dict[str, list[FileAssignment]] = {e.name: [] for e in config.environments}
    placed: set[str] = set()
    for path in paths:
        for env in config.environments:
            hit = next((p for p in env.include if glob_match(path, p)), None)
            if hit is None or any(glob_match(path, p) for p in env.exclude):
                continue
            files[env.name].append(
                FileAssignment(path, f'config: include "{hit}" ({config.origin})')
            )
            placed.add(path)
    unplaced = [p for p in paths if p not in placed]
    shared_code = [p for p in unplaced if p.endswith(".py")]
    for env in config.environments:
        files[env.name].extend(
            FileAssignment(p, "shared code: in no environment, used by all") for p in shared_code
        )
    envs = tuple(
        EnvironmentSpec(
            name=e.name,
            role=e.role,
            origin="config",
            files=tuple(sorted(files[e.name], key=lambda a: a.path)),
            entrypoints=e.entrypoints,
            project=e.project or ".",
        )
        for e in config.environments
    )
    return EnvironmentPlan(envs, tuple(p for p in unplaced if not p.endswith(".py")), config.origin)


# ------------------------------------------------------------------------ conventions


def _from_conventions(paths: Sequence[str]) -> EnvironmentPlan:
    plan = plan_conventions(paths)
    shared_by_project: dict[str, list[FileAssignment]] = {}
    for path, reason, project in plan.shared:
        shared_by_project.setdefault(project, []).append(FileAssignment(path, reason))
    envs = []
    for env in sorted(plan.environments, key=lambda e: e.name):
        own = [FileAssignment(p, r) for p, r in env.files]
        extra = shared_by_project.get(env.project, [])
        if any(is_dependency_file(p) for p, _ in env.files) or not any(
            _runs_python(p) for p, _ in env.files
        ):
            # An environment with its own dependency file installs that one: a shared
            # requirements.txt / Pipfile above it (often the repo's dev tooling) is not
            # its (a Dockerfile that -r's or COPYs it still includes it explicitly). One
            # that runs no Python (manifests, ksonnet) installs no dependency file at all.
            extra = [a for a in extra if not is_dependency_file(a.path)]
        envs.append(
            EnvironmentSpec(
                name=env.name,
                role=env.role,
                origin="convention",
                files=tuple(sorted([*own, *extra], key=lambda a: a.path)),
                project=env.project,
                home=env.home,
            )
        )
    return EnvironmentPlan(tuple(envs), plan.unassigned, "conventions")


def _runs_python(path: str) -> bool:
    """Python code, a notebook, or a file that builds or starts a Python process."""
    name = path.rsplit("/", 1)[-1].lower()
    return (
        name.endswith((".py", ".ipynb"))
        or name.startswith(("dockerfile", "containerfile"))
        or name.endswith((".dockerfile", ".containerfile"))
        or name in ("procfile", "bentofile.yaml", "bentofile.yml")
    )


def environment_of(plan: EnvironmentPlan, path: str) -> list[str]:
    """Names of the environments a file was placed in."""
    return [e.name for e in plan.environments if any(a.path == path for a in e.files)]
