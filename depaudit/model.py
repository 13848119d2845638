"""The data model shared by every part of depaudit: facts, environments, findings.

Everything here is a frozen dataclass so that facts can be hashed, deduplicated by
content and cached by blob sha without defensive copies. This module imports nothing
of ours (checked by import-linter).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from depaudit.identity_memo import IdentityMemo

Role = Literal["training", "serving"]
ROLES: tuple[Role, ...] = ("training", "serving")

Status = Literal["shared", "drift", "leftover", "training_only", "serving_only", "error"]
STATUSES: tuple[Status, ...] = (
    "leftover",
    "drift",
    "shared",
    "training_only",
    "serving_only",
    "error",
)

Kind = Literal["package", "runtime", "system_package", "config", "network", "resource", "code"]
KINDS: tuple[Kind, ...] = (
    "package",
    "runtime",
    "system_package",
    "config",
    "network",
    "resource",
    "code",
)

Severity = Literal["high", "medium", "low", "info"]
SEVERITIES: tuple[Severity, ...] = ("high", "medium", "low", "info")
SEVERITY_RANK: dict[str, int] = {"high": 3, "medium": 2, "low": 1, "info": 0}


# --------------------------------------------------------------------------- facts
#
# Every fact carries the file (repo-relative, POSIX) and 1-based line it came from,
# and an optional ``scope``: the compose service or Kubernetes workload it belongs to
# when one file describes several (the environment finder assigns scoped facts by
# the scope's name).


@dataclass(frozen=True, slots=True)
class Package:
    """A Python distribution a file declares or an interpreter has installed."""

    name: str  # canonical (PEP 503) name
    file: str
    line: int
    specifier: str = ""  # e.g. ">=1.2,<2"; "==1.4.2" for pins
    version: str = ""  # exact version when pinned (== / ===) or locked / installed
    extras: tuple[str, ...] = ()
    marker: str = ""
    direct: bool = True  # False for transitive entries of lock files / live trees
    origin: Literal["declared", "installed"] = "declared"
    group: str = ""  # "" for main deps; e.g. "dev", "test", "docs", an extra's name
    # "extra" (PEP 621 optional-dependencies) or "group" (PEP 735 / Poetry group): installed
    # only when an install command asks (see ProjectInstall)
    optional: str = ""
    url: str = ""  # direct URL / VCS reference, credentials stripped
    editable: bool = False
    manager: str = "pip"  # pip | conda | poetry | uv | pipenv | image (installed by the base image)
    scope: str = ""
    requires: tuple[str, ...] = ()  # canonical names this one depends on (lock / live)
    # live only: PEP 508 requirement strings behind ``requires`` ("idna<4,>=2.5"), so a
    # broken installed tree (missing / conflicting requirement) can be judged later
    requirements: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Runtime:
    """A runtime property: python, os, base_image, cuda."""

    item: Literal["python", "os", "base_image", "cuda"]
    value: str  # "3.10", "debian 12", "python:3.10-slim@sha256:..", "12.1 devel"
    file: str
    line: int
    scope: str = ""
    detail: str = ""  # e.g. "devel" / "runtime" for cuda, "inferred from tag" for os


@dataclass(frozen=True, slots=True)
class SystemPackage:
    """An OS package installed in an image (apt-get / apk / yum / conda non-python)."""

    name: str
    file: str
    line: int
    manager: str = "apt"  # apt | apk | yum | dnf | conda
    version: str = ""
    scope: str = ""


@dataclass(frozen=True, slots=True)
class ConfigEntry:
    """One flattened configuration key. ``value`` is already masked if secret."""

    key: str  # dotted path, e.g. "database.password", "ENV.WANDB_API_KEY"
    value: str
    file: str
    line: int
    secret: bool = False
    scope: str = ""


@dataclass(frozen=True, slots=True)
class NetworkTarget:
    """A host / URL / DSN / bucket / warehouse project the environment reaches."""

    target: str  # host, "s3://bucket", "bigquery:project", a URL without credentials
    kind: Literal["url", "host", "dsn", "bucket", "warehouse", "index"]
    file: str
    line: int
    key: str = ""  # the config key it came from, if any
    scope: str = ""


@dataclass(frozen=True, slots=True)
class Resource:
    """A compute request or limit: gpu, cpu, memory."""

    name: Literal["gpu", "cpu", "memory"]
    amount: float  # gpus: count; cpu: cores; memory: bytes
    raw: str  # as written: "2", "500m", "16Gi"
    file: str
    line: int
    bound: Literal["request", "limit"] = "request"
    scope: str = ""


@dataclass(frozen=True, slots=True)
class ImportRef:
    """One import statement target, already made absolute (relative imports resolved)."""

    name: str  # dotted module, e.g. "training.train", "sklearn.model_selection"
    line: int
    dynamic: bool = False  # importlib.import_module("literal")
    optional: bool = False  # inside try: ... except ImportError (it has a fallback)


@dataclass(frozen=True, slots=True)
class CallRef:
    """A call a rule can judge (e.g. ``fit``, ``wandb.init``, ``.backward``)."""

    name: str  # dotted as written with imports resolved where possible
    line: int


@dataclass(frozen=True, slots=True)
class FileRef:
    """A model file code saves or loads by a literal path (``joblib.dump(m, "models/clf.joblib")``)."""

    path: str  # as written
    line: int


@dataclass(frozen=True, slots=True)
class Definition:
    """A top-level function or class, for finding copies of inference code."""

    name: str
    kind: Literal["function", "class"]
    line: int
    body_hash: str  # hash of the normalised body (docstrings / comments stripped)
    body: str  # normalised source (ast.unparse), used for diffs


@dataclass(frozen=True, slots=True)
class CodeModule:
    """A Python module of the audited repository, read with ``ast``."""

    module: str  # dotted module name ("serving.app", "pkg" for pkg/__init__.py)
    file: str
    line: int = 1
    is_package: bool = False
    imports: tuple[ImportRef, ...] = ()
    calls: tuple[CallRef, ...] = ()
    definitions: tuple[Definition, ...] = ()
    app_objects: tuple[str, ...] = ()  # e.g. ("FastAPI:app",) – serving entrypoint hints
    scope: str = ""
    # what it pickles: the callable that made each pickled object ("" = not known)
    pickled: tuple[CallRef, ...] = ()
    # model files it saves and loads by a literal path: a training side that saves the
    # file a serving side elsewhere loads is that side's training (projects.py)
    saves: tuple[FileRef, ...] = ()
    loads: tuple[FileRef, ...] = ()


@dataclass(frozen=True, slots=True)
class Include:
    """A reference from one file to another in the same commit (``-r``/``-c``, Dockerfile COPY).

    ``requirements``, ``constraints`` and ``config`` are read through. ``config`` is the
    config file code loads (``@hydra.main(config_path="../conf", config_name="config")``):
    its entries are that environment's config. A spec names more: ``code`` (the folder a
    job or deployment runs), ``environment`` (an environment used by name,
    ``azureml:NAME``) and ``defines`` (the environment a file defines, by that name).
    """

    target: str  # as written, resolved relative to ``file`` by the snapshot builder
    file: str
    line: int
    kind: Literal[
        "requirements", "constraints", "copy", "code", "environment", "defines", "config"
    ] = "requirements"
    scope: str = ""


@dataclass(frozen=True, slots=True)
class ProjectInstall:
    """An install of the project itself that names optional parts: ``pip install .[gpu]``,
    ``uv sync --extra gpu --group tuning``, ``poetry install --with docs``. Extras and
    non-default dependency groups are installed only when such a command asks for them."""

    file: str
    line: int
    extras: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    all_extras: bool = False
    all_groups: bool = False
    scope: str = ""


@dataclass(frozen=True, slots=True)
class Entrypoint:
    """A command that starts a process: Dockerfile CMD/ENTRYPOINT, compose / k8s command."""

    command: str  # the shell words joined by spaces
    file: str
    line: int
    module: str = ""  # dotted module when resolvable: "serving.app", "pkg.wsgi"
    scope: str = ""


@dataclass(frozen=True, slots=True)
class ImageBuild:
    """An image a build script builds (``docker build -t TAG -f FILE --build-arg K=V DIR``
    in a Makefile, a compose ``build:``): lets a Dockerfile's ``FROM ${ARG}`` or
    ``FROM local-tag`` be followed to the Dockerfile that builds that image."""

    tag: str  # "" when the command names none
    dockerfile: str  # repo-relative path of the Dockerfile it builds
    context: str  # repo-relative build context folder ("" for the root)
    args: tuple[str, ...] = ()  # build args as "NAME=value"
    file: str = ""
    line: int = 0
    scope: str = ""


@dataclass(frozen=True, slots=True)
class ParseError:
    """A file that could not be read or parsed. Never fatal; becomes an ``error`` finding."""

    file: str
    message: str  # one line
    line: int = 0
    scope: str = ""


@dataclass(frozen=True, slots=True)
class Scope:
    """A compose service / k8s workload declared in a file; lets the finder place it."""

    name: str
    file: str
    line: int
    build_path: str = ""  # compose build context / dockerfile path, repo-relative
    image: str = ""


Fact = (
    Package
    | Runtime
    | SystemPackage
    | ConfigEntry
    | NetworkTarget
    | Resource
    | CodeModule
    | Include
    | ProjectInstall
    | Entrypoint
    | ImageBuild
    | ParseError
    | Scope
)

FACT_TYPES: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        Package,
        Runtime,
        SystemPackage,
        ConfigEntry,
        NetworkTarget,
        Resource,
        CodeModule,
        Include,
        ProjectInstall,
        Entrypoint,
        ImageBuild,
        ParseError,
        Scope,
    )
}
_NESTED: dict[str, type[Any]] = {
    "imports": ImportRef,
    "calls": CallRef,
    "definitions": Definition,
    "pickled": CallRef,
    "saves": FileRef,
    "loads": FileRef,
}


def fact_to_dict(fact: Fact) -> dict[str, Any]:
    """JSON-ready form of a fact, tagged with its type; omits default values to stay small.

    Memoised: consecutive commits share almost all their facts, and every new
    environment state is serialised (to hash and store it). The copy keeps callers free
    to add keys.
    """
    return dict(_fact_dict(fact))


@functools.lru_cache(maxsize=262_144)
def _fact_dict(fact: Fact) -> dict[str, Any]:
    out: dict[str, Any] = {"type": type(fact).__name__}
    for name, default in _fields_of(type(fact)):
        value = getattr(fact, name)
        if default is not dataclasses.MISSING and value == default:
            continue
        if name in _NESTED:
            value = [dataclasses.astuple(v) for v in value]
        elif isinstance(value, tuple):
            value = list(value)
        out[name] = value
    return out


_FIELDS: dict[type[Any], tuple[tuple[str, Any], ...]] = {}


def _fields_of(cls: type[Any]) -> tuple[tuple[str, Any], ...]:
    known = _FIELDS.get(cls)
    if known is None:
        known = _FIELDS[cls] = tuple((f.name, f.default) for f in dataclasses.fields(cls))
    return known


def fact_from_dict(data: Mapping[str, Any]) -> Fact:
    """Inverse of :func:`fact_to_dict`."""
    cls = FACT_TYPES[data["type"]]
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        value = data[f.name]
        if f.name in _NESTED:
            value = tuple(_NESTED[f.name](*v) for v in value)
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[f.name] = value
    return cls(**kwargs)  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class SourceResult:
    """What one source module read from one file."""

    facts: tuple[Fact, ...] = ()

    def __iter__(self) -> Any:
        return iter(self.facts)


# --------------------------------------------------------------------- environments


@dataclass(frozen=True, slots=True)
class FileAssignment:
    """Why a file belongs to an environment (shown to the user)."""

    path: str
    reason: str  # e.g. 'config: include "api/**"', 'convention: folder "serving/"', "shared code"


@dataclass(frozen=True, slots=True)
class EnvironmentSpec:
    """An environment found in a tree: its name, role, how it was found and its files."""

    name: str
    role: Role
    origin: Literal["config", "convention", "entrypoint", "scope"]
    files: tuple[FileAssignment, ...] = ()
    entrypoints: tuple[str, ...] = ()  # configured serving entrypoint modules
    project: str = ""  # the project it belongs to ("." = the repository root; "" = none)
    home: str = ""  # the folder it lives in (repo-relative, "" for the root)


@dataclass(frozen=True, slots=True)
class EnvironmentSnapshot:
    """All facts of one environment at one commit. Deduplicated by :meth:`content_hash`."""

    name: str
    role: Role
    origin: Literal["config", "convention", "entrypoint", "scope"]
    files: tuple[FileAssignment, ...] = ()
    facts: tuple[Fact, ...] = ()
    entrypoints: tuple[str, ...] = ()
    observed: bool = False  # True for live (pipdeptree) snapshots
    project: str = ""  # see EnvironmentSpec.project

    def of_type(self, cls: type[Any]) -> list[Any]:
        """The facts of type ``cls``, in order (memoised: the rules of every pair of a
        state ask each environment for the same few types, many times)."""
        by_type = _BY_TYPE(self)
        found = by_type.get(cls)
        if found is None:
            found = by_type[cls] = tuple(f for f in self.facts if isinstance(f, cls))
        return list(found)

    def to_dict(self) -> dict[str, Any]:
        head = self.to_dict_without_facts()
        out = {key: head.pop(key) for key in ("name", "role", "origin", "files")}
        out["facts"] = [fact_to_dict(f) for f in self.facts]
        return {**out, **head}  # the stored order: facts after files

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EnvironmentSnapshot:
        return cls(
            name=data["name"],
            role=data["role"],
            origin=data["origin"],
            files=tuple(FileAssignment(p, r) for p, r in data.get("files", [])),
            facts=tuple(fact_from_dict(f) for f in data.get("facts", [])),
            entrypoints=tuple(data.get("entrypoints", [])),
            observed=bool(data.get("observed", False)),
            project=str(data.get("project", "")),
        )

    def content_hash(self) -> str:
        """``content_hash(self.to_dict())``, made from each fact's memoised JSON text.

        A new state serialised every fact of each changed environment again, though
        consecutive states share almost all fact objects (the blob cache hands out the
        same ones). The text is the one ``json.dumps`` with sorted keys gives for the
        whole dict: ``{"k":v,...}``, the facts as ``[f1,f2,...]``."""
        whole: dict[str, Any] = {**self.to_dict_without_facts(), "facts": None}
        members = []
        for key in sorted(whole):
            if key == "facts":
                value = "[" + ",".join(map(fact_json, self.facts)) + "]"
            else:
                value = _json_text(whole[key])
            members.append(f"{_json_text(key)}:{value}")
        return hashlib.sha256(("{" + ",".join(members) + "}").encode("utf-8")).hexdigest()

    def to_dict_without_facts(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "origin": self.origin,
            "files": [[a.path, a.reason] for a in self.files],
            "entrypoints": list(self.entrypoints),
            "observed": self.observed,
            **({"project": self.project} if self.project else {}),
        }


# an environment -> its facts by type (see EnvironmentSnapshot.of_type)
_BY_TYPE: IdentityMemo[EnvironmentSnapshot, dict[type[Any], tuple[Any, ...]]] = IdentityMemo(
    lambda env: {}, 512
)


def content_hash(data: Any) -> str:
    """Stable sha256 of a JSON-serialisable value (sorted keys)."""
    return hashlib.sha256(_json_text(data).encode("utf-8")).hexdigest()


def _json_text(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# A fact's JSON text in content hashes, by identity: hashing a fact (a module with its
# definitions) to find it in an ordinary memo costs about as much as serialising it.
fact_json: IdentityMemo[Fact, str] = IdentityMemo(lambda fact: _json_text(_fact_dict(fact)), 50_000)


# ------------------------------------------------------------------------- findings


@dataclass(frozen=True, slots=True)
class Finding:
    """One result of comparing a training and a serving environment.

    ``evidence`` holds longer supporting text (an import chain, a unified diff);
    it is shown by the dashboard and JSON, and left out of the CSV contract columns.
    """

    status: Status
    kind: Kind
    item: str
    severity: Severity
    rule: str
    message: str
    training_env: str = ""
    serving_env: str = ""
    training: str = ""
    serving: str = ""
    file: str = ""
    line: int = 0
    evidence: str = ""

    @property
    def key(self) -> str:
        """Identity across commits: the same key in consecutive commits is the same finding."""
        return "|".join(
            (self.training_env, self.serving_env, self.rule, self.kind, self.item, self.status)
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True, slots=True)
class FindingKey:
    """The parts of :attr:`Finding.key`, read back (the item may itself contain ``|``)."""

    training_env: str
    serving_env: str
    rule: str
    kind: str
    item: str
    status: str

    @classmethod
    def parse(cls, key: str) -> FindingKey | None:
        head = key.split("|", 4)
        if len(head) != 5 or "|" not in head[4]:
            return None
        item, status = head[4].rsplit("|", 1)
        return cls(head[0], head[1], head[2], head[3], item, status)


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Deterministic order: status, severity (high first), kind, item, rule."""
    status_rank = {s: i for i, s in enumerate(STATUSES)}
    return sorted(
        set(findings),
        key=lambda f: (
            f.training_env,
            f.serving_env,
            status_rank[f.status],
            -SEVERITY_RANK[f.severity],
            f.kind,
            f.item,
            f.rule,
            f.file,
            f.line,
        ),
    )


# ------------------------------------------------------------- pairs and audits


@dataclass(frozen=True, slots=True)
class Pair:
    """A training and a serving environment that are compared, and why they were paired."""

    training: str  # environment names
    serving: str
    project: str = ""  # the project both belong to ("" when the tree has no projects)
    reason: str = ""  # shown wherever pairs are shown: "same folder fraud/", "config", ...


@dataclass(frozen=True)  # not slots: content_hash is cached on the instance
class TreeAudit:
    """The audit of one tree (a commit or the working tree): what ``check`` prints and what
    ``collect`` stores as a commit's state. Built by :func:`depaudit.app.audit.audit_tree`
    only, so the gate, the baseline and the stored history agree on every commit."""

    environments: tuple[EnvironmentSnapshot, ...] = ()
    findings: tuple[Finding, ...] = ()
    pairs: tuple[Pair, ...] = ()
    unpaired: tuple[tuple[str, str], ...] = ()  # (environment, why it is compared with nothing)
    config_origin: str = ""  # ".depaudit.toml", "pyproject.toml", "conventions", a --config path
    config_errors: tuple[ParseError, ...] = ()  # an invalid config: conventions were used
    unassigned: tuple[str, ...] = ()  # environment-looking files placed in no environment

    @property
    def environment_hashes(self) -> tuple[str, ...]:
        return tuple(environment_hash(e) for e in self.environments)

    @functools.cached_property
    def content_hash(self) -> str:
        """Identity of the state: equal audits are stored once."""
        return content_hash(
            {
                "environments": list(self.environment_hashes),
                "findings": [finding_fields(f) for f in self.findings],
                "pairs": [dataclasses.astuple(p) for p in self.pairs],
                "unpaired": [list(u) for u in self.unpaired],
                "config_origin": self.config_origin,
                "config_errors": [[e.file, e.message] for e in self.config_errors],
                "unassigned": list(self.unassigned),
            }
        )


# Content hash of an environment, by identity: the snapshot builder hands out the same
# object for an environment whose files did not change, and serialising (or even hashing)
# thousands of facts per commit is the cost to avoid.
environment_hash: IdentityMemo[EnvironmentSnapshot, str] = IdentityMemo(
    lambda env: env.content_hash(), 4096
)


_FINDING_FIELDS = tuple(f.name for f in dataclasses.fields(Finding))


def finding_fields(finding: Finding) -> dict[str, Any]:
    """``Finding.to_dict()`` without ``dataclasses.asdict``'s deep copy (all fields are scalars)."""
    return {name: getattr(finding, name) for name in _FINDING_FIELDS}


# ------------------------------------------------------------------------ commits


@dataclass(frozen=True, slots=True)
class CommitInfo:
    """A commit as the history walk reads it."""

    sha: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    committed_at: str  # ISO 8601 UTC, "2026-03-01T12:00:00Z"
    summary: str
