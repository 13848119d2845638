"""What the rules read: one view per environment and one per compared pair, built once.

Rules used to rebuild the merged packages, config groups, network classification and
import graph of both sides in each rule, kept affordable by identity caches, and skipped
each other's cases by comments. Now :mod:`depaudit.compare` builds an
:class:`EnvironmentView` once per environment of a tree and a :class:`PairView` once per
compared pair; every derived view is computed on first use and shared by all rules of
that pair (and, for one side's views, by every pair the environment is in). Cross-side
decisions that several rules depend on (which rule owns a package, a config key, a
network target) are made once here, so a rule is a filter and a message.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from packaging.utils import canonicalize_name

from depaudit.code_graph import distribution_candidates
from depaudit.entrypoints import CodeAnalysis, build_analysis, code_modules
from depaudit.knowledge import Entry, Knowledge
from depaudit.model import (
    CodeModule,
    ConfigEntry,
    Entrypoint,
    EnvironmentSnapshot,
    Include,
    Package,
    Pair,
    Role,
)
from depaudit.rules.config_keys import ConfigKey, config_keys, leftover_rule
from depaudit.rules.merged_packages import MergedPackage, allowed, merged_packages, training_entry
from depaudit.rules.network_targets import Target, classify, targets
from depaudit.rules.version_ranges import have_common_version, same_version


@dataclass(eq=False)
class EnvironmentView:
    """One environment snapshot and the views of it that rules share."""

    snapshot: EnvironmentSnapshot
    knowledge: Knowledge

    @property
    def name(self) -> str:
        return self.snapshot.name

    @property
    def role(self) -> Role:
        return self.snapshot.role

    def of_type(self, cls: type[Any]) -> list[Any]:
        return self.snapshot.of_type(cls)

    @cached_property
    def packages(self) -> dict[str, MergedPackage]:
        """Canonical name -> the package merged across the files that declare it."""
        return merged_packages(self.snapshot)

    @cached_property
    def config(self) -> dict[str, ConfigKey]:
        """Normalised config key -> its entries."""
        return config_keys(self.snapshot)

    @cached_property
    def config_leftovers(self) -> dict[str, tuple[str, Entry]]:
        """Normalised key -> (DA301 | DA302, entry) for the keys knowledge marks as training's."""
        out: dict[str, tuple[str, Entry]] = {}
        for key, cfg in self.config.items():
            entry = self.knowledge.config_key(key)
            if entry is not None:
                out[key] = (leftover_rule(entry, cfg.secret), entry)
        return out

    @cached_property
    def targets(self) -> dict[str, Target]:
        """Network item -> the first target naming it."""
        return targets(self.snapshot)

    @cached_property
    def classified_targets(self) -> dict[str, tuple[str, Entry | None]]:
        """Network item -> (the rule that owns it in serving, the entry that says why)."""
        return {item: classify(t, self.knowledge) for item, t in self.targets.items()}

    @cached_property
    def code_modules(self) -> dict[str, CodeModule]:
        return code_modules(self.snapshot)

    @cached_property
    def config_plugins(self) -> dict[str, ImportSite]:
        """Distributions its config files load by name, never imported (see
        :func:`config_plugins`): once per environment, whichever pairs and rules ask."""
        return config_plugins(self.snapshot, self.knowledge)


PackageSide = Literal["training", "serving", ""]

# Installers and build tools: an image installs them to install the rest (``pip install
# pipenv && pipenv install --system``); on one side only they say nothing of the model.
PACKAGING_TOOLS: frozenset[str] = frozenset(
    {
        "pip", "setuptools", "wheel", "pipenv", "poetry", "poetry-core", "uv", "pip-tools",
        "pdm", "hatch", "hatchling", "virtualenv", "build", "flit", "flit-core",
    }
)  # fmt: skip
# Packages a service needs without importing them: servers started by a command, drivers
# and plugins loaded by name (SQLAlchemy URLs, FastAPI form parsing), packaging tools.
USED_WITHOUT_IMPORT: frozenset[str] = PACKAGING_TOOLS | frozenset(
    {
        "uvicorn", "gunicorn", "hypercorn", "daphne", "waitress", "uwsgi", "granian",
        "gevent", "eventlet", "uvloop", "httptools", "watchfiles", "websockets",
        "python-multipart", "email-validator", "orjson", "ujson",
        "psycopg", "psycopg2", "psycopg2-binary", "pymysql", "mysqlclient", "asyncpg",
        "supervisor", "gunicorn-worker",
        # AzureML's scoring server, started by the platform around score.py
        "azureml-defaults", "azureml-inference-server-http",
    }
)  # fmt: skip
# Modules whose use in serving code means a model is unpickled: the library that pickled
# it (scikit-learn, xgboost ...) is then needed at load time without any import of it.
# (torch.load and keras load their own formats: the framework is imported anyway.)
UNPICKLERS: frozenset[str] = frozenset(
    {"pickle", "joblib", "dill", "cloudpickle", "skops", "mlflow", "bentoml"}
)
# A serving config value or copied file with one of these endings is a pickled model.
PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".sav", ".dill", ".cloudpickle")


@dataclass(frozen=True, slots=True)
class ImportSite:
    """Where a module imports a distribution: shown as evidence."""

    file: str
    line: int
    module: str  # the import as written ("hydra", "ray.tune.search.hyperopt")
    how: str = "import"  # or "config selects" (a plugin a config file names)

    def __str__(self) -> str:
        return f"{self.file}:{self.line} ({self.how} {self.module})"


@dataclass(frozen=True, slots=True)
class PackageUsage:
    """Which distributions the two sides' code uses.

    ``serving`` holds what code reachable from the serving entrypoints imports (plus what
    serving's commands run); ``training`` where training code (its scripts, modules
    serving does not reach, notebooks) imports each distribution. ``known`` is False when
    serving has no code or no entrypoint was found: then nothing can be said from usage.
    ``pickled`` holds the libraries of the objects training code pickles (where it does);
    ``pickled_known`` says every object training pickles was traced to its library.
    """

    serving: frozenset[str]
    training: dict[str, ImportSite]
    unpickles: bool  # serving loads pickled models (pickle / joblib / mlflow code, a .pkl path)
    known: bool
    pickled: dict[str, ImportSite] = field(default_factory=dict)
    pickled_known: bool = False


@dataclass(frozen=True, slots=True)
class PackageComparison:
    """One package name of a pair and which package rules it belongs to.

    The precedence between the package rules lives here, in one place: a training-only
    package declared in serving (DA101) is never also "shared" (DA104) or "serving only"
    (DA105); two exact versions that differ are DA102, ranges that exclude each other
    DA103, anything compatible DA104.
    """

    name: str
    training: MergedPackage | None
    serving: MergedPackage | None
    leftover: Entry | None = None  # DA101: why it is training-only
    training_use: ImportSite | None = None  # DA106: only training code imports it
    loose_in_serving: bool = False  # DA107: pinned in training, unpinned / looser in serving
    pinned_apart: bool = False  # DA102
    incompatible: bool = False  # DA103
    shared_how: str = ""  # DA104: how the two sides agree
    one_side: PackageSide = ""  # DA105


def requirement(pkg: MergedPackage) -> str:
    """What a side asks for, as a specifier: its exact version if known, else its range."""
    return f"=={pkg.version}" if pkg.version else pkg.specifier


def is_range(specifier: str) -> bool:
    """A declared range (``>=1.12``), not empty and not an exact pin (``==1.3.2``)."""
    if not specifier:
        return False
    return not any(
        part.strip().startswith(("==", "===")) and "*" not in part for part in specifier.split(",")
    )


def config_plugins(env: EnvironmentSnapshot, knowledge: Knowledge) -> dict[str, ImportSite]:
    """Distributions an environment's config files load by name, never imported: a Hydra
    defaults entry ``- override hydra/job_logging: colorlog`` (flattened to the key
    ``defaults[0].override hydra/job_logging``) uses hydra-colorlog."""
    table = knowledge.config_plugins
    out: dict[str, ImportSite] = {}
    if not table:
        return out
    for entry in env.facts:
        if not isinstance(entry, ConfigEntry) or "hydra/" not in entry.key:
            continue
        group = entry.key.rsplit(".", 1)[-1].removeprefix("override ").strip()
        selected = f"{group}: {entry.value.strip()}"
        dist = table.get(selected)
        if dist is not None:
            out.setdefault(
                canonicalize_name(dist),
                ImportSite(entry.file, entry.line, selected, how="config selects"),
            )
    return out


@dataclass(eq=False)
class PairView:
    """A training x serving pair as the rules see it."""

    pair: Pair
    training: EnvironmentView
    serving: EnvironmentView
    knowledge: Knowledge
    allow_lists: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        training: EnvironmentSnapshot,
        serving: EnvironmentSnapshot,
        knowledge: Knowledge,
        allow_lists: dict[str, tuple[str, ...]] | None = None,
    ) -> PairView:
        """The view of two snapshots compared on their own (no other pair shares views)."""
        return cls(
            Pair(training.name, serving.name),
            EnvironmentView(training, knowledge),
            EnvironmentView(serving, knowledge),
            knowledge,
            dict(allow_lists or {}),
        )

    def allow(self, rule_id: str) -> tuple[str, ...]:
        """Items the repo's config allows for this rule (``[rules.DA101] allow = [...]``)."""
        return self.allow_lists.get(rule_id, ())

    @cached_property
    def code(self) -> CodeAnalysis:
        """The import graph of both sides and what the serving entrypoints reach."""
        return build_analysis(self.training.snapshot, self.serving.snapshot)

    @cached_property
    def config_leftover_keys(self) -> frozenset[str]:
        """Serving config keys DA301 / DA302 report (not allowed by their rule): they are
        never also "shared" (DA304) or "drift" (DA303)."""
        out = set()
        for key, (rule, _entry) in self.serving.config_leftovers.items():
            if key.lower() not in {a.lower() for a in self.allow(rule)}:
                out.add(key)
        return frozenset(out)

    @cached_property
    def usage(self) -> PackageUsage:
        """Which distributions serving-reachable code and training code import."""
        code = self.code
        reached = code.reached_serving()
        known = bool(reached) and not code.fallback
        names = self.knowledge.import_names
        serving: set[str] = set()
        unpickles = False
        for mod in reached:
            for ref in mod.imports:
                if code.graph.is_local(ref.name, mod.module):
                    continue
                serving |= distribution_candidates(ref.name, names)
                unpickles |= ref.name.split(".", 1)[0] in UNPICKLERS
        for ep in self.serving.of_type(Entrypoint):
            serving |= {canonicalize_name(w) for w in ep.command.replace("/", " ").split()}
        serving |= self.serving.config_plugins.keys()
        unpickles = unpickles or any(
            value.lower().rstrip("\"' ").endswith(PICKLE_SUFFIXES)
            for value in (
                *(c.value for c in self.serving.of_type(ConfigEntry)),
                *(i.target for i in self.serving.of_type(Include) if i.kind == "copy"),
            )
        )
        reach = set(code.reach)
        training: dict[str, ImportSite] = {}
        pickled: dict[str, ImportSite] = {}
        untraced = False  # an object training pickles whose library the code does not say
        for name in sorted(code.training_modules):
            if name in reach:
                continue  # serving runs it: not training-only code
            mod = code.training_modules[name]
            for ref in mod.imports:
                if code.graph.is_local(ref.name, mod.module):
                    continue
                for dist in distribution_candidates(ref.name, names):
                    training.setdefault(dist, ImportSite(mod.file, ref.line, ref.name))
            for made in mod.pickled:
                dists = (
                    distribution_candidates(made.name, names)
                    if made.name and not code.graph.is_local(made.name, mod.module)
                    else set()
                )
                untraced |= not dists
                for dist in dists:
                    pickled.setdefault(dist, ImportSite(mod.file, made.line, made.name))
        for dist, site in self.training.config_plugins.items():
            training.setdefault(dist, site)
        return PackageUsage(
            frozenset(serving),
            training,
            unpickles,
            known,
            pickled,
            pickled_known=bool(pickled) and not untraced,
        )

    @cached_property
    def packages(self) -> tuple[PackageComparison, ...]:
        """Every package name either side declares, with the rule that owns it."""
        return tuple(self._compare_packages())

    def _training_use(self, name: str, pkg: MergedPackage) -> ImportSite | None:
        """Where training code imports a serving-declared package that serving never uses
        (DA106), or None: used by serving, needed without an import, or not known."""
        usage = self.usage
        if not usage.known or not pkg.direct or name not in usage.training:
            return None
        if name in usage.serving or name in USED_WITHOUT_IMPORT:
            return None
        if any(name.startswith(u + "-") for u in usage.serving):
            return None  # opencv-python-headless, psycopg2-binary ship their base module
        if name in self._needed_by_serving:
            return None  # a dependency of something serving imports
        if usage.unpickles and name in usage.pickled:
            return None  # serving unpickles what training pickled with it
        if (
            usage.unpickles
            and not usage.pickled_known
            and name in self.knowledge.inference_packages
        ):
            return None  # a pickled model needs the library that pickled it (not traced)
        return usage.training[name]

    @cached_property
    def _needed_by_serving(self) -> frozenset[str]:
        """Packages that what serving imports requires (lock files' and live trees'
        ``requires``, else the knowledge base's table of well-known runtime needs)."""
        graph: dict[str, set[str]] = {}
        for fact in self.serving.of_type(Package):
            if fact.requires:
                graph.setdefault(canonicalize_name(fact.name), set()).update(fact.requires)
        for name, needs in self.knowledge.runtime_needs.items():
            graph.setdefault(name, set()).update(needs)
        seen: set[str] = set()
        roots = set(self.usage.serving)
        if self.usage.unpickles:
            roots |= self.usage.pickled.keys()  # unpickling imports them and what they need
        stack = [n for n in roots if n in graph]
        while stack:
            for dep in graph.get(stack.pop(), ()):
                if dep not in seen:
                    seen.add(dep)
                    stack.append(dep)
        return frozenset(seen)

    def _compare_packages(self) -> Iterator[PackageComparison]:
        training, serving = self.training.packages, self.serving.packages
        allow = {
            rule: allowed(self.allow(rule))
            for rule in ("DA101", "DA102", "DA103", "DA106", "DA107")
        }
        for name in sorted(training.keys() | serving.keys()):
            t, s = training.get(name), serving.get(name)
            # a training-only package in serving: a leftover, not good news nor "serving only";
            # allowed in serving ([rules.DA101] allow), it is not reported at all
            known = training_entry(s, self.knowledge) if s is not None else None
            if known is not None and name in allow["DA101"]:
                if t is not None and t.direct:
                    yield PackageComparison(name, t, s)  # said of nothing: the user allowed it
                    continue
                known = None
            leftover = known if s is not None and s.direct else None
            use = None
            if s is not None and leftover is None and known is None and name not in allow["DA106"]:
                use = self._training_use(name, s)
            if t is None or s is None:
                side: PackageSide = ""
                if t is not None and t.direct:
                    side = "training"
                elif s is not None and s.direct and known is None and use is None:
                    side = "serving"
                yield PackageComparison(
                    name, t, s, leftover=leftover, training_use=use, one_side=side
                )
                continue
            if use is not None:  # serving should not have it at all: no drift, not shared
                yield PackageComparison(name, t, s, training_use=use)
                continue
            # a leftover (DA101) is to be removed from serving: its version drift would be
            # a second row for the same package
            pinned_apart = bool(
                leftover is None
                and t.version
                and s.version
                and t.version != s.version
                and not same_version(t.version, s.version)
                and name not in allow["DA102"]
            )
            incompatible = leftover is None and name not in allow["DA103"] and _incompatible(t, s)
            loose = (
                bool(t.version)
                and not s.version
                and not incompatible
                and known is None
                and name not in allow["DA107"]
            )
            yield PackageComparison(
                name,
                t,
                s,
                leftover=leftover,
                loose_in_serving=loose,
                pinned_apart=pinned_apart,
                incompatible=incompatible,
                shared_how="" if known is not None or loose else _shared_how(t, s),
            )


def _incompatible(t: MergedPackage, s: MergedPackage) -> bool:
    if t.version and s.version:
        # Two exact versions are DA102's, unless the ranges people declared (not the lock
        # files) exclude each other: relocking cannot fix that.
        return (
            is_range(t.declared)
            and is_range(s.declared)
            and not have_common_version(t.declared, s.declared)
        )
    return not have_common_version(requirement(t), requirement(s))


def _shared_how(t: MergedPackage, s: MergedPackage) -> str:
    if t.version and s.version:
        return f"the same version {s.version}" if same_version(t.version, s.version) else ""
    if t.specifier == s.specifier and not t.version and not s.version:
        return f"the same requirement {s.specifier or '(unconstrained)'}"
    if have_common_version(requirement(t), requirement(s)):
        return "compatible requirements (pin both to the same version to be sure)"
    return ""
