"""Tree -> environment snapshots: read the config, place files, parse each blob once.

This is the collector's one entry point for a single tree (a commit or the working tree).
Nothing raised by a source or by bad bytes gets past it: every problem becomes a
:class:`~depaudit.model.ParseError` fact of the file, shown as an ``error`` finding.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import posixpath
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from depaudit.code_graph import ImportGraph
from depaudit.collectors.sources import include_source, source_for
from depaudit.collectors.sources.base import MAX_FILE_BYTES
from depaudit.collectors.sources.dockerfile import SOURCE as DOCKERFILE
from depaudit.collectors.tree import Tree, TreeEntry, TreeReadError, entry_map
from depaudit.config import CONFIG_FILE, PYPROJECT, AuditConfig, ConfigError, parse_config
from depaudit.conventions import SHARED_DIRS, is_dependency_file, role_of_name
from depaudit.entrypoints import code_modules, find_starts
from depaudit.environments import (
    EnvironmentPlan,
    find_environments,
    is_test_path,
    is_vendored_path,
)
from depaudit.identity_memo import IdentityMemo
from depaudit.model import (
    CodeModule,
    Entrypoint,
    EnvironmentSnapshot,
    EnvironmentSpec,
    Fact,
    FileAssignment,
    ImageBuild,
    Include,
    Package,
    ParseError,
    Runtime,
    Scope,
    SourceResult,
    SystemPackage,
)

MAX_INCLUDE_DEPTH = 8
# sources whose ImageBuild facts say which image is built from which Dockerfile
_BUILD_SCRIPTS = frozenset({"makefile", "compose"})


class BlobCache(OrderedDict[tuple[str, str], SourceResult]):
    """(blob id, path) -> parsed result. Each distinct blob at a path is parsed once
    while it is among the ``MAX_BLOBS`` most recently used (memory stays flat however
    long the history: the blobs an old commit had rarely come back).

    The path is part of the key because facts carry their file (and Python module
    names derive from it); a renamed file is parsed again, an unchanged one never.

    It also keeps the environment snapshots it built, by the identity of the facts they
    were built from: facts of an unchanged blob are the very same objects at the next
    commit, so an environment none of whose files changed is the same snapshot object,
    and everything keyed by it downstream (views, pair findings) is reused.
    """

    hits: int = 0
    misses: int = 0
    MAX_BLOBS = 20_000
    MAX_ENVIRONMENTS = 128

    def __init__(self) -> None:
        super().__init__()
        self.environments: dict[tuple[object, ...], tuple[list[Fact], EnvironmentSnapshot]] = {}

    def environment(
        self, spec: tuple[object, ...], facts: list[Fact], build: Callable[[], EnvironmentSnapshot]
    ) -> EnvironmentSnapshot:
        key = (*spec, tuple(map(id, facts)))
        known = self.environments.get(key)
        if known is not None:
            return known[1]
        if len(self.environments) >= self.MAX_ENVIRONMENTS:
            self.environments.clear()
        snapshot = build()
        self.environments[key] = (facts, snapshot)  # the facts stay alive: ids stay theirs
        return snapshot


@dataclass(frozen=True, slots=True)
class TreeSnapshot:
    environments: tuple[EnvironmentSnapshot, ...]
    config: AuditConfig
    config_origin: str
    config_errors: tuple[ParseError, ...] = ()
    unassigned: tuple[str, ...] = ()
    # where each environment lives and which project it is in, for pairing
    specs: tuple[EnvironmentSpec, ...] = field(default=(), compare=False)


@functools.lru_cache(maxsize=262_144)
def is_environment_path(path: str) -> bool:
    """True if a change to ``path`` can change an environment snapshot (memoised: each
    new state of a history asks it of every path of the tree)."""
    if path in (CONFIG_FILE, PYPROJECT):
        return True
    return not is_test_path(path) and not is_vendored_path(path) and source_for(path) is not None


def decode_blob(data: bytes, path: str) -> str | ParseError:
    """Text of a blob, or why it is not text."""
    if b"\x00" in data[:8192]:
        return ParseError(path, "binary file (contains NUL bytes); not parsed")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return ParseError(path, f"not UTF-8 text (invalid byte at offset {exc.start}); not parsed")


def read_entry(tree: Tree, entry: TreeEntry) -> str | ParseError:
    """Text of a tree entry, enforcing the documented limits before reading."""
    if entry.kind == "symlink":
        return ParseError(entry.path, "symbolic link; not followed")
    if entry.kind == "submodule":
        return ParseError(entry.path, "git submodule; not audited")
    if entry.size > MAX_FILE_BYTES:
        mb = entry.size / (1024 * 1024)
        return ParseError(
            entry.path,
            f"file is {mb:.1f} MB, above the {MAX_FILE_BYTES // (1024 * 1024)} MB limit; not parsed",
        )
    try:
        data = tree.read(entry)
    except (TreeReadError, OSError) as exc:
        return ParseError(entry.path, f"cannot read file: {exc}")
    if len(data) > MAX_FILE_BYTES:
        return ParseError(
            entry.path, f"file is above the {MAX_FILE_BYTES // (1024 * 1024)} MB limit; not parsed"
        )
    return decode_blob(data, entry.path)


def parse_entry(
    tree: Tree, entry: TreeEntry, cache: BlobCache | None, *, included: bool = False
) -> SourceResult:
    """Facts of one file; ``included``: named by ``-r`` / ``-c`` (see ``include_source``)."""
    key = (entry.blob_id, entry.path)
    if cache is not None:
        known = cache.get(key)
        if known is not None:
            cache.hits += 1
            cache.move_to_end(key)
            return known
    result = _parse_uncached(tree, entry, included=included)
    if cache is not None:
        cache.misses += 1
        cache[key] = result
        if len(cache) > cache.MAX_BLOBS:
            cache.popitem(last=False)
    return result


def _parse_uncached(tree: Tree, entry: TreeEntry, *, included: bool = False) -> SourceResult:
    # a path no source reads by name is parsed only when included, so the key stays unique
    source = include_source(entry.path) if included else source_for(entry.path)
    if source is None:
        return SourceResult()
    text = read_entry(tree, entry)
    if isinstance(text, ParseError):
        return SourceResult((text,))
    if (not text or text.isspace()) and source.name != "python":
        # An empty data file declares nothing (and `check > out.json` creates one in the
        # audited tree while it runs); an empty module is still a module (__init__.py).
        return SourceResult()
    try:
        return source.parse(text, entry.path)
    except RecursionError:
        return SourceResult(
            (ParseError(entry.path, f"{source.name}: nested too deeply; not parsed"),)
        )
    except MemoryError:
        return SourceResult((ParseError(entry.path, f"{source.name}: too large to parse"),))
    except Exception as exc:  # a parser bug must not stop the audit of everything else
        return SourceResult(
            (
                ParseError(
                    entry.path,
                    f"{source.name} parser failed: {type(exc).__name__}: {str(exc)[:120]}",
                ),
            )
        )


def read_config(
    tree: Tree, by_path: Mapping[str, TreeEntry], config_path: str | None = None
) -> tuple[AuditConfig, tuple[ParseError, ...]]:
    """The repo's config at this tree; an invalid one is an error, conventions are used."""
    candidates = [config_path] if config_path else [CONFIG_FILE, PYPROJECT]
    for path in candidates:
        entry = by_path.get(path)
        if entry is None:
            if config_path:
                return AuditConfig(), (
                    ParseError(path, "configured depaudit config file not found in this tree"),
                )
            continue
        text = read_entry(tree, entry)
        if isinstance(text, ParseError):
            return AuditConfig(), (text,)
        try:
            parsed = parse_config(text, path, from_pyproject=path.endswith(PYPROJECT))
        except ConfigError as exc:
            return AuditConfig(), (ParseError(path, exc.reason),)
        if parsed is not None:
            return parsed, ()
    return AuditConfig(), ()


def snapshot_tree(
    tree: Tree,
    *,
    config_path: str | None = None,
    config: AuditConfig | None = None,
    cache: BlobCache | None = None,
) -> TreeSnapshot:
    """Snapshot every environment of ``tree``.

    ``config`` (already parsed, e.g. from ``--config FILE`` on disk) wins over the
    tree's own config file; ``config_path`` names a config file inside the tree.
    """
    by_path = entry_map(tree)
    config_errors: tuple[ParseError, ...] = ()
    if config is None:
        config, config_errors = read_config(tree, by_path, config_path)
    env_paths = [p for p in by_path if is_environment_path(p) and p not in (CONFIG_FILE,)]
    plan = find_environments(env_paths, config)

    parsed: dict[str, SourceResult] = {}

    def facts_of(path: str, included: bool = False) -> SourceResult:
        if path not in parsed:
            parsed[path] = parse_entry(tree, by_path[path], cache, included=included)
        return parsed[path]

    plan = _follow_specs(plan, by_path, facts_of)
    not_theirs = _dockerfiles_of_one_side(plan.environments, facts_of)
    not_theirs |= _dependency_files_of_one_side(plan.environments, facts_of, by_path, not_theirs)
    env_facts: dict[str, list[Fact]] = {e.name: [] for e in plan.environments}
    env_files: dict[str, list[FileAssignment]] = {
        e.name: [a for a in e.files if (a.path, e.name) not in not_theirs]
        for e in plan.environments
    }
    env_of_path: dict[str, list[str]] = {}
    for env in plan.environments:
        for a in env.files:
            env_of_path.setdefault(a.path, []).append(env.name)

    scoped_files: set[str] = set()
    for env in plan.environments:
        for a in env.files:
            if (a.path, env.name) in not_theirs:
                continue
            result = facts_of(a.path)
            if any(isinstance(f, Scope) for f in result.facts):
                scoped_files.add(a.path)
                # scoped facts are placed by their service/workload below
                env_facts[env.name].extend(f for f in result.facts if not getattr(f, "scope", ""))
            else:
                env_facts[env.name].extend(_with_includes(result.facts, by_path, facts_of))
        env_facts[env.name] = _one_error_per_cycle(env_facts[env.name])
    # compose / k8s files outside any environment folder can still place their services
    for path in plan.unassigned:
        result = facts_of(path)
        if any(isinstance(f, Scope) for f in result.facts):
            scoped_files.add(path)
    specs = list(plan.environments)
    builds = [
        f
        for path in sorted(env_paths)
        if (source := source_for(path)) is not None and source.name in _BUILD_SCRIPTS
        for f in facts_of(path).facts
        if isinstance(f, ImageBuild)
    ]
    placed_bases = (
        _add_built_base_images(builds, specs, env_facts, env_files, by_path, facts_of)
        if builds
        else set()
    )
    placed_scopes = _place_scoped_facts(
        scoped_files, facts_of, specs, env_of_path, env_facts, env_files, by_path
    )
    unassigned = tuple(
        p for p in plan.unassigned if p not in placed_scopes and p not in placed_bases
    )

    def build(env: EnvironmentSpec) -> EnvironmentSnapshot:
        files = set(env_files[env.name])
        facts = env_facts[env.name]
        if env.role == "serving":
            files, facts = _without_unreached_shared_code(env, files, facts, by_path)
        return EnvironmentSnapshot(
            name=env.name,
            role=env.role,
            origin=env.origin,
            files=tuple(sorted(files, key=lambda a: (a.path, a.reason))),
            facts=_canonical(facts),
            entrypoints=env.entrypoints,
            project=env.project,
        )

    snapshots = tuple(
        build(env)
        if cache is None
        else cache.environment(
            (env, tuple(env_files[env.name])), env_facts[env.name], functools.partial(build, env)
        )
        for env in specs
    )
    return TreeSnapshot(
        snapshots,
        config,
        plan.origin if not config_errors else "conventions",
        config_errors,
        unassigned,
        tuple(specs),
    )


def _without_unreached_shared_code(
    env: EnvironmentSpec,
    files: set[FileAssignment],
    facts: list[Fact],
    by_path: Mapping[str, TreeEntry],
) -> tuple[set[FileAssignment], list[Fact]]:
    """A serving side with code of its own holds the shared code it runs, not all of it.

    Python files no keyword places are shared by both sides of their project; serving runs
    only what its own modules and its start commands import (``orchestration/flow.py``
    beside ``scoring/score.py`` is not serving code). Code in a shared folder (``common/``,
    ``lib/``) stays on both sides whatever imports it: it is the project's shared code by
    name, and a copy of it is never reported (DA206 / DA207). Its roots are its own modules and the
    modules its commands, specs and app objects start; a side with no root keeps every
    shared file (nothing tells which of them it runs).
    """
    shared = {
        a.path
        for a in files
        if a.reason.startswith("shared code") and not _in_shared_folder(a.path)
    }
    if not shared:
        return files, facts
    modules = [f for f in facts if isinstance(f, CodeModule)]
    probe = EnvironmentSnapshot(env.name, "serving", env.origin, facts=tuple(facts))
    by_name = code_modules(probe)
    starts, fallback = find_starts(probe, by_name)
    roots = [m.module for m in modules if m.file not in shared]
    if not fallback:
        roots += [s.module for s in starts]
    if not roots:
        return files, facts
    reached = ImportGraph(by_name.values()).reachable(roots)
    unreached = {m.file for m in modules if m.file in shared and m.module not in reached}
    if not unreached:
        return files, facts
    # config files only unreached code loads (a converter's @hydra.main) go with it
    loaded: dict[str, bool] = {}
    for f in facts:
        if isinstance(f, Include) and f.kind == "config":
            target = _resolve_include(f, by_path)  # as _with_includes read it
            if target is not None:
                loaded[target] = loaded.get(target, False) or f.file not in unreached
    gone = unreached | {path for path, kept in loaded.items() if not kept}
    return (
        {a for a in files if a.path not in unreached},
        [f for f in facts if getattr(f, "file", "") not in gone],
    )


def _in_shared_folder(path: str) -> bool:
    return any(part.lower() in SHARED_DIRS for part in path.split("/")[:-1])


_READ_THROUGH = frozenset({"requirements", "constraints", "config"})


def _with_includes(
    facts: Iterable[Fact],
    by_path: Mapping[str, TreeEntry],
    facts_of: Callable[[str, bool], SourceResult],
    depth: int = 0,
    reading: tuple[str, ...] = (),
) -> list[Fact]:
    """Facts plus those of the files they include (``-r``/``-c``, ``pip install -r``, the
    config file a Hydra entrypoint loads).

    ``reading`` is the chain of files being read: a target already in it is a cycle.
    """
    out: list[Fact] = []
    for fact in facts:
        out.append(fact)
        if not isinstance(fact, Include) or fact.kind not in _READ_THROUGH:
            continue
        target = _resolve_include(fact, by_path)
        if fact.kind == "config":
            # a config file code loads: its entries, not its includes; a path we cannot
            # follow (Hydra's search path, a config made in code) is not an error
            if target is not None and target not in reading:
                out.extend(facts_of(target, True).facts)
            continue
        if target is None:
            out.append(
                ParseError(
                    fact.file, f"includes {fact.target!r}, which is not in this tree", fact.line
                )
            )
            continue
        chain = reading or (fact.file,)
        if target in chain:
            cycle = " -> ".join((*chain[chain.index(target) :], target))
            out.append(ParseError(fact.file, f"{_CYCLE}{cycle}; not read again", fact.line))
            continue
        if depth >= MAX_INCLUDE_DEPTH:
            out.append(
                ParseError(
                    fact.file,
                    f"includes nested deeper than {MAX_INCLUDE_DEPTH} at {fact.target!r}; not read",
                    fact.line,
                )
            )
            continue
        included = facts_of(target, True).facts
        if fact.kind == "constraints":  # -c pins versions, it installs nothing
            included = tuple(_as_constraint(f) for f in included)
        out.extend(_with_includes(included, by_path, facts_of, depth + 1, (*chain, target)))
    return out


_SPEC_LINKS = ("code", "environment", "defines")


def _follow_specs(
    plan: EnvironmentPlan,
    by_path: Mapping[str, TreeEntry],
    facts_of: Callable[[str], SourceResult],
) -> EnvironmentPlan:
    """Give each environment the files its specs name (AzureML jobs and deployments).

    A spec in an environment names the code folder it runs, its conda file and the
    environment it uses by name (whose file names a conda file, an image or a build
    context): those files are that environment's, wherever their folder or name put them.
    Code a spec runs leaves the environments no spec names it for (a scoring script is
    serving's); a folder both a training job and a deployment run is both sides'. A
    dependency file leaves the environments that had it by folder or name, but stays where
    it was shared (one conda file installed by a training job and a scoring image). An
    environment left with no file of its own is gone: it was a spec's environment.
    """
    yaml_paths = sorted(
        {
            p
            for p in (*(a.path for e in plan.environments for a in e.files), *plan.unassigned)
            if p.endswith((".yml", ".yaml"))
        }
    )
    links = {p: [f for f in facts_of(p).facts if isinstance(f, Include)] for p in yaml_paths}
    if not any(i.kind in _SPEC_LINKS for found in links.values() for i in found):
        return plan
    defined: dict[str, list[str]] = {}  # environment name -> the files defining it
    for p, found in links.items():
        for i in found:
            if i.kind == "defines":
                defined.setdefault(i.target, []).append(p)
    claims: dict[str, dict[str, str]] = {}  # environment -> path -> reason
    code: set[str] = set()
    for env in plan.environments:
        for a in env.files:
            found = links.get(a.path, [])
            if a.reason.startswith("shared") or not any(i.kind in _SPEC_LINKS for i in found):
                continue  # not a spec, or a spec shared by several environments
            mine = claims.setdefault(env.name, {})
            for path, why, is_code in _spec_files(a.path, found, defined, links, by_path):
                mine.setdefault(path, why)
                if is_code:
                    code.add(path)
    if not claims:
        return plan
    owners: dict[str, set[str]] = {}
    for env_name, paths in claims.items():
        for path in paths:
            owners.setdefault(path, set()).add(env_name)
    environments = []
    for env in plan.environments:
        kept = [
            a
            for a in env.files
            if env.name in owners.get(a.path, {env.name})
            or (a.reason.startswith("shared") and a.path not in code)
        ]
        held = {a.path for a in kept}
        added = [
            FileAssignment(p, why) for p, why in claims.get(env.name, {}).items() if p not in held
        ]
        if env.files and not any(not a.reason.startswith("shared") for a in kept):
            continue  # everything it had by name or folder went to a spec's environment
        environments.append(
            dataclasses.replace(env, files=tuple(sorted([*kept, *added], key=lambda a: a.path)))
        )
    unassigned = tuple(p for p in plan.unassigned if p not in owners)
    return dataclasses.replace(plan, environments=tuple(environments), unassigned=unassigned)


def _spec_files(
    spec: str,
    found: list[Include],
    defined: dict[str, list[str]],
    links: dict[str, list[Include]],
    by_path: Mapping[str, TreeEntry],
) -> list[tuple[str, str, bool]]:
    """(path, reason, whether it is code the spec runs) of every file a spec names: its
    code, conda files and the environments it uses by name."""
    name = posixpath.basename(spec)
    out: list[tuple[str, str, bool]] = []
    for include in found:
        if include.kind == "code":
            folder = posixpath.normpath(posixpath.join(posixpath.dirname(spec), include.target))
            inside = "" if folder == "." else folder.rstrip("/") + "/"
            out.extend(
                (p, f"code run by {name} ({include.target})", True)
                for p in sorted(by_path)
                if (p == folder or p.startswith(inside)) and is_environment_path(p)
            )
        elif include.kind == "requirements":
            target = _resolve_include(include, by_path)
            if target is not None:
                out.append((target, f"conda file of {name}", False))
        elif include.kind == "environment" and include.target in defined:
            # a monorepo of templates defines one name in each project: the nearest one
            definition = _nearest(spec, defined[include.target])
            out.append((definition, f"environment {include.target} used by {name}", False))
            out.extend(
                (path, f"{why} (environment {include.target} used by {name})", is_code)
                for path, why, is_code in _spec_files(
                    definition, links[definition], {}, {}, by_path
                )
            )
    return out


def _nearest(path: str, candidates: list[str]) -> str:
    """The candidate sharing the most leading folders with ``path`` (then the first)."""
    folders = path.split("/")[:-1]

    def shared(other: str) -> int:
        return len(posixpath.commonprefix([folders, other.split("/")[:-1]]))

    return min(sorted(candidates), key=lambda c: -shared(c))


def _as_constraint(fact: Fact) -> Fact:
    if isinstance(fact, Package) and not fact.group:
        return dataclasses.replace(fact, group="constraints")
    return fact


_CYCLE = "include cycle: "


def _dockerfiles_of_one_side(
    envs: Sequence[EnvironmentSpec], facts_of: Callable[[str], SourceResult]
) -> set[tuple[str, str]]:
    """(path, environment) pairs to leave out: a Dockerfile shared by both sides of a
    project (it sits in the project folder) whose CMD / ENTRYPOINT runs a module only
    one side's own files hold (``uvicorn app:app`` beside ``app.py``) builds that side's
    image; the other side does not install what it installs."""
    sharers: dict[str, list[EnvironmentSpec]] = {}
    for env in envs:
        for a in env.files:
            if a.reason.startswith("shared") and source_for(a.path) is DOCKERFILE:
                sharers.setdefault(a.path, []).append(env)
    out: set[tuple[str, str]] = set()
    for path, holders in sharers.items():
        if len({e.role for e in holders}) < 2:
            continue
        modules = {
            f.module.replace(".", "/")
            for f in facts_of(path).facts
            if isinstance(f, Entrypoint) and f.module
        }
        folder = posixpath.dirname(path)
        owners = [
            e
            for e in holders
            if any(
                not a.reason.startswith("shared")
                and posixpath.splitext(a.path)[0] in {posixpath.join(folder, m) for m in modules}
                for a in e.files
            )
        ]
        if owners and len({e.role for e in owners}) == 1:
            out.update((path, e.name) for e in holders if e not in owners)
    return out


def _dependency_files_of_one_side(
    envs: Sequence[EnvironmentSpec],
    facts_of: Callable[[str], SourceResult],
    by_path: Mapping[str, TreeEntry],
    not_theirs: set[tuple[str, str]],
) -> set[tuple[str, str]]:
    """(path, environment) pairs to leave out: a dependency file shared by both sides of
    a project (``Pipfile`` / ``Pipfile.lock`` in the project folder) that one side's
    Dockerfile copies or installs, and that the other side does not need because it
    installs what it runs by itself (a notebook's ``!pip install``, its own dependency
    file). Without such installs of its own the other side keeps the shared file: one
    requirements file for a training script and an API is both sides' (DESIGN.md §4)."""
    holders: dict[str, list[EnvironmentSpec]] = {}
    for env in envs:
        for a in env.files:
            if a.reason.startswith("shared") and is_dependency_file(a.path):
                holders.setdefault(a.path, []).append(env)
    if not any(len({e.role for e in held}) > 1 for held in holders.values()):
        return set()
    installed_by: dict[str, set[str]] = {}  # dependency file -> environments whose image has it
    installs_itself: set[str] = set()  # environments with installs of their own
    for env in envs:
        for a in env.files:
            if (a.path, env.name) in not_theirs:
                continue
            own = not a.reason.startswith("shared")
            facts = facts_of(a.path).facts
            if own and (
                is_dependency_file(a.path)
                or any(isinstance(f, Package) and f.origin == "declared" for f in facts)
            ):
                installs_itself.add(env.name)
            if source_for(a.path) is not DOCKERFILE:
                continue
            for f in facts:
                if isinstance(f, Include) and f.kind in ("copy", "requirements"):
                    target = _resolve_include(f, by_path)
                    if target in holders:
                        installed_by.setdefault(target, set()).add(env.name)
    out: set[tuple[str, str]] = set()
    for path, held in holders.items():
        installers = [e for e in held if e.name in installed_by.get(path, ())]
        if len({e.role for e in installers}) != 1:
            continue
        role = installers[0].role
        out.update((path, e.name) for e in held if e.role != role and e.name in installs_itself)
    return out


def _one_error_per_cycle(facts: list[Fact]) -> list[Fact]:
    """A cycle of two files both read by the environment is met once from each: one
    error says it (keyed by the files in the cycle)."""
    seen: set[frozenset[str]] = set()
    out: list[Fact] = []
    for fact in facts:
        if isinstance(fact, ParseError) and fact.message.startswith(_CYCLE):
            members = frozenset(fact.message[len(_CYCLE) :].split(";")[0].split(" -> "))
            if members in seen:
                continue
            seen.add(members)
        out.append(fact)
    return out


def _resolve_include(fact: Include, by_path: Mapping[str, TreeEntry]) -> str | None:
    """The tree path ``fact`` names: relative to the including file (as pip resolves
    ``-r``), else to the root (a Dockerfile's build context). Any name: pip reads
    ``-r base.txt`` as a requirements file whatever it is called."""
    raw = fact.target.strip().strip("\"'")
    if raw.startswith(("http://", "https://", "/")):
        return None
    folder = posixpath.dirname(fact.file)
    bases = [folder]
    if source_for(fact.file) is DOCKERFILE:
        # a Dockerfile's paths are relative to its build context, which is its own
        # folder or one above it (``docker build -f api/Dockerfile .`` from a project
        # folder): the nearest folder that holds the path
        while folder:
            folder = posixpath.dirname(folder)
            bases.append(folder)
    else:
        bases.append("")
    for base in bases:
        candidate = posixpath.normpath(posixpath.join(base, raw))
        if candidate in by_path:
            return candidate
    return None


def _add_built_base_images(
    builds: Sequence[ImageBuild],
    specs: Sequence[EnvironmentSpec],
    env_facts: dict[str, list[Fact]],
    env_files: dict[str, list[FileAssignment]],
    by_path: Mapping[str, TreeEntry],
    facts_of: Callable[[str, bool], SourceResult],
) -> set[str]:
    """An environment whose image is built on an image the repository builds itself gets
    that image's packages (DESIGN.md §5.3: "a base image built from a shared folder").

    The base is found without evaluating the Dockerfile's ARGs: a Makefile / compose
    build of the environment's Dockerfile that passes a build arg whose value is the tag
    of another build (``--build-arg FROM_IMAGE=$(BASE)``), or a ``FROM`` naming that tag.
    """
    by_tag = {b.tag: b for b in builds if b.tag}
    placed: set[str] = set()
    for env in specs:
        own = env_facts[env.name]
        dockerfiles = {f.file: f for f in own if isinstance(f, Runtime) and f.item == "base_image"}
        for dockerfile, from_fact in sorted(dockerfiles.items()):
            candidates = {from_fact.value}
            via: dict[str, tuple[ImageBuild, str]] = {}
            for build in builds:
                if build.dockerfile != dockerfile:
                    continue
                for arg in build.args:
                    value = arg.split("=", 1)[1]
                    candidates.add(value)
                    via.setdefault(value, (build, arg))
            for tag in sorted(candidates):
                base = by_tag.get(tag)
                if base is None or base.dockerfile == dockerfile or base.dockerfile not in by_path:
                    continue
                how = via.get(tag)
                passed = (
                    f"{how[0].file}:{how[0].line} builds {dockerfile} with "
                    f"{'build arg' if how[0].scope else '--build-arg'} {how[1]}"
                    if how is not None
                    else f"{dockerfile} starts FROM {tag}"
                )
                reason = f"base image {tag} built from {base.dockerfile} ({passed})"
                env_files[env.name].append(FileAssignment(base.dockerfile, reason))
                placed.add(base.dockerfile)
                inherited = _with_includes(
                    facts_of(base.dockerfile, False).facts, by_path, facts_of
                )
                for fact in inherited:
                    if isinstance(fact, Package | SystemPackage):
                        own.append(fact)
                        if fact.file != base.dockerfile:
                            env_files[env.name].append(FileAssignment(fact.file, reason))
                            placed.add(fact.file)
    return placed


def _place_scoped_facts(
    scoped_files: set[str],
    facts_of: Callable[[str], SourceResult],
    specs: list[EnvironmentSpec],
    env_of_path: dict[str, list[str]],
    env_facts: dict[str, list[Fact]],
    env_files: dict[str, list[FileAssignment]],
    by_path: Mapping[str, TreeEntry],
) -> set[str]:
    """Put each compose service / k8s workload's facts in the environment it names.

    A service or workload whose name says its role (``fraud-api``, ``trainer``) where no
    environment of that role exists near its file becomes an environment of its own
    (origin ``scope``): a CUDA devel image, a GPU and a tracker key in a ``fraud-api``
    Deployment must be audited even when no folder is called ``serving``.
    """
    placed_files: set[str] = set()
    for path in sorted(scoped_files):
        result = facts_of(path)
        scopes = [f for f in result.facts if isinstance(f, Scope)]
        targets: set[str] = set(env_of_path.get(path, []))
        for scope in scopes:
            target = _environment_for_scope(scope, specs, env_of_path, by_path, path)
            if target is None:
                new = _environment_from_scope(scope, specs, path)
                if new is None:
                    continue
                spec, reason = new
                specs.append(spec)
                env_facts[spec.name], env_files[spec.name] = [], []
                target = (spec.name, reason)
            env_name, reason = target
            placed_files.add(path)
            targets.add(env_name)
            env_files[env_name].append(FileAssignment(path, reason))
            env_facts[env_name].append(scope)
            env_facts[env_name].extend(
                f
                for f in result.facts
                if getattr(f, "scope", "") == scope.name and not isinstance(f, Scope)
            )
        # errors of a file with services go wherever the file or its services went
        errors = [f for f in result.facts if isinstance(f, ParseError)]
        for env_name in targets:
            env_facts[env_name].extend(errors)
    return placed_files


def _environment_for_scope(
    scope: Scope,
    envs: Sequence[EnvironmentSpec],
    env_of_path: dict[str, list[str]],
    by_path: Mapping[str, TreeEntry],
    path: str,
) -> tuple[str, str] | None:
    base = posixpath.basename(path)
    by_name = {e.name: e for e in envs}
    if scope.name.lower() in by_name:
        return scope.name.lower(), f'service "{scope.name}" in {base} matches the environment name'
    if scope.build_path:
        bp = posixpath.normpath(scope.build_path)
        for p, names in env_of_path.items():
            if len(names) == 1 and (p == bp or p.startswith(bp.rstrip("/") + "/")):
                return names[0], f'service "{scope.name}" in {base} builds from {bp}'
    role = role_of_name(scope.name)
    if role is None:
        return None
    same_role = [e for e in _near(envs, path) if e.role == role]
    if len(same_role) == 1:
        how = "config" if same_role[0].origin == "config" else "convention"
        return same_role[0].name, f'{how}: {role} service "{scope.name}" in {base}'
    return None


def _near(envs: Sequence[EnvironmentSpec], path: str) -> list[EnvironmentSpec]:
    """The environments of the project that holds ``path`` (all of them when the
    environments come from a config or no project holds it)."""
    folder = posixpath.dirname(path)
    holders = [
        e
        for e in envs
        if e.project
        and (e.project == "." or folder == e.project or folder.startswith(e.project + "/"))
    ]
    if not holders or any(e.origin == "config" for e in envs):
        return list(envs)
    deepest = max(len(e.project) if e.project != "." else 0 for e in holders)
    return [e for e in holders if (len(e.project) if e.project != "." else 0) == deepest]


def _environment_from_scope(
    scope: Scope, envs: Sequence[EnvironmentSpec], path: str
) -> tuple[EnvironmentSpec, str] | None:
    """A new environment for a service / workload whose name gives its role, when none of
    that role is near its file (config-defined environments are never added to)."""
    role = role_of_name(scope.name)
    if role is None or any(e.origin == "config" for e in envs):
        return None
    if any(e.role == role for e in _near(envs, path)):
        return None  # several of that role: ambiguous, left unplaced as before
    folder = posixpath.dirname(path)
    name = scope.name.lower()
    taken = {e.name for e in envs}
    if name in taken:
        name = f"{folder}/{name}" if folder else f"{name}-{posixpath.basename(path)}"
    project = next((e.project for e in _near(envs, path) if e.project), "")
    reason = f'{role} by name: service / workload "{scope.name}" in {posixpath.basename(path)}'
    spec = EnvironmentSpec(name=name, role=role, origin="scope", project=project, home=folder)
    return spec, reason


def _position(fact: Fact) -> tuple[str, str, int]:
    return (type(fact).__name__, getattr(fact, "file", ""), getattr(fact, "line", 0))


def _canonical(facts: Iterable[Fact]) -> tuple[Fact, ...]:
    """Deduplicated, deterministically ordered facts (stable content hashes): by type,
    file and line, then by ``repr`` among facts at the same place. The repr (of a whole
    module with its definitions) is made only for such ties: making it for every fact of
    every new state was a third of a history's snapshot time."""
    ordered = sorted(_unique(facts), key=_position)
    out: list[Fact] = []
    for _place, group in itertools.groupby(ordered, key=_position):
        tied = list(group)
        if len(tied) > 1:
            tied.sort(key=_repr)
        out.extend(tied)
    return tuple(out)


def _unique(facts: Iterable[Fact]) -> list[Fact]:
    """``set(facts)`` with each fact's hash memoised by identity: a module fact's hash is
    that of all its definitions, and every new state of a history dedupes every fact."""
    buckets: dict[int, list[Fact]] = {}
    out: list[Fact] = []
    for fact in facts:
        bucket = buckets.setdefault(_hash(fact), [])
        if not any(seen is fact or seen == fact for seen in bucket):
            bucket.append(fact)
            out.append(fact)
    return out


_hash: IdentityMemo[Fact, int] = IdentityMemo(hash, 100_000)

# a fact's repr: facts at one place (a config file's keys read without lines) are ordered
# by repr at every state, and the blob cache hands out the same fact objects
_repr: IdentityMemo[Fact, str] = IdentityMemo(repr, 50_000)
