"""Which training and serving environments are compared, and why (DESIGN.md §4, §5.3).

Pure: environment snapshots (with where each lives and its project from the naming
conventions or the config) in; pairs, each with the reason it was made, and the
environments that pair with nothing, each with why, out. Only environments of one
project are compared: a monorepo of twenty examples is twenty small audits.

Beyond the folder projects of :mod:`depaudit.conventions`:

- environments found after parsing (a ``fraud-api`` Deployment, a ``trainer`` compose
  service) join projects the same way, by their folder;
- a repository with one environment for everything (``train.py`` or notebooks beside an
  unnamed app, one ``requirements.txt``) still has two sides: the serving side is
  derived from the app's entrypoint (a FastAPI / Flask / BentoML app object, a
  Dockerfile or compose command), installing the same shared files;
- inside a project with several environments of each role, environments whose folders
  share a name (``search/learn_to_rank/api`` and ``search/model/learn_to_rank``) are
  paired with each other only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from depaudit.code_graph import training_call_key
from depaudit.conventions import (
    Project,
    common_folder,
    find_projects,
    is_dependency_file,
    is_role_named,
    is_under,
    keyword_of,
    project_name,
)
from depaudit.entrypoints import code_modules, find_starts
from depaudit.identity_memo import IdentityMemo
from depaudit.import_names import distributions_for
from depaudit.knowledge import Knowledge, builtin
from depaudit.model import (
    CodeModule,
    Entrypoint,
    EnvironmentSnapshot,
    EnvironmentSpec,
    FileAssignment,
    Package,
    Pair,
    ParseError,
    Resource,
    Role,
    Runtime,
    Scope,
    SystemPackage,
)

# Folder names too common to say two environments belong together.
_GENERIC = frozenset(
    {
        "src", "source", "app", "apps", "ml", "model", "models", "service", "services",
        "code", "python", "py", "docker", "k8s", "kubernetes", "deploy", "deployment",
        "manifests", "infra", "infrastructure", "scripts", "lib", "libs", "common",
        "shared", "core", "utils", "pkg", "tests", "test", "docs", "examples", "example",
    }
)  # fmt: skip
_TOKEN = re.compile(r"[-_.\s/]+")


@dataclass(frozen=True, slots=True)
class PairPlan:
    environments: tuple[EnvironmentSnapshot, ...]  # as given, plus any derived serving side
    pairs: tuple[Pair, ...]
    unpaired: tuple[tuple[str, str], ...] = ()  # (environment, why it is compared with nothing)
    # own files of the groups that were found not to be environments (course metadata, a
    # serving-named script): listed as placed in no environment, like any other loose file
    dropped_files: tuple[str, ...] = ()


@dataclass(slots=True)
class _Located:
    """An environment as project finding sees it."""

    name: str
    role: Role
    home: str
    project: str
    origin: str
    tokens: frozenset[str] = field(default_factory=frozenset)
    role_named: bool = True  # placed by a folder named by role words alone (see conventions)


def plan_pairs(
    snapshots: Sequence[EnvironmentSnapshot],
    specs: Sequence[EnvironmentSpec],
    knowledge: Knowledge | None = None,
) -> PairPlan:
    """The pairs to compare among ``snapshots`` (``specs`` say where each lives);
    ``knowledge`` tells which calls submit training elsewhere (launchers)."""
    kb = knowledge or builtin()
    declared = [s for s in snapshots if not s.observed]
    spec_of = {s.name: s for s in specs}
    located = [
        _Located(
            s.name,
            s.role,
            spec_of[s.name].home if s.name in spec_of else "",
            s.project,
            s.origin,
            role_named=_role_named(s),
        )
        for s in declared
    ]
    if any(e.origin == "config" for e in located):
        return PairPlan(tuple(snapshots), _config_pairs(located))
    not_environments = {
        s.name: why for s in declared if (why := _not_an_environment(s, kb)) is not None
    }
    located = [e for e in located if e.name not in not_environments]

    known = [Project(_folder(e.project), "") for e in located if e.project]
    find_projects([e for e in located if not e.project], known)

    derived: list[EnvironmentSnapshot] = []
    prebuilt = ""  # why no serving side was derived, when a managed endpoint serves
    by_folder: list[tuple[str, EnvironmentSnapshot]] = []  # examples in folders of their own
    if located and not any(e.role == "serving" for e in located):
        by_folder = _derive_serving_by_folder(located, declared)
        for folder, side in by_folder:
            derived.append(side)
            for e in located:
                if e.home == folder:
                    e.project = project_name(folder)
            located.append(
                _Located(side.name, "serving", folder, project_name(folder), "entrypoint")
            )
        serving = _derive_serving(declared) if not by_folder else None
        if isinstance(serving, _PrebuiltServing):
            prebuilt = (
                f"no serving environment in the repository: the model is served by a managed "
                f"endpoint's prebuilt container ({serving.shown}), nothing of the repository "
                "is installed there"
            )
        elif serving is not None:
            derived.append(serving)
            folder = common_folder([e.home for e in located])
            for e in located:
                e.project = project_name(folder)
            located.append(
                _Located(serving.name, "serving", folder, project_name(folder), "entrypoint")
            )
    by_name = {e.name: e for e in located}
    environments = [
        replace(s, project=by_name[s.name].project)
        if s.name in by_name and s.project != by_name[s.name].project
        else s
        for s in snapshots
        if s.name not in not_environments
    ]
    if by_folder:
        # examples in folders of their own: each training side's shared code is its folder's
        environments = [
            _within_folder(s, by_name[s.name].home)
            if s.name in by_name and s.role == "training"
            else s
            for s in environments
        ]
    environments += [replace(d, project=by_name[d.name].project) for d in derived]

    pairs: list[Pair] = []
    for project in sorted({e.project for e in located if e.project}):
        members = [e for e in located if e.project == project]
        pairs.extend(_project_pairs(project, members))
    snapshot_of = {s.name: s for s in declared}
    pairs = [_with_shared_base(p, snapshot_of) for p in pairs]
    paired = {p.training for p in pairs} | {p.serving for p in pairs}
    linked = linked_pairs(
        [snapshot_of[e.name] for e in located if e.name not in paired and e.name in snapshot_of],
        {e.name: e.project for e in located},
    )
    pairs += linked
    paired |= {p.training for p in linked} | {p.serving for p in linked}
    unpaired = tuple(
        (e.name, prebuilt or _why_unpaired(e, located)) for e in located if e.name not in paired
    ) + tuple(sorted(not_environments.items()))
    dropped = sorted(
        {a.path for s in declared if s.name in not_environments for a in _own_files(s)}
    )
    return PairPlan(tuple(environments), tuple(pairs), unpaired, tuple(dropped))


_SUBSTANCE = (Package, CodeModule, Runtime, Entrypoint, Scope, Resource, SystemPackage)
_SERVING_COMMANDS = ("uvicorn", "gunicorn", "flask", "serve", "streamlit", "bentoml", "hypercorn")


def _not_an_environment(env: EnvironmentSnapshot, knowledge: Knowledge) -> str | None:
    """Why a name-placed group of files is not an environment to compare, or None.

    - Only configuration files of its own (a hydra ``configs/training/`` group, course
      metadata): settings of something else, not a place that installs or runs anything.
    - A serving side that is only Python files named for serving (``inference.py``, a
      ``ml_service/`` folder of workspace tooling) with no app object, no server command
      and no file of its own that builds or deploys it: a local script, not a service —
      pairing it would report the training file it shares as serving leftovers. A
      manifest that joined it by its file name (a chart's ``deployment.yaml`` elsewhere in
      the project) does not make it one, unless the manifest starts a server.
    - A training side whose own code only submits training to run elsewhere (an AzureML
      ``PythonScriptStep``, a SageMaker estimator, a Kubeflow compiler: calls of category
      ``orchestration``): a launcher. What it installs is the launcher's, not what
      training runs with; the environment it launches is compared instead.
    """
    if env.origin != "convention":
        return None
    own = {a.path for a in _own_files(env)}
    if not own:
        return None
    own_facts = [f for f in env.facts if getattr(f, "file", "") in own]
    unreadable_installs = any(
        isinstance(f, ParseError) and (is_dependency_file(f.file) or "dockerfile" in f.file.lower())
        for f in own_facts
    )
    # a side whose only dependency file cannot be read still installs something: it stays,
    # so its error is reported instead of the side vanishing with it
    if not unreadable_installs and not any(isinstance(f, _SUBSTANCE) for f in own_facts):
        return "only configuration files of its own: not an environment"
    # files that joined by their own name (a chart's ``deployment.yaml``) say a service
    # exists somewhere in the project, not that this folder's code is it
    code = (".py", ".ipynb")
    placed = {
        a.path
        for a in _own_files(env)
        if a.path.endswith(code) or not a.reason.startswith("convention: file name")
    }
    if env.role == "serving" and placed and all(p.endswith(code) for p in placed):
        apps = any(isinstance(f, CodeModule) and f.app_objects for f in env.facts)
        servers = any(
            isinstance(f, Entrypoint) and any(w in f.command for w in _SERVING_COMMANDS)
            for f in env.facts
        )
        if not apps and not servers:
            return (
                "only Python files named for serving, with no app object, server command "
                "or deployment file: a script, not a service"
            )
    if env.role == "training" and not any(p.endswith(".ipynb") for p in own):
        launch = _launch(own_facts, knowledge)
        if launch is not None:
            return (
                f"its code only submits training to run elsewhere ({launch}): "
                "a launcher, not the environment training runs in"
            )
    return None


def _launch(facts: Sequence[object], knowledge: Knowledge) -> str | None:
    """Where the first orchestration call of ``facts``' modules is, when that code only
    launches: it makes an orchestration call and imports no model library (an inference
    package or a training package of another category). ``estimator.fit(...)`` submits a
    SageMaker job; a ``.fit`` beside ``import sklearn`` trains in place."""
    first: str | None = None
    for mod in sorted((f for f in facts if isinstance(f, CodeModule)), key=lambda m: m.file):
        for ref in mod.imports:
            for dist in distributions_for(ref.name, knowledge.import_names):
                entry = knowledge.package(dist)
                if dist in knowledge.inference_packages or (
                    entry is not None and entry.category != "orchestration"
                ):
                    return None
        for call in mod.calls:
            key = training_call_key(call.name, knowledge.training_calls)
            if first is None and key and knowledge.training_calls[key].category == "orchestration":
                first = f"{call.name.rsplit('.', 1)[-1]} at {mod.file}:{call.line}"
    return first


def _own_files(env: EnvironmentSnapshot) -> list[FileAssignment]:
    """The files an environment holds by its own name, not as shared files."""
    return [a for a in env.files if not a.reason.startswith(("shared", "base image"))]


def _folder(project: str) -> str:
    return "" if project == "." else project


def _config_pairs(located: Sequence[_Located]) -> tuple[Pair, ...]:
    """Configured environments: every training x serving pair of one ``project``."""
    named = any(e.project not in ("", ".") for e in located)
    out = []
    for project in sorted({e.project for e in located}):
        members = [e for e in located if e.project == project]
        reason = (
            f'config: both in project "{project}"'
            if named
            else "config: both configured in the same repository (no project set)"
        )
        out += [
            Pair(t.name, s.name, project, reason)
            for t in members
            if t.role == "training"
            for s in members
            if s.role == "serving"
        ]
    return tuple(out)


def _project_pairs(project: str, members: Sequence[_Located]) -> list[Pair]:
    folder = _folder(project)
    where = f"project folder {folder}/" if folder else "the repository root"
    training = [e for e in members if e.role == "training"]
    serving = [e for e in members if e.role == "serving"]
    for e in members:
        e.tokens = _tokens(e, folder)
    matched: dict[tuple[str, str], str] = {}
    if len(training) > 1 and len(serving) > 1:
        # a word most of the project's environments carry ("components") tells none apart
        counts: dict[str, int] = {}
        for e in members:
            for token in e.tokens:
                counts[token] = counts.get(token, 0) + 1
        common_words = {t for t, n in counts.items() if n * 2 > len(members)}
        for t in training:
            for s in serving:
                common = (t.tokens & s.tokens) - common_words
                if common:
                    matched[(t.name, s.name)] = sorted(common)[0]
    pairs = []
    for t in training:
        for s in serving:
            if matched:
                t_has = any(k[0] == t.name for k in matched)
                s_has = any(k[1] == s.name for k in matched)
                if (t.name, s.name) in matched:
                    reason = f'both under {where} and named "{matched[(t.name, s.name)]}"'
                elif t_has or s_has:
                    continue  # each of them pairs with its namesake
                else:
                    reason = f"both under {where}"
            elif s.origin == "entrypoint":
                reason = (
                    "one environment for everything: serving is the app entrypoint, "
                    f"training the code named for training, both under {where}"
                )
            else:
                reason = f"both under {where}"
            pairs.append(Pair(t.name, s.name, project, reason))
    return pairs


def linked_pairs(
    unpaired: Sequence[EnvironmentSnapshot], project_of: Mapping[str, str]
) -> list[Pair]:
    """Pairs of sides that no folder pairs, made by what their code says of each other.

    A serving side whose code loads a model file (``open("lin_reg.bin", "rb")``,
    ``joblib.load(...)``) that the code of exactly one training side saves, or imports a
    package module (``training.features.build``) that exactly one training side holds, is
    that side's serving: a course's ``04-deployment/web-service`` serves the model its
    ``01-intro`` notebook saves. Files match by name (the folder a model is saved to is
    rarely the one it is loaded from). Only sides with no partner by folder are linked, and
    only to one: a file name several training sides save tells nothing.
    """
    training = [e for e in unpaired if e.role == "training"]
    savers: dict[str, list[tuple[str, str]]] = {}  # file name -> (environment, "file:line")
    holders: dict[str, list[tuple[str, str]]] = {}  # module -> (environment, file)
    for env in training:
        for mod in env.of_type(CodeModule):
            for ref in mod.saves:
                savers.setdefault(_file_name(ref.path), []).append(
                    (env.name, f"{mod.file}:{ref.line}")
                )
            if "." in mod.module:
                holders.setdefault(mod.module, []).append((env.name, mod.file))
    out: list[Pair] = []
    for serving in unpaired:
        if serving.role != "serving":
            continue
        own = {m.module for m in serving.of_type(CodeModule)}
        links: dict[str, str] = {}  # training environment -> why
        for mod in sorted(serving.of_type(CodeModule), key=lambda m: m.file):
            for ref in mod.loads:
                saver = _one_side(savers.get(_file_name(ref.path), []))
                if saver is not None:
                    links.setdefault(
                        saver[0],
                        f"serving loads the model file {ref.path} ({mod.file}:{ref.line}) "
                        f"that training saves ({saver[1]})",
                    )
            for imp in mod.imports:
                holder = _one_side(_holders_of(imp.name, holders, own))
                if holder is not None:
                    links.setdefault(
                        holder[0],
                        f"serving code imports {imp.name} ({mod.file}:{imp.line}), "
                        f"training's {holder[1]}",
                    )
        if len(links) == 1:
            ((name, why),) = links.items()
            out.append(Pair(name, serving.name, project_of.get(serving.name, ""), f"linked: {why}"))
    return out


def _one_side(found: Sequence[tuple[str, str]]) -> tuple[str, str] | None:
    """The first (environment, place) of ``found`` when all of them are one environment's."""
    return found[0] if len({name for name, _ in found}) == 1 else None


def _file_name(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1].lower()


def _holders_of(
    name: str, holders: Mapping[str, list[tuple[str, str]]], own: set[str]
) -> list[tuple[str, str]]:
    """The training modules ``import name`` reaches (the module, or for ``from a.b import
    c`` the module ``a.b``), unless the importing side has a module of that name itself."""
    for candidate in (name, name.rsplit(".", 1)[0]):
        if candidate in own:
            return []
        if candidate in holders:
            return holders[candidate]
    return []


def _with_shared_base(pair: Pair, snapshot_of: dict[str, EnvironmentSnapshot]) -> Pair:
    """The pair's reason, naming the image both sides are built on when the repository
    builds it (``FROM ${FROM_IMAGE}`` given one base by the Makefile or compose file)."""
    bases = [_built_bases(snapshot_of.get(name)) for name in (pair.training, pair.serving)]
    shared = sorted(bases[0] & bases[1])
    if not shared:
        return pair
    return replace(pair, reason=f"{pair.reason}; both built on {shared[0]}")


def _built_bases(env: EnvironmentSnapshot | None) -> set[str]:
    """``base image TAG built from DOCKERFILE`` for each image the environment is built on."""
    if env is None:
        return set()
    return {a.reason.split(" (", 1)[0] for a in env.files if a.reason.startswith("base image ")}


def _tokens(env: _Located, project_folder: str) -> frozenset[str]:
    """Distinguishing words of an environment's location inside its project."""
    path = f"{env.home}/{env.name}" if env.home else env.name
    if project_folder and is_under(path, project_folder):
        path = path[len(project_folder) :]
    words = {w for w in _TOKEN.split(path.lower()) if w}
    return frozenset(
        w for w in words if w not in _GENERIC and keyword_of(w) is None and not w.isdigit()
    )


_FOLDER_REASON = re.compile(r'^convention: folder "([^"]+)"')


def _is_role_named(env: EnvironmentSnapshot) -> bool:
    """Whether the folders that placed the environment are named by role words alone
    (``training/``, ``api/``), not a project named with one (``batch-inference/``)."""
    return all(
        is_role_named(m.group(1).rstrip("/").rsplit("/", 1)[-1])
        for a in env.files
        if (m := _FOLDER_REASON.match(a.reason))
    )


# by identity: every new state of a history pairs its environments again, and an
# environment that did not change is the same snapshot (its thousands of files unread)
_role_named: IdentityMemo[EnvironmentSnapshot, bool] = IdentityMemo(_is_role_named, 512)


def _why_unpaired(env: _Located, located: Sequence[_Located]) -> str:
    other: Role = "serving" if env.role == "training" else "training"
    if not any(e.role == other for e in located):
        return f"no {other} environment in the repository"
    if not env.project:
        return (
            f"no {other} environment in its folder or a folder above it that is not "
            "another project's (a monorepo of independent projects)"
        )
    folder = _folder(env.project)
    where = f"project folder {folder}/" if folder else "the repository root"
    if not any(e.role == other and e.project == env.project for e in located):
        return f"no {other} environment under {where}"
    return f"under {where}, each {other} environment pairs with its namesake"


# Managed endpoints that serve a model in the platform's own prebuilt container
# (python_code.APP_CONSTRUCTORS labels): nothing of the repository is installed there.
_PREBUILT_SERVING = frozenset({"Vertex AI model upload", "Vertex AI endpoint"})


def _deploys_to_prebuilt(module: CodeModule | None) -> bool:
    return (
        module is not None
        and bool(module.app_objects)
        and all(app.split(":", 1)[0] in _PREBUILT_SERVING for app in module.app_objects)
    )


@dataclass(frozen=True, slots=True)
class _PrebuiltServing:
    """No serving side to derive: the model is served by a platform's prebuilt container."""

    shown: str  # the deployments found, e.g. "Vertex AI endpoint:endpoint defined here"


def _within_folder(env: EnvironmentSnapshot, folder: str) -> EnvironmentSnapshot:
    """``env`` without the shared files (and their facts) outside ``folder``."""
    gone = {
        a.path for a in env.files if a.reason.startswith("shared") and not is_under(a.path, folder)
    }
    if not gone:
        return env
    return replace(
        env,
        files=tuple(a for a in env.files if a.path not in gone),
        facts=tuple(f for f in env.facts if getattr(f, "file", "") not in gone),
    )


def _derive_serving_by_folder(
    located: Sequence[_Located], declared: Sequence[EnvironmentSnapshot]
) -> list[tuple[str, EnvironmentSnapshot]]:
    """Serving sides of a collection of examples, each in its own folder with a notebook
    and a service module beside it (a BentoML gallery: ``keras/fashion-mnist/`` holds the
    notebook that trains and the ``BentoService`` that serves): one derived side per folder
    whose own shared code defines an app, paired with that folder's training only. Empty
    when the training sides do not all live in folders of their own."""
    homes = {e.home for e in located}
    if len(homes) < 2 or "" in homes:
        return []
    snapshot_of = {s.name: s for s in declared}
    out = []
    for home in sorted(homes):
        training = [
            snapshot_of[e.name] for e in located if e.home == home and e.name in snapshot_of
        ]
        serving = _derive_serving(training, within=home) if training else None
        if isinstance(serving, EnvironmentSnapshot):
            out.append((home, replace(serving, name=f"{home}/{serving.name}")))
    return out


def _derive_serving(
    training: Sequence[EnvironmentSnapshot], within: str | None = None
) -> EnvironmentSnapshot | _PrebuiltServing | None:
    """A serving side for a repository whose only environment names are training's: the
    app its shared code defines or its shared Dockerfile / compose file starts (only the
    shared files in folder ``within`` when given)."""
    shared_files: dict[str, FileAssignment] = {}
    for env in training:
        for a in env.files:
            if a.reason.startswith("shared") and (within is None or is_under(a.path, within)):
                shared_files.setdefault(a.path, a)
    if not shared_files:
        return None
    source = training[0]
    facts = tuple(
        f for env in training for f in env.facts if getattr(f, "file", "") in shared_files
    )
    probe = EnvironmentSnapshot(
        "serving", "serving", "entrypoint", facts=tuple(dict.fromkeys(facts))
    )
    modules: dict[str, CodeModule] = code_modules(probe)
    starts, fallback = find_starts(probe, modules)
    has_command = any(isinstance(f, Entrypoint) for f in probe.facts)
    if fallback or not starts or not (modules or has_command):
        return None
    if not has_command and all(_deploys_to_prebuilt(modules.get(s.module)) for s in starts):
        # the app is a model deployed to a platform's prebuilt container: the script runs
        # in CI, and the shared files it installs are training's, not what serves
        return _PrebuiltServing(
            "; ".join(f"{s.reason} in {modules[s.module].file}" for s in starts[:3])
        )
    shown = "; ".join(s.reason for s in starts[:3])
    files = tuple(
        FileAssignment(a.path, f"{a.reason}; serving side derived from {shown}")
        for a in sorted(shared_files.values(), key=lambda a: a.path)
    )
    taken = {e.name for e in training}
    name = "serving" if "serving" not in taken else "serving-app"
    return EnvironmentSnapshot(
        name=name,
        role="serving",
        origin="entrypoint",
        files=files,
        facts=probe.facts,
        entrypoints=tuple(s.module for s in starts),
        project=source.project,
    )
