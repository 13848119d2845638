"""Naming conventions: which paths are training or serving, grouped into environments
and projects, when the repository has no ``.depaudit.toml``.

Pure (paths in). Three decisions, each explained in the reason shown to the user:

1. **The placing keyword of a path.** Folder names win over the file name (a
   ``training_utils.py`` inside ``serving/`` is serving code). Among the folders, the
   innermost one with a *strong* keyword (``train``, ``notebooks``, ``serve``,
   ``inference``, ``api`` ...) places the path; only when none has one, the innermost
   *weak* keyword (``pipeline(s)``, ``app``, ``service``, ``deploy``): so
   ``ml_service/pipelines/`` is training and ``inference_pipeline/`` serving. A name
   whose tokens name both roles with equal strength is placed by its last such token
   and the reason says it names both.
2. **Environments by location.** Files placed by the same folder form one environment;
   two ``training/`` folders in two projects are two environments. A file placed by its
   name (``requirements-train.txt``, ``Dockerfile.serve``) joins the one folder
   environment of its role in its project, else forms one at its folder.
3. **Projects** (DESIGN.md §5.3): folders are visited deepest first; a folder whose
   subtree holds training and serving environments not yet in a deeper project is a
   project and takes them. A folder that already holds projects is a *container* (a
   monorepo of examples): single-sided leftovers of its sub-folders are not paired
   across it; only its own environments (its own ``training/`` and ``serving/`` beside
   sub-projects) can form a project there. An environment in no project pairs with
   nothing, and says so.

Environment names stay as short as they are unique: ``training`` and ``serving`` in a
single-project repository, ``mnist/training`` beside ``iris/training`` in a monorepo.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from depaudit.model import Role

STRONG_WORDS: dict[str, Role] = {
    **dict.fromkeys(
        (
            "train", "training", "trainer", "trainers", "experiment", "experiments",
            "notebook", "notebooks", "research", "finetune", "finetuning",
        ),
        "training",
    ),
    **dict.fromkeys(
        ("serve", "serving", "server", "inference", "predict", "predictor", "api", "scoring"),
        "serving",
    ),
}  # fmt: skip
WEAK_WORDS: dict[str, Role] = {
    **dict.fromkeys(("pipeline", "pipelines"), "training"),
    **dict.fromkeys(("app", "service", "deploy", "deployment"), "serving"),
}
TRAINING_WORDS = frozenset(w for w, r in {**STRONG_WORDS, **WEAK_WORDS}.items() if r == "training")
SERVING_WORDS = frozenset(w for w, r in {**STRONG_WORDS, **WEAK_WORDS}.items() if r == "serving")
# Weak words that do not place a *Python* file by its name: ``prefect_deploy.py`` deploys
# a training flow, ``service.py`` is a helper as often as a server (a ``deployment.yaml``
# manifest still says serving).
_NOT_BY_FILE_NAME = frozenset({"deploy", "deployment", "service"})
# Tokens that name the canonical environment when a *file name* places it.
_CANONICAL = {"train": "training", "trainer": "training", "serve": "serving", "server": "serving"}
# Folders whose unmarked files are used by every environment of their project.
SHARED_DIRS = frozenset({"common", "shared", "lib", "libs", "core", "src", "utils", "pkg"})
_TOKEN = re.compile(r"[-_.\s]+")


@dataclass(frozen=True, slots=True)
class Keyword:
    role: Role
    strong: bool
    word: str
    both_roles: bool = False  # the name also holds a keyword of the other role


def keyword_of(name: str) -> Keyword | None:
    """The keyword a folder, file, service or workload name carries, if any."""
    lowered = name.lower()
    tokens = [t for t in _TOKEN.split(lowered) if t] or [lowered]
    found = [(t, STRONG_WORDS[t], True) for t in tokens if t in STRONG_WORDS]
    found += [(t, WEAK_WORDS[t], False) for t in tokens if t in WEAK_WORDS]
    if not found:
        return None
    strongest = [f for f in found if f[2]] or found
    word, role, strong = strongest[-1]
    return Keyword(role, strong, word, both_roles=len({f[1] for f in found}) > 1)


def role_of_name(name: str) -> Role | None:
    """The role a folder, file, service or workload name suggests."""
    kw = keyword_of(name)
    return kw.role if kw else None


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a path's environment is and why."""

    key: str  # identity: the placing folder, or "<folder>#<role>" for a file name
    home: str  # the folder the environment lives in (its project is found from here)
    base_name: str  # "training", "api", ...
    role: Role
    reason: str
    by_folder: bool


def place(path: str) -> Placement | None:
    """The environment a path belongs to by its name, or None."""
    parts = path.split("/")
    folders = parts[:-1]
    if any(folder.startswith(".") for folder in folders):
        # CI and tooling folders (.pipelines/, .github/workflows/, .devcontainer/) and
        # editor copies (.ipynb_checkpoints/) are no environment, whatever their names say
        return None
    keywords: list[tuple[int, Keyword]] = []
    for i, part in enumerate(folders):
        found = keyword_of(part)
        if found is not None:
            keywords.append((i, found))
    strong = [(i, k) for i, k in keywords if k.strong]
    notebook = path.lower().endswith(".ipynb")
    if notebook:  # notebooks are training code wherever they are (DESIGN.md §5)
        keywords = [(i, k) for i, k in keywords if k.role == "training"]
        strong = [(i, k) for i, k in strong if k.role == "training"]
    if keywords:
        i, kw = (strong or keywords)[-1]
        folder = "/".join(parts[: i + 1])
        both = " (the name also names the other role)" if kw.both_roles else ""
        return Placement(
            key=folder,
            home=posixpath.dirname(folder),
            base_name=parts[i].lower(),
            role=kw.role,
            reason=f'convention: folder "{folder}/"{both}',
            by_folder=True,
        )
    home = "/".join(folders)
    if notebook:
        return Placement(
            key=f"{home}#training",
            home=home,
            base_name="notebooks",
            role="training",
            reason=f'convention: notebook "{parts[-1]}" (notebooks are training code)',
            by_folder=False,
        )
    file_kw = keyword_of(parts[-1])
    if file_kw is None or (
        path.endswith(".py") and not file_kw.strong and file_kw.word in _NOT_BY_FILE_NAME
    ):
        return None
    kw = file_kw
    return Placement(
        key=f"{home}#{kw.role}",
        home=home,
        base_name=_CANONICAL.get(kw.word, kw.word),
        role=kw.role,
        reason=f'convention: file name "{parts[-1]}"',
        by_folder=False,
    )


def is_role_named(folder: str) -> bool:
    """A folder name made of role words only (``training``, ``serving``, ``model-api`` is
    not): a side of the folder above it. In a collection of projects, ``batch-inference/``
    or ``multi-branch-mlops-train/`` names a project of its own that holds a role word."""
    tokens = [t for t in _TOKEN.split(folder.lower()) if t]
    return bool(tokens) and all(t in STRONG_WORDS or t in WEAK_WORDS for t in tokens)


@dataclass(slots=True)
class ConventionEnvironment:
    """An environment found by naming conventions, before projects are known."""

    key: str
    home: str
    base_name: str
    role: Role
    by_folder: bool
    files: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    name: str = ""
    project: str = ""  # its project's name (see project_name); "" when in no project

    @property
    def role_named(self) -> bool:
        """Placed by a folder named by role words alone, or by file names."""
        return not self.by_folder or is_role_named(self.key.rstrip("/").rsplit("/", 1)[-1])


@dataclass(frozen=True, slots=True)
class Project:
    folder: str  # "" for the repository root
    reason: str

    @property
    def name(self) -> str:
        return project_name(self.folder)


@dataclass(frozen=True, slots=True)
class ConventionPlan:
    environments: tuple[ConventionEnvironment, ...]
    projects: tuple[Project, ...]
    shared: tuple[tuple[str, str, str], ...]  # (path, reason, project folder) for every env
    unassigned: tuple[str, ...]


_DEPENDENCY_NAMES = frozenset(
    {
        "pyproject.toml", "setup.cfg", "setup.py", "pipfile", "pipfile.lock", "poetry.lock",
        "uv.lock", "environment.yml", "environment.yaml", "conda.yml", "conda.yaml",
    }
)  # fmt: skip


def is_dependency_file(path: str) -> bool:
    """A file that declares Python packages (requirements, pyproject, Pipfile, conda env,
    lock files), by its name."""
    name = path.rsplit("/", 1)[-1].lower()
    return (
        name in _DEPENDENCY_NAMES
        or (name.endswith((".txt", ".in")) and "requirements" in name)
        or name.endswith(".lock")
    )


# Name tokens of a dependency file that installs tooling, not an environment the project
# runs: ``requirements-dev.txt``, ``test-requirements.txt``, AzureML's ``ci_dependencies.yml``.
_TOOLING_TOKENS = frozenset(
    {"dev", "develop", "development", "ci", "test", "tests", "testing", "lint", "docs", "doc",
     "style", "typing", "format"}
)  # fmt: skip


def is_tooling_dependency_file(path: str) -> bool:
    """A dependency file (or conda-shaped YAML) whose name says it installs development,
    CI, test or docs tooling."""
    name = path.rsplit("/", 1)[-1].lower()
    tokens = set(_TOKEN.split(name.rsplit(".", 1)[0]))
    looks_like_deps = is_dependency_file(path) or (
        name.endswith((".yml", ".yaml"))
        and bool(tokens & {"dependencies", "conda", "environment", "env"})
    )
    return looks_like_deps and bool(tokens & _TOOLING_TOKENS)


def is_under(path: str, folder: str) -> bool:
    return folder == "" or path == folder or path.startswith(folder + "/")


def depth(folder: str) -> int:
    return 0 if folder == "" else folder.count("/") + 1


def plan_conventions(paths: Sequence[str]) -> ConventionPlan:
    """Environments, projects and shared files of a tree's (non-test) paths."""
    envs: dict[str, ConventionEnvironment] = {}
    loose: list[str] = []
    for path in paths:
        where = place(path)
        if where is None:
            loose.append(path)
            continue
        env = envs.get(where.key)
        if env is None:
            env = envs[where.key] = ConventionEnvironment(
                where.key, where.home, where.base_name, where.role, where.by_folder
            )
        env.files.append((path, where.reason))
    dependency_folders = {posixpath.dirname(p) for p in loose if is_dependency_file(p)}
    environments = _join_file_environments(list(envs.values()), dependency_folders)
    projects = find_projects(environments)
    environments = _merge_by_name_environments(environments)
    single = len(projects) <= 1 and all(
        e.project == (projects[0].name if projects else "") for e in environments
    )
    _name(environments, by_location=not single)
    shared, unassigned = _place_shared(loose, projects, environments)
    return ConventionPlan(tuple(environments), tuple(projects), tuple(shared), tuple(unassigned))


def _join_file_environments(
    envs: list[ConventionEnvironment], dependency_folders: set[str]
) -> list[ConventionEnvironment]:
    """A file placed by its name joins the nearest folder environment of its role whose
    folder holds it (``requirements-train.txt`` or ``k8s/serving.yaml`` beside
    ``training/`` / ``serving/``), when that one is unambiguous; files of one role placed
    by name in one folder (``train.py``, ``pipeline.py``) are one environment."""
    folders = _merge_nested_folders([e for e in envs if e.by_folder], envs)
    out = list(folders)

    def is_code(env: ConventionEnvironment) -> bool:
        return all(p.endswith((".py", ".ipynb")) for p, _ in env.files)

    def describes(env: ConventionEnvironment, folder: ConventionEnvironment) -> bool:
        """Environment files describe a folder side named by role words alone when they
        are beside it or one folder down (``requirements-train.txt`` or ``k8s/serving.yaml``
        beside ``serving/``), not from deep in another example (``pipelines/`` at the root
        is not ``object_detection/docker/Dockerfile.training``'s side); a folder named for a
        project (``chapter-05-deployment/``) holds its own files only."""
        if not folder.role_named:
            return is_under(env.home, folder.key)
        return is_under(env.home, folder.home) and depth(env.home) <= depth(folder.home) + 1

    # environment files first, so code can find the side they formed above it
    for env in sorted((e for e in envs if not e.by_folder), key=is_code):
        # code named for a role (docker/flask_web/app.py) is its own folder's, not a
        # distant folder environment's; environment files (k8s/serving.yaml,
        # requirements-train.txt) describe the folder environment above them
        code = is_code(env)
        holders = [
            f
            for f in folders
            if f.role == env.role and (env.home == f.home if code else describes(env, f))
        ]
        if code and not holders:
            # src/pkg/train.py under a folder whose Dockerfile.train / requirements-train.txt
            # formed the training side: that side's code, not a side of its own
            holders = [
                o
                for o in out
                if o.role == env.role
                and not is_code(o)
                and is_under(env.home, o.home)
                and o.home != env.home
            ]
            if env.home in dependency_folders:
                # ui/app.py beside ui/requirements.txt is a side of its own (a Flask UI
                # next to a ks_app/ deployment folder), not code of a side elsewhere
                holders = []
        deepest = max((depth(f.home) for f in holders), default=-1)
        nearest = [f for f in holders if depth(f.home) == deepest]
        if len(nearest) == 1:
            into = nearest[0]
            into.files.extend(env.files)
            if env.base_name == env.role and into.base_name not in ("training", "serving"):
                # notebooks/ + train.py + Dockerfile.train: the training side, not "notebooks"
                into.base_name = env.role
            continue
        same = next(
            (o for o in out if not o.by_folder and o.role == env.role and o.home == env.home),
            None,
        )
        if same is not None:
            same.files.extend(env.files)
            same.base_name = env.role
        else:
            out.append(env)
    return out


def _merge_nested_folders(
    folders: list[ConventionEnvironment], everything: list[ConventionEnvironment]
) -> list[ConventionEnvironment]:
    """A folder environment inside another of the same role is part of it
    (``training/notebooks/`` is the training side, not a second one) — unless the outer
    folder also holds an environment of the other role: then it is a collection of
    projects (``pipelines/components/t2t/{t2t_train,t2t_app}``), and the inner side
    belongs to the project it forms with its neighbour."""

    def holds_other_role(outer: ConventionEnvironment) -> bool:
        return any(o.role != outer.role and is_under(o.home, outer.key) for o in everything)

    out: list[ConventionEnvironment] = []
    for env in sorted(folders, key=lambda e: depth(e.key)):
        outer = max(
            (
                o
                for o in out
                if o.role == env.role and is_under(env.key, o.key) and not holds_other_role(o)
            ),
            key=lambda o: depth(o.key),
            default=None,
        )
        if outer is None:
            out.append(env)
        else:
            outer.files.extend(env.files)
    return out


def _merge_by_name_environments(
    envs: list[ConventionEnvironment],
) -> list[ConventionEnvironment]:
    """In one project, the files placed by their names (``train.py``, ``Dockerfile.train``,
    ``serve.py``, ``Dockerfile.serve``) of a role that has no folder environment are one
    environment, named after the role: one side of a flat project, not one per folder."""
    out: list[ConventionEnvironment] = []
    merged: dict[tuple[str, Role], ConventionEnvironment] = {}
    for env in envs:
        folders = [
            e for e in envs if e.by_folder and e.role == env.role and e.project == env.project
        ]
        if env.by_folder or not env.project or folders:
            out.append(env)
            continue
        key = (env.project, env.role)
        into = merged.get(key)
        if into is None:
            merged[key] = env
            out.append(env)
            continue
        into.files.extend(env.files)
        into.base_name = env.role
        into.home = common_folder([into.home, env.home])
    return out


class Located(Protocol):
    """What project finding needs of an environment."""

    home: str
    role: Role
    project: str

    @property
    def role_named(self) -> bool: ...


def find_projects(envs: Sequence[Located], known: Sequence[Project] = ()) -> list[Project]:
    """Give each environment without a project the deepest folder that holds training and
    serving environments not yet in a deeper project (see the module docstring); sets
    ``project`` on the environments it places and returns the new projects."""
    folders: set[str] = {""}
    for env in envs:
        # by parts, not dirname: a malformed home ("/x", "a//b") must still end
        parts = env.home.split("/") if env.home else []
        folders.update("/".join(parts[:n]) for n in range(1, len(parts) + 1))
    projects: list[Project] = []
    for folder in sorted(folders, key=lambda f: (-depth(f), f)):
        unclaimed = [e for e in envs if not e.project and is_under(e.home, folder)]
        if {e.role for e in unclaimed} != {"training", "serving"}:
            continue
        if any(is_under(p.folder, folder) for p in (*known, *projects)):
            # a container of projects (a monorepo of examples): only its own
            # environments can be a project (its training/ and serving/ folders, not
            # sibling examples named batch-inference/ or chapter2_training/); its
            # sub-folders' single-sided leftovers stay apart, never paired across examples
            unclaimed = [e for e in unclaimed if e.home == folder and e.role_named]
            if {e.role for e in unclaimed} != {"training", "serving"}:
                continue
        for env in unclaimed:
            env.project = project_name(folder)
        shown = f"{folder}/" if folder else "the repository root"
        projects.append(Project(folder, f"training and serving environments under {shown}"))
    return projects


def project_name(folder: str) -> str:
    """A project's name: its folder, "." for the repository root."""
    return folder or "."


def _name(envs: list[ConventionEnvironment], *, by_location: bool) -> None:
    """Names users read in every report. In a repository of one project, each
    environment's shortest unique name (``training``, ``api``; ``a/training`` beside
    ``b/training``); in a monorepo, its folder (``mnist/serving``), so every name says
    where it is. Numbered when nothing else tells two apart."""
    prefix = {id(e): 0 for e in envs}
    for env in envs:
        env.name = env.base_name
        if by_location:
            folders = [p for p in env.home.split("/") if p]
            prefix[id(env)] = len(folders)
            env.name = "/".join([*folders, env.base_name])
    while True:
        groups: dict[str, list[ConventionEnvironment]] = {}
        for env in envs:
            groups.setdefault(env.name, []).append(env)
        clashing = [g for g in groups.values() if len(g) > 1]
        if not clashing:
            return
        grew = False
        for group in clashing:
            for env in group:
                folders = [p for p in env.home.split("/") if p]
                if prefix[id(env)] < len(folders):
                    prefix[id(env)] += 1
                    env.name = "/".join([*folders[-prefix[id(env)] :], env.base_name])
                    grew = True
        if not grew:
            for group in clashing:
                for n, env in enumerate(group[1:], start=2):
                    env.name = f"{env.name}-{n}"
            return


def _place_shared(
    loose: Iterable[str], projects: Sequence[Project], envs: Sequence[ConventionEnvironment]
) -> tuple[list[tuple[str, str, str]], list[str]]:
    """Files no keyword places belong to both sides of the nearest project that holds
    them: the files directly in its folder, its shared folders (``common/``, ``lib/``...)
    and any Python code. With one project in the repo, it holds the repository's root
    files and shared folders too (its code elsewhere only when no side is outside every
    project: not a book's one paired chapter's). With none (one side found by name, e.g. ``train.py``
    beside an unnamed app), the folder holding every environment lends them its files,
    so the audit can still find the app's entrypoint and derive the serving side.

    Returns (path, reason, project name) — project "" for that last, provisional case."""
    shared: list[tuple[str, str, str]] = []
    unassigned: list[str] = []
    only = projects[0].folder if len(projects) == 1 else None
    # the one project is a folder beside sides of no project (one chapter of a book that
    # pairs, beside chapters of notebooks): code elsewhere in the repository is not its own
    beside = bool(only) and any(not e.project for e in envs)
    provisional = not projects and bool(envs)
    if provisional:
        only = common_folder([e.home for e in envs])
    loose = list(loose)
    # a project folder with a dependency file of its own does not install the repository
    # root's (a course repo's requirements-dev.txt is its tooling, not the chapter's)
    own_deps = {
        p.folder
        for p in projects
        if p.folder
        and any(
            is_dependency_file(f) and is_under(f, p.folder)
            for f in (*loose, *(f for e in envs for f, _ in e.files))
        )
    }
    for path in loose:
        holder = max(
            (p for p in projects if is_under(path, p.folder)),
            key=lambda p: depth(p.folder),
            default=None,
        )
        folder = holder.folder if holder is not None else only
        if folder is None:
            unassigned.append(path)
            continue
        inside = holder is not None
        if is_tooling_dependency_file(path):
            # shared by folder, a dev / CI file would make pytest a leftover of every side
            unassigned.append(path)
            continue
        if not inside and folder in own_deps and is_dependency_file(path):
            unassigned.append(path)
            continue
        relative = path.split("/")[depth(folder) :] if inside else path.split("/")
        if not relative:  # a path that names a folder of the plan, not a file in it
            unassigned.append(path)
            continue
        at_root = len(relative) == 1 or relative[0].lower() in SHARED_DIRS
        if path.endswith(".py") and (inside or at_root or not beside):
            reason = "shared code: no environment keyword in its path"
        elif at_root and not path.endswith(".py"):
            reason = (
                "shared: repository root or shared folder"
                if folder == "" or not inside
                else f"shared: project folder {folder}/ or its shared folder"
            )
        else:
            unassigned.append(path)
            continue
        shared.append((path, reason, "" if provisional else project_name(folder)))
    return shared, unassigned


def common_folder(folders: Sequence[str]) -> str:
    """The deepest folder that holds all of ``folders``."""
    split = [f.split("/") if f else [] for f in folders]
    common: list[str] = []
    for parts in zip(*split, strict=False):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    return "/".join(common)
