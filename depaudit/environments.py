"""Which file belongs to which environment: the config file wins, else naming conventions.

Pure: takes the list of environment-relevant paths of a tree (the snapshot builder
filters them) and an :class:`~depaudit.config.AuditConfig`, and returns the environments
with, for every file, the reason it was placed there, so a wrong guess is easy to see.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from depaudit.config import AuditConfig
from depaudit.model import EnvironmentSpec, FileAssignment, Role

# DESIGN.md §5.2, as path tokens.
TRAINING_WORDS = frozenset(
    {
        "train", "training", "trainer", "trainers", "pipeline", "pipelines", "experiment",
        "experiments", "notebook", "notebooks", "research", "finetune", "finetuning",
    }
)  # fmt: skip
SERVING_WORDS = frozenset(
    {
        "serve", "serving", "server", "api", "app", "inference", "predict", "predictor",
        "deploy", "deployment", "service",
    }
)  # fmt: skip
# Tokens that name the canonical environment when a *file name* (not a folder) places it.
_CANONICAL = {"train": "training", "trainer": "training", "serve": "serving", "server": "serving"}
# Folders whose unmarked files are used by every environment.
SHARED_DIRS = frozenset({"common", "shared", "lib", "libs", "core", "src", "utils", "pkg"})
_TEST_PARTS = frozenset({"tests", "test", "testing"})
_TOKEN = re.compile(r"[-_.\s]+")


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


def role_of_name(name: str) -> Role | None:
    """The role a folder, file, service or workload name suggests, by its tokens."""
    lowered = name.lower()
    tokens = [t for t in _TOKEN.split(lowered) if t]
    if lowered in TRAINING_WORDS or any(t in TRAINING_WORDS for t in tokens):
        return "training"
    if lowered in SERVING_WORDS or any(t in SERVING_WORDS for t in tokens):
        return "serving"
    return None


def _file_env_name(filename: str, role: Role) -> str:
    stem_tokens = [t for t in _TOKEN.split(filename.lower()) if t]
    words = TRAINING_WORDS if role == "training" else SERVING_WORDS
    for token in stem_tokens:
        if token in words:
            return _CANONICAL.get(token, token)
    return role


def find_environments(paths: Iterable[str], config: AuditConfig) -> EnvironmentPlan:
    paths = sorted({p for p in paths if not is_test_path(p)})
    if config.environments:
        return _from_config(paths, config)
    return _from_conventions(paths)


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
        )
        for e in config.environments
    )
    return EnvironmentPlan(envs, tuple(p for p in unplaced if not p.endswith(".py")), config.origin)


# ------------------------------------------------------------------------ conventions


def _place(path: str) -> tuple[str, Role, str, bool] | None:
    """(env name, role, reason, placed-by-folder) for a path, by its first keyword part."""
    parts = path.split("/")
    for depth, part in enumerate(parts):
        role = role_of_name(part)
        if role is None:
            continue
        is_folder = depth < len(parts) - 1
        if is_folder:
            folder = "/".join(parts[: depth + 1])
            return part.lower(), role, f'convention: folder "{folder}/"', True
        return _file_env_name(part, role), role, f'convention: file name "{part}"', False
    return None


def _from_conventions(paths: Sequence[str]) -> EnvironmentPlan:
    placed: dict[str, tuple[Role, list[FileAssignment], bool]] = {}
    shared: list[str] = []
    unassigned: list[str] = []
    for path in paths:
        where = _place(path)
        if where is None:
            parts = path.split("/")
            if len(parts) == 1 or parts[0].lower() in SHARED_DIRS or path.endswith(".py"):
                shared.append(path)
            else:
                unassigned.append(path)
            continue
        name, role, reason, by_folder = where
        env = placed.setdefault(name, (role, [], by_folder))
        if env[0] != role:  # same name with two roles cannot happen with disjoint word lists
            continue
        env[1].append(FileAssignment(path, reason))
        if by_folder and not env[2]:
            placed[name] = (role, env[1], True)
    # A file named "requirements-train.txt" joins the one "training" folder environment
    # when there is exactly one: it is almost always that environment's file.
    for role in ("training", "serving"):
        folders = [n for n, (r, _, f) in placed.items() if r == role and f]
        loose = [n for n, (r, _, f) in placed.items() if r == role and not f]
        if len(folders) == 1:
            for name in loose:
                placed[folders[0]][1].extend(placed.pop(name)[1])
        elif not folders and len(loose) > 1:
            # several file-placed names of one role (train + pipeline): one environment
            target = "training" if role == "training" else "serving"
            merged: list[FileAssignment] = []
            for name in loose:
                merged.extend(placed.pop(name)[1])
            placed[target] = (role, merged, False)  # type: ignore[assignment]
    envs: list[EnvironmentSpec] = []
    for name, (role, assigned, _) in sorted(placed.items()):
        extra = []
        for p in shared:
            reason = (
                "shared code: no environment keyword in its path"
                if p.endswith(".py")
                else "shared: repository root or shared folder"
            )
            extra.append(FileAssignment(p, reason))
        envs.append(
            EnvironmentSpec(
                name=name,
                role=role,
                origin="convention",
                files=tuple(sorted([*assigned, *extra], key=lambda a: a.path)),
            )
        )
    if not any(e.role == "training" for e in envs) or not any(e.role == "serving" for e in envs):
        # Shared files alone make no comparison; keep the environments that exist.
        pass
    return EnvironmentPlan(tuple(envs), tuple(unassigned), "conventions")


def environment_of(plan: EnvironmentPlan, path: str) -> list[str]:
    """Names of the environments a file was placed in."""
    return [e.name for e in plan.environments if any(a.path == path for a in e.files)]
