"""From a pair's findings to the edits that separate its serving environment.

The findings decide *what* to change (so the proposal answers exactly what ``check``
reports, allow lists and ignored rules included); the serving environment's facts say
*where* (every file and line that declares a package); the file texts are edited by the
format's editor. Nothing here reads a file or runs a rule: the caller passes the
environments, the findings and the texts, which is what a stored commit state plus its
blobs hold.

- package leftovers (DA101, DA106): every serving declaration is removed, unless serving
  code imports the package (DA202): the service would then fail at start;
- package drift (DA102, DA103, DA107): every serving declaration is pinned to the version
  training effectively uses (its lock, its pin, its base image), or to training's
  requirement when training pins nothing;
- undeclared imports (DA204): declared in serving's main dependency file, pinned like
  training when training has the package;
- a CUDA devel base image (DA504): its ``-runtime`` twin;
- config keys and network targets (DA301, DA302, DA401-DA403): listed, never edited.

A file another environment installs too is not edited: a requirements file is split (a
serving copy next to it, and serving's ``-r`` / ``COPY`` lines pointed at the copy);
other formats are flagged. Lock files, hashes, base images and URL requirements are
flagged with what to do, never guessed.
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from depaudit.code_graph import ImportGraph, distribution_candidates
from depaudit.knowledge import builtin
from depaudit.model import (
    CodeModule,
    Entrypoint,
    EnvironmentSnapshot,
    Finding,
    Include,
    Package,
    Pair,
    ParseError,
)
from depaudit.secrets import scrub
from depaudit.split.command_edit import CommandOp, edit_commands
from depaudit.split.dockerfile_edit import DockerOp, edit_dockerfile, programs, programs_run
from depaudit.split.installers import CommandInstaller, command_installers, spec_files
from depaudit.split.model import Change, FileEdit, Flag, Listed, Proposal
from depaudit.split.requirements_edit import (
    EditResult,
    RequirementOp,
    edit_requirements,
    generated_by,
)
from depaudit.split.toml_edit import TomlOp, edit_toml

REMOVE_RULES = ("DA101", "DA106")
ALIGN_RULES = ("DA102", "DA107", "DA103")  # in the order their training value is trusted
DECLARE_RULE = "DA204"
IMAGE_RULE = "DA504"
IMPORT_RULE = "DA202"
LISTED_RULES = ("DA301", "DA302", "DA401", "DA402", "DA403")
PACKAGE_RULES = (*REMOVE_RULES, *ALIGN_RULES, "DA104", "DA105")
# Groups a package merge does not count (depaudit.rules.merged_packages.IGNORED_GROUPS):
# their declarations are not what makes a finding, so they are not edited.
IGNORED_GROUPS = frozenset({"dev", "test", "tests", "lint", "docs", "typing", "constraints"})
_LOCK_SUFFIXES = (".lock", "-lock.txt", ".lock.txt", "lock.json")
_LOCK_COMMANDS = {
    "poetry.lock": "poetry lock",
    "uv.lock": "uv lock",
    "pipfile.lock": "pipenv lock",
}
_DOCKERFILE = re.compile(
    r"(^|/)(Dockerfile|Containerfile)([._-][^/]*)?$|(^|/)[^/]+\.(Dockerfile|dockerfile|containerfile)$"
)


def is_lock_file(path: str) -> bool:
    name = path.rsplit("/", 1)[-1].lower()
    return name.endswith(_LOCK_SUFFIXES) or name in {"pipfile.lock", "poetry.lock", "uv.lock"}


def file_format(path: str) -> str:
    """``requirements``, ``pyproject``, ``pipfile``, ``dockerfile``, ``lock`` or ``other``."""
    name = posixpath.basename(path).lower()
    if is_lock_file(path):
        return "lock"
    if name == "pyproject.toml":
        return "pyproject"
    if name == "pipfile":
        return "pipfile"
    if _DOCKERFILE.search(path):
        return "dockerfile"
    if name.endswith((".txt", ".in")):
        return "requirements"
    return "other"


def is_version(text: str) -> bool:
    try:
        Version(text)
    except InvalidVersion:
        return False
    return True


def _specifier(text: str) -> str:
    """``text`` if it is a PEP 440 specifier (``>=1.2``), else ""."""
    if not text or text == "*":
        return ""
    try:
        SpecifierSet(text)
    except InvalidSpecifier:
        return ""
    return text


def _counts(fact: Package) -> bool:
    return fact.group.lower() not in IGNORED_GROUPS and fact.origin == "declared"


def files_to_read(environments: Sequence[EnvironmentSnapshot], pair: Pair) -> set[str]:
    """The files :func:`plan_split` may edit: every dependency file and Dockerfile the
    serving environment has facts from, and its specs that run ``pip install -r``. A
    caller with the texts of these (or more) gives the full proposal."""
    out: set[str] = set()
    for env in environments:
        if env.name != pair.serving:
            continue
        for fact in env.facts:
            path = getattr(fact, "file", "")
            if path and not path.endswith(".py") and file_format(path) != "other":
                out.add(path)
        out |= spec_files(env)
    return out


@dataclass
class _Plan:
    """Edit operations per file, and what the planner flagged on the way."""

    requirements: dict[str, list[RequirementOp]] = field(default_factory=lambda: defaultdict(list))
    toml: dict[str, list[TomlOp]] = field(default_factory=lambda: defaultdict(list))
    docker: dict[str, list[DockerOp]] = field(default_factory=lambda: defaultdict(list))
    commands: dict[str, list[CommandOp]] = field(default_factory=lambda: defaultdict(list))
    flags: list[Flag] = field(default_factory=list)
    lock_names: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    pending: dict[tuple[str, str], list[tuple[str, int, tuple[str, ...], str, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def flag(
        self, reason: str, item: str, file: str, line: int, message: str, rules: Iterable[str]
    ) -> None:
        self.flags.append(Flag(reason, item, file, line, message, tuple(rules)))  # type: ignore[arg-type]

    def flag_file(
        self,
        reason: str,
        file: str,
        message: str,
        items: Iterable[tuple[str, int, tuple[str, ...]]],
    ) -> None:
        """ONE flag for a file, whatever the number of packages it concerns: ``message``
        followed by the packages (a shared or unreadable file is one thing to do)."""
        listed = list(items)
        names = sorted({item for item, _, _ in listed if item})
        rules = tuple(sorted({r for _, _, rs in listed for r in rs}))
        lines = sorted({line for _, line, _ in listed if line})
        self.flags.append(
            Flag(
                reason,  # type: ignore[arg-type]
                ", ".join(names),
                file,
                lines[0] if len(lines) == 1 else 0,
                message
                + (f" ({_plural(len(names), 'package')}: {', '.join(names)})" if names else ""),
                rules,
            )
        )

    def note(
        self,
        reason: str,
        item: str,
        file: str,
        line: int,
        rules: Iterable[str],
        message: str,
        detail: str,
    ) -> None:
        """A per-package flag that is grouped with the others of its file and reason:
        alone it says ``message``; with others, :func:`_grouped_message` lists each
        ``detail``."""
        self.pending[(reason, file)].append((item, line, tuple(rules), message, detail))

    def flush_notes(self) -> None:
        for (reason, file), entries in sorted(self.pending.items()):
            if len(entries) == 1:
                item, line, rules, message, _ = entries[0]
                self.flag(reason, item, file, line, message, rules)
                continue
            lines = {line for _, line, _, _, _ in entries}
            self.flags.append(
                Flag(
                    reason,  # type: ignore[arg-type]
                    ", ".join(sorted({item for item, _, _, _, _ in entries})),
                    file,
                    lines.pop() if len(lines) == 1 else 0,
                    _grouped_message(reason, file, [d for *_, d in entries]),
                    tuple(sorted({r for _, _, rules, _, _ in entries for r in rules})),
                )
            )
        self.pending.clear()

    def files(self) -> set[str]:
        return set(self.requirements) | set(self.toml) | set(self.docker) | set(self.commands)


class _Planner:
    def __init__(
        self,
        environments: Sequence[EnvironmentSnapshot],
        pair: Pair,
        findings: Sequence[Finding],
        texts: Mapping[str, str],
        tree_paths: Collection[str] | None,
        outline: bool = False,
        starts: Collection[str] | None = None,
    ) -> None:
        by_name = {e.name: e for e in environments}
        if pair.serving not in by_name or pair.training not in by_name:
            raise KeyError(f"no environment {pair.serving!r} or {pair.training!r}")
        self.pair = pair
        self.serving = by_name[pair.serving]
        self.training = by_name[pair.training]
        self.findings = [
            f for f in findings if f.training_env == pair.training and f.serving_env == pair.serving
        ]
        self.texts = texts
        self.tree_paths = set(tree_paths) if tree_paths is not None else set(texts)
        self.known_paths = self.tree_paths | {a.path for e in environments for a in e.files}
        # files another environment has facts from, or is placed with: edits there would
        # change that environment (and its pairs' findings)
        self.elsewhere: dict[str, list[str]] = defaultdict(list)
        for env in environments:
            if env.name == self.serving.name:
                continue
            paths = {getattr(f, "file", "") for f in env.facts} | {a.path for a in env.files}
            for path in paths - {""}:
                self.elsewhere[path].append(env.name)
        self.broken: dict[str, str] = {}  # file -> its first parse error
        for error in sorted(self.serving.of_type(ParseError), key=lambda f: (f.file, f.line)):
            if error.file and error.message and error.file not in self.broken:
                where = f"line {error.line}: " if error.line else ""
                self.broken[error.file] = where + error.message
        self.declarations: dict[str, list[Package]] = defaultdict(list)
        for fact in self.serving.of_type(Package):
            if _counts(fact):
                self.declarations[canonicalize_name(fact.name)].append(fact)
        self.plan = _Plan()
        self.split_names: dict[str, str] = {}  # shared requirements file -> its serving copy
        self.repoints: dict[str, list[str]] = defaultdict(list)  # copy -> files pointed at it
        self.by_hand: dict[str, list[str]] = defaultdict(
            list
        )  # shared file -> installers to edit by hand
        self.outline = outline
        self.environments = environments
        self._code_imports: dict[str, tuple[str, int, str]] | None = None
        self._graph: ImportGraph | None = None
        self.starts = starts  # serving's modules where execution starts (None: unknown)

    # ---------------------------------------------------------------- decisions

    def by_rule(self, *rules: str) -> list[Finding]:
        return [f for f in self.findings if f.rule in rules]

    def imported_by_serving(self) -> dict[str, Finding]:
        """Distributions serving-reachable code imports (DA202 findings), by name."""
        names = builtin().import_names
        out: dict[str, Finding] = {}
        for f in self.by_rule(IMPORT_RULE):
            for dist in distribution_candidates(f.serving or f.item, names):
                out.setdefault(dist, f)
        return out

    def programs_run(self) -> dict[str, tuple[str, int, str]]:
        """Packages whose program serving's Dockerfiles or start commands run (name ->
        file, line, program): ``RUN dvc pull`` needs dvc installed, whatever imports."""
        names = builtin().import_names
        found: list[tuple[str, int, str]] = []
        for path, text in sorted(self.texts.items()):
            if file_format(path) == "dockerfile" and self.serving_reads(path):
                found += [(path, line, program) for line, program in programs_run(text)]
        for entry in self.serving.of_type(Entrypoint):
            found += [(entry.file, entry.line, p) for p in programs(entry.command.split())]
        out: dict[str, tuple[str, int, str]] = {}
        for file, line, program in found:
            for dist in {canonicalize_name(program)} | distribution_candidates(program, names):
                out.setdefault(dist, (file, line, program))
        return out

    def serving_reads(self, path: str) -> bool:
        return any(a.path == path for a in self.serving.files) or any(
            getattr(f, "file", "") == path for f in self.serving.facts
        )

    def repo_graph(self) -> ImportGraph:
        """The imports between the repository's modules, every environment's (serving's
        first: a module both sides hold resolves to serving's copy)."""
        if self._graph is None:
            modules = [*self.serving.of_type(CodeModule)]
            for env in self.environments:
                modules.extend(env.of_type(CodeModule))
            self._graph = ImportGraph(modules)
        return self._graph

    def code_imports(self) -> dict[str, tuple[str, int, str]]:
        """Distributions imported by code serving runs (name -> file, line, import),
        following the repository's own imports through the modules of every
        environment: a package a module reached that way imports is needed at start,
        even when serving's environment does not hold that module (so no finding of the
        pair says so). Imports with a fallback (``except ImportError``) are not needed."""
        if self._code_imports is not None:
            return self._code_imports
        graph = self.repo_graph()
        if self.starts is not None:
            roots = list(self.starts)
        else:  # where serving starts is not known: every module of its own may
            own = {a.path for a in self.serving.files if not a.reason.startswith("shared code")}
            roots = [m.module for m in self.serving.of_type(CodeModule) if m.file in own]
        names = builtin().import_names
        out: dict[str, tuple[str, int, str]] = {}
        for module in sorted(graph.reachable(roots)):
            mod = graph.modules[module]
            for ref in mod.imports:
                if ref.optional or graph.is_local(ref.name, module):
                    continue
                for dist in distribution_candidates(ref.name, names):
                    out.setdefault(dist, (mod.file, ref.line, ref.name))
        self._code_imports = out
        return out

    def aligned_spec(self, name: str) -> str:
        """What serving should ask for: training's effective version, else its range."""
        drift = sorted(
            (f for f in self.by_rule(*ALIGN_RULES) if f.item == name),
            key=lambda f: ALIGN_RULES.index(f.rule),
        )
        for f in drift:
            if is_version(f.training):
                return "==" + f.training
        version = self.training_version(name)
        if version:
            return "==" + version
        return next((s for f in drift if (s := _specifier(f.training))), "")

    def training_version(self, name: str) -> str:
        """Training's effective version from its facts: a lock's, a pin's, the base
        image's (the precedence of depaudit.rules.merged_packages)."""
        facts = [
            p
            for p in self.training.of_type(Package)
            if canonicalize_name(p.name) == name and _counts(p) and p.version
        ]
        locked = [p for p in facts if is_lock_file(p.file)]
        own = [p for p in facts if p.manager != "image"]
        image = [p for p in facts if p.manager == "image"]
        for group in (locked, own, image):
            if group:
                return group[0].version
        return ""

    def training_spec(self, name: str) -> str:
        """How to declare a package serving imports: like training declares it."""
        for f in self.findings:
            if f.item == name and f.rule in PACKAGE_RULES and is_version(f.training):
                return "==" + f.training
        version = self.training_version(name)
        if version:
            return "==" + version
        for f in self.findings:
            if f.item == name and f.rule in PACKAGE_RULES and _specifier(f.training):
                return f.training
        return ""

    # ---------------------------------------------------------------- operations

    def add_op(self, kind: str, fact: Package, spec: str, rules: tuple[str, ...]) -> None:
        """One remove / pin of the declaration ``fact``, routed to its file's editor."""
        name = canonicalize_name(fact.name)
        fmt = file_format(fact.file)
        where = f"{fact.file}:{fact.line}"
        if fmt == "lock":
            self.plan.lock_names[fact.file].add(name)
            return
        if not fact.direct:
            return
        if fact.url or fact.editable:
            self.plan.flag(
                "url",
                name,
                fact.file,
                fact.line,
                f"{where}: {name} is installed from {scrub(fact.url) or 'a local path'}; "
                + ("remove it by hand" if kind == "remove" else "no version to pin"),
                rules,
            )
            return
        if kind == "pin" and fact.specifier == spec:
            return
        if fmt == "requirements":
            self.plan.requirements[fact.file].append(
                RequirementOp(kind, name, fact.line, spec=spec, rules=rules)  # type: ignore[arg-type]
            )
        elif fmt in ("pyproject", "pipfile"):
            self.plan.toml[fact.file].append(
                TomlOp(kind, name, fact.line, fact.group, fact.manager, spec, rules)  # type: ignore[arg-type]
            )
        elif fmt == "dockerfile" and fact.manager in ("pip", "uv"):
            self.plan.docker[fact.file].append(DockerOp(kind, name, fact.line, spec, rules=rules))  # type: ignore[arg-type]
        else:
            self.plan.flag(
                "unsupported",
                name,
                fact.file,
                fact.line,
                f"{where}: {name} is declared in a format split does not edit; "
                + ("remove it by hand" if kind == "remove" else f"pin it to {spec} by hand"),
                rules,
            )

    def removals(self) -> None:
        imported = self.imported_by_serving()
        names: dict[str, list[str]] = defaultdict(list)
        for f in self.by_rule(*REMOVE_RULES):
            if f.kind == "package" and f.status == "leftover":
                names[f.item].append(f.rule)
        for name, rules in sorted(names.items()):
            importer = imported.get(name)
            if importer is not None:
                self.plan.note(
                    "imported",
                    name,
                    importer.file,
                    importer.line,
                    rules,
                    f"{name} kept: serving code imports it at {importer.file}:{importer.line} "
                    f"({importer.rule}); remove that import first, or the service fails at start",
                    f"{name} (line {importer.line}, {importer.rule})",
                )
                continue
            run = self.programs_run().get(name)
            if run is not None:
                file, line, program = run
                self.plan.note(
                    "command",
                    name,
                    file,
                    line,
                    rules,
                    f"{name} kept: {file}:{line} runs {program}; remove that step first, or "
                    "serving's image fails to build or start",
                    f"{name} ({program} at line {line})",
                )
                continue
            site = self.code_imports().get(name)
            if site is not None:
                file, line, module = site
                self.plan.note(
                    "imported",
                    name,
                    file,
                    line,
                    rules,
                    f"{name} kept: {file}:{line} imports {module}, and serving's code reaches "
                    f"that module through the repository's own imports; remove that import "
                    "first, or the service fails at start",
                    f"{name} (line {line}, reached through the repository's own imports)",
                )
                continue
            for fact in self.declarations.get(name, []):
                if fact.manager == "image":
                    self.image_flag(fact, "remove it from serving", tuple(rules))
                else:
                    self.add_op("remove", fact, "", tuple(rules))

    def image_flag(self, fact: Package, what: str, rules: tuple[str, ...]) -> None:
        name = canonicalize_name(fact.name)
        self.plan.note(
            "image",
            name,
            fact.file,
            fact.line,
            rules,
            f"{name} is installed by serving's base image ({fact.file}:{fact.line}): choose "
            f"an image that does not, or {what} by hand",
            f"{name}: {what}",
        )

    def alignments(self, removed: set[str]) -> None:
        names: dict[str, list[str]] = defaultdict(list)
        for f in self.by_rule(*ALIGN_RULES):
            if f.kind == "package" and f.item not in removed:
                names[f.item].append(f.rule)
        for name, rules in sorted(names.items()):
            spec = self.aligned_spec(name)
            facts = self.declarations.get(name, [])
            if not spec:
                self.plan.flag(
                    "not_safe", name, facts[0].file if facts else "", 0,
                    f"{name}: training's version is not known; align it by hand", rules,
                )  # fmt: skip
                continue
            own = [f for f in facts if f.manager != "image"]
            direct = [f for f in own if f.direct and not is_lock_file(f.file)]
            for fact in own:
                self.add_op("pin", fact, spec, tuple(rules))
            if direct:
                continue
            image = [f for f in facts if f.manager == "image"]
            if image:
                self.image_flag(image[0], f"pin serving to training's {spec}", tuple(rules))
                continue
            where = facts[0].file if facts else ""
            self.plan.note(
                "transitive",
                name,
                where,
                facts[0].line if facts else 0,
                rules,
                f"{name} reaches serving only as a dependency of another package"
                + (f" ({where})" if where else "")
                + f": left alone; align the package that brings it, or declare {name}{spec}",
                f"{name}{spec}",
            )

    def first_party(self, module: str, importer_file: str) -> str:
        """A repository file of the module ``module`` names, imported from
        ``importer_file``, or "" (the repository's own code is installed from the
        repository, never from an index), resolved as depaudit resolves every import."""
        graph = self.repo_graph()
        importer = next((m.module for m in graph.modules.values() if m.file == importer_file), None)
        target = graph.resolve(module.strip(), importer)
        if target is not None:
            return graph.modules[target].file
        top = module.strip().split(".")[0]
        if top and top in graph.top_levels:
            return min(m.file for name, m in graph.modules.items() if name.split(".")[0] == top)
        return ""

    def declarations_to_add(self) -> None:
        nowhere: list[tuple[str, int, tuple[str, ...]]] = []
        self.declare(nowhere)
        if nowhere:
            self.plan.flag_file(
                "no_target",
                "",
                f"{self.serving.name} imports packages it does not declare, and has no "
                "dependency file split can edit: declare them where it installs its packages",
                nowhere,
            )

    def declare(self, nowhere: list[tuple[str, int, tuple[str, ...]]]) -> None:
        """Plan the declarations of what serving imports; ``nowhere`` gets those with no
        file to go to."""
        for f in sorted(self.by_rule(DECLARE_RULE), key=lambda f: f.item):
            name = canonicalize_name(f.item)
            own = self.first_party(f.serving or f.item, f.file)
            if own:
                self.plan.flag(
                    "first_party",
                    name,
                    f.file,
                    f.line,
                    f"{f.serving or name} ({f.file}:{f.line}) is the repository's own code "
                    f"({own}): not declared as a package; install the repository itself "
                    "in serving (pip install .) if it is not copied there",
                    (f.rule,),
                )
                continue
            spec = self.training_spec(name)
            target = self.declaration_target()
            if target is None:
                nowhere.append((f"{name}{spec}", f.line, (f.rule,)))
                continue
            rules = (f.rule,)
            if not spec:
                self.plan.flag(
                    "unpinned",
                    name,
                    target,
                    0,
                    f"{name} is declared without a version (training does not declare it): "
                    "pin the version serving runs today",
                    rules,
                )
            fmt = file_format(target)
            if fmt == "requirements":
                self.plan.requirements[target].append(
                    RequirementOp("add", name, spec=spec, rules=rules)
                )
            else:
                self.plan.toml[target].append(TomlOp("add", name, spec=spec, rules=rules))

    def declaration_target(self) -> str | None:
        """Serving's main dependency file: the editable one declaring the most packages
        (hand-written files before pip-compile outputs)."""
        counts: dict[str, int] = defaultdict(int)
        for facts in self.declarations.values():
            for fact in facts:
                fmt = file_format(fact.file)
                if fact.direct and fmt in ("requirements", "pyproject", "pipfile"):
                    counts[fact.file] += 1
        candidates = [
            path
            for path in counts
            if path in self.texts
            and path not in self.broken
            and (not self.elsewhere.get(path) or file_format(path) == "requirements")
        ]
        if not candidates:
            return None
        return min(
            candidates,
            key=lambda p: (
                bool(self.elsewhere.get(p)),
                bool(generated_by(self.texts[p])),
                -counts[p],
                p,
            ),
        )

    def image_edits(self) -> None:
        for f in self.by_rule(IMAGE_RULE):
            if f.item == "cuda" and f.file:
                self.plan.docker[f.file].append(
                    DockerOp("runtime", f.item, f.line, rules=(f.rule,))
                )
            else:
                self.plan.flag(
                    "not_safe",
                    f.item,
                    f.file,
                    f.line,
                    f"{f.file}:{f.line}: {scrub(f.serving)} is a training image; pick a runtime "
                    "image for serving by hand",
                    (f.rule,),
                )

    def listed(self) -> list[Listed]:
        return [
            Listed(f.rule, f.kind, f.item, f.file, f.line, f.message)
            for f in self.by_rule(*LISTED_RULES)
            if f.status == "leftover"
        ]

    # ------------------------------------------------------------ shared files

    def split_shared(self) -> None:
        """Files other environments have too: a requirements file gets a serving copy
        beside it, and what makes serving install it is pointed at the copy; anything
        else is flagged, once per file.

        A copy is only useful if serving can get it instead of the original: the file is
        serving's by its place (a shared root or project folder: the copy, named after
        serving, takes its place), or something serving-only installs it by name — a
        requirements file or Dockerfile, a spec's ``pip install -r``, or another copy.
        Shared files with neither are dropped until none is left (a fixpoint over the
        include chains).
        """
        shared = {p for p in self.plan.files() if self.elsewhere.get(p)}
        for path in sorted(shared):
            kinds = {op.kind for op in self.plan.requirements.get(path, [])}
            kinds |= {op.kind for op in self.plan.toml.get(path, [])}
            if kinds == {"add"} and not self.plan.docker.get(path):
                # a shared file is split to take leftovers or drift out of serving, not to
                # declare what serving imports (training would not need the copy's lines)
                users = sorted(set(self.elsewhere[path]))
                self.plan.flags = [
                    f for f in self.plan.flags if not (f.reason == "unpinned" and f.file == path)
                ]
                self.plan.flag_file(
                    "no_target",
                    path,
                    f"{self.serving.name} declares its packages only in {path}, which "
                    f"{', '.join(users)} install{'s' if len(users) == 1 else ''} too: "
                    "declare what it imports in a file of its own",
                    self.pop_ops(path),
                )
                shared.discard(path)
        for path in sorted(p for p in shared if file_format(p) != "requirements"):
            self.drop_shared(path, "only requirements files can be split")
            shared.discard(path)
        placed = {a.path for a in self.serving.files}
        referrers = {path: self.referrers(path) for path in shared}
        while True:
            for path in sorted(shared):
                for include in referrers.get(path, []):
                    if (
                        file_format(include.file) == "requirements"
                        and include.file not in referrers
                    ) and self.elsewhere.get(include.file):
                        referrers[include.file] = self.referrers(include.file)
                        shared.add(include.file)
            splittable = {
                path
                for path in shared
                if path in placed
                or command_installers(self.serving, path)
                or any(
                    (
                        not self.elsewhere.get(i.file)
                        and file_format(i.file) in ("requirements", "dockerfile")
                    )
                    or i.file in shared
                    for i in referrers[path]
                )
            }
            if splittable == shared:
                break
            for path in sorted(shared - splittable):
                self.drop_shared(path, "nothing serving-only installs it by name")
            shared = splittable
        for path in sorted(shared):
            copy = self.split_name(path)
            if copy is None:
                self.drop_shared(path, "the name of its serving copy is taken")
                continue
            self.split_names[path] = copy
        for path, copy in sorted(self.split_names.items()):
            for include in referrers[path]:
                fmt = file_format(include.file)
                if self.elsewhere.get(include.file) and include.file not in self.split_names:
                    continue
                if fmt == "requirements":
                    op = RequirementOp(
                        "repoint",
                        name=copy,
                        line=include.line,
                        old=include.target,
                        new=_sibling_target(include.target, copy),
                    )
                    self.plan.requirements[include.file].append(op)
                    self.repoints[copy].append(include.file)
                elif fmt == "dockerfile":
                    ops = self.plan.docker[include.file]
                    if not any(op.kind == "repoint" and op.old == path for op in ops):
                        ops.append(DockerOp("repoint", line=include.line, old=path, new=copy))
                        self.repoints[copy].append(include.file)
            for installer in command_installers(self.serving, path):
                self.repoint_command(path, copy, installer)

    def repoint_command(self, path: str, copy: str, installer: CommandInstaller) -> None:
        """Point a spec's ``pip install -r path`` at ``copy``, or note why a human must."""
        where = f"{installer.file}:{installer.line}"
        users = sorted(set(self.elsewhere.get(installer.file, [])))
        if installer.kind == "url":
            why = (
                f"{where} installs it from a URL ({scrub(installer.target)}): point that "
                f"at {copy} once the copy is pushed"
            )
        elif users:
            why = (
                f"{where} installs it for {', '.join(users)} too: give {self.serving.name} its own"
            )
        elif file_format(installer.file) != "other":
            why = f"{where} installs it in a command split does not edit: point it at {copy}"
        else:
            self.plan.commands[installer.file].append(
                CommandOp(
                    installer.line,
                    installer.lines,
                    installer.target,
                    _sibling_target(installer.target, copy),
                    copy=copy,
                )
            )
            self.repoints[copy].append(installer.file)
            return
        self.by_hand[path].append(why)

    def drop_shared(self, path: str, why: str) -> None:
        """Flag the operations of a shared file instead of editing it: one flag."""
        users = ", ".join(sorted(set(self.elsewhere.get(path, []))))
        ops = self.pop_ops(path)
        if not ops:
            return
        self.plan.flag_file(
            "shared",
            path,
            f"{path} is used by {users} too ({why}): not edited; give {self.serving.name} "
            "its own dependency file to make these changes in",
            ops,
        )

    def pop_ops(self, path: str) -> list[tuple[str, int, tuple[str, ...]]]:
        """The planned operations of ``path`` (removed from the plan) as (item, line, rules)."""
        ops: list[tuple[str, int, tuple[str, ...]]] = [
            (op.name or op.old, op.line, op.rules) for op in self.plan.requirements.pop(path, [])
        ]
        ops += [(op.name, op.line, op.rules) for op in self.plan.toml.pop(path, [])]
        ops += [(op.name or op.old, op.line, op.rules) for op in self.plan.docker.pop(path, [])]
        ops += [(op.copy or op.new, op.line, op.rules) for op in self.plan.commands.pop(path, [])]
        return ops

    def unsplit(self, path: str) -> None:
        """Forget the copy of ``path`` and every repoint to it (the copy cannot be made)."""
        copy = self.split_names.pop(path)
        for file in self.repoints.pop(copy, []):
            self.plan.requirements[file] = [
                op for op in self.plan.requirements.get(file, []) if op.name != copy
            ]
            self.plan.docker[file] = [op for op in self.plan.docker.get(file, []) if op.new != copy]
            self.plan.commands[file] = [
                op for op in self.plan.commands.get(file, []) if op.copy != copy
            ]
            for ops in (self.plan.requirements, self.plan.docker, self.plan.commands):
                if not ops.get(file):
                    ops.pop(file, None)  # type: ignore[attr-defined]
        self.by_hand.pop(path, None)

    def referrers(self, path: str) -> list[Include]:
        """Serving's ``-r`` / ``-c`` / ``pip install -r`` / ``COPY`` lines naming ``path``."""
        out: list[Include] = []
        for include in self.serving.of_type(Include):
            if include.file == path or include.file.endswith(".py"):
                continue
            if path in _candidates(include):
                out.append(include)
        return sorted(set(out), key=lambda i: (i.file, i.line))

    def split_name(self, path: str) -> str | None:
        folder, base = posixpath.split(path)
        stem, dot, ext = base.rpartition(".")
        if not dot:
            stem, ext = base, ""
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", self.serving.name.rsplit("/", 1)[-1]).strip("-.")
        name = f"{stem}-{slug or 'serving'}" + (f".{ext}" if ext else "")
        copy = posixpath.join(folder, name) if folder else name
        if copy in self.tree_paths or copy in self.texts:
            return None
        return copy

    # ------------------------------------------------------------------ edits

    def edits(self) -> list[FileEdit]:
        out: list[FileEdit] = []
        # the copies first: one that cannot be made (an unreadable file, every change
        # flagged) takes its repoints with it, so nothing points at a missing file
        copies: dict[str, FileEdit] = {}
        for path in sorted(self.split_names):
            result = self.edit(path)
            if result is None or not result.changes:
                self.plan.flags.extend(result.flags if result is not None else ())
                self.unsplit(path)
                continue
            copy = self.split_names[path]
            self.plan.flags.extend(
                replace(f, file=copy, message=f"{copy} (a copy of {path}): {f.message}")
                for f in result.flags
            )
            copies[path] = self.split_edit(path, copy, result)
        for path in sorted(self.plan.files() - set(copies) - set(self.split_names)):
            result = self.edit(path)
            if result is None:
                continue
            if result.changes and (self.outline or result.text != self.texts[path]):
                before = self.texts.get(path, "")
                out.append(FileEdit(path, before, result.text, _in_order(result.changes)))
            self.plan.flags.extend(result.flags)
        out.extend(copies.values())
        return sorted(out, key=lambda e: e.path)

    def edit(self, path: str) -> EditResult | None:
        requirement_ops = self.plan.requirements.get(path, [])
        toml_ops = self.plan.toml.get(path, [])
        docker_ops = self.plan.docker.get(path, [])
        command_ops = self.plan.commands.get(path, [])
        problem = ""
        reason = "unparseable"
        if path in self.broken:
            problem = f"{path} could not be read by depaudit ({self.broken[path]}): left untouched"
        elif path not in self.texts and not self.outline:
            reason = "unreadable"
            problem = f"{path}: its text is not available (binary, not UTF-8 or unreadable): left untouched"
        if problem:
            self.plan.flag_file(reason, path, problem, self.pop_ops(path))
            return None
        if self.outline:
            return _outlined(path, requirement_ops, toml_ops, docker_ops, command_ops)
        text = self.texts[path]
        fmt = file_format(path)
        if fmt == "requirements":
            return edit_requirements(text, path, requirement_ops)
        if fmt in ("pyproject", "pipfile"):
            return edit_toml(text, path, toml_ops, pipfile=fmt == "pipfile")
        if fmt == "dockerfile":
            return edit_dockerfile(text, path, docker_ops)
        return edit_commands(text, path, command_ops)

    def split_edit(self, path: str, copy: str, result: EditResult) -> FileEdit:
        text = self.texts.get(path, "")
        newline = "\r\n" if "\r\n" in text else "\n"
        rules = tuple(sorted({r for c in result.changes for r in c.rules}))
        others = sorted(set(self.elsewhere[path]))
        users = ", ".join(others)
        header = (
            f"# {self.serving.name}'s copy of {posixpath.basename(path)} (written by depaudit "
            f"split): {path} stays as {users} install{'s' if len(others) == 1 else ''} it"
            f"{newline}"
        )
        changes = [
            Change(
                "split",
                path,
                copy,
                0,
                path,
                copy,
                rules,
                f"{path} is installed by {users} too: {self.serving.name} gets its own "
                "copy, the original is not edited",
            ),
            *(
                Change(c.action, c.item, copy, c.line, c.before, c.after, c.rules, c.note)
                for c in _in_order(result.changes)
            ),
        ]
        by_hand = self.by_hand.get(path, [])
        if by_hand or not self.repoints.get(copy):
            placement = next((a.reason for a in self.serving.files if a.path == path), "")
            how = "; ".join(by_hand) or (
                f"nothing {self.serving.name} runs names {path} (it is "
                f"{self.serving.name}'s by its place: {placement or 'an include'}): make "
                f"what installs it for {self.serving.name} install {copy}"
            )
            self.plan.flag_file(
                "installer",
                path,
                f"{path} is copied to {copy}, but {how}; until then {self.serving.name} "
                "still installs what the copy changes",
                [(c.item, c.line, c.rules) for c in result.changes],
            )
        return FileEdit(copy, None, header + result.text, tuple(changes))

    def lock_flags(self, edits: Sequence[FileEdit]) -> None:
        edited_dirs = {
            posixpath.dirname(e.path)
            for e in edits
            if file_format(e.path) in ("pyproject", "pipfile", "requirements")
        }
        locks = {
            f.file
            for f in self.serving.of_type(Package)
            if is_lock_file(f.file) and f.origin == "declared"
        }
        changed = {c.item for e in edits for c in e.changes}
        for lock in sorted(locks):
            names = sorted(self.plan.lock_names.get(lock, set()) | (changed & self.locked(lock)))
            if posixpath.dirname(lock) not in edited_dirs:  # nothing to relock for
                continue
            command = _LOCK_COMMANDS.get(posixpath.basename(lock).lower(), "its lock command")
            folder = posixpath.dirname(lock) or "."
            self.plan.flag(
                "lock",
                ", ".join(names) or lock,
                lock,
                0,
                f"{lock} still records the old versions"
                + (f" of {', '.join(names)}" if names else "")
                + f": run `{command}` in {folder} after applying (a lock is never edited: its "
                "hashes and dependencies cannot be guessed)",
                (),
            )
        for edit in edits:
            if file_format(edit.path) != "requirements":
                continue
            source = next((c.item for c in edit.changes if c.action == "split"), "")
            tool = generated_by(self.texts.get(source, "") if edit.is_new else edit.before or "")
            if tool and edit.is_new:
                self.plan.flag(
                    "generated",
                    edit.path,
                    edit.path,
                    0,
                    f"{edit.path} is a copy of {source}, which {tool} generates: give "
                    f"{self.serving.name} its own input without what the copy removes and "
                    "compile it (this copy is consistent until then)",
                    (),
                )
            elif tool:
                self.plan.flag(
                    "generated",
                    edit.path,
                    edit.path,
                    0,
                    f"{edit.path} is generated by {tool}: apply the same change to its "
                    "input and regenerate it (this edit keeps it consistent until then)",
                    (),
                )

    def locked(self, lock: str) -> set[str]:
        return {canonicalize_name(f.name) for f in self.serving.of_type(Package) if f.file == lock}

    def run(self) -> Proposal:
        self.removals()
        removed = {f.item for f in self.by_rule(*REMOVE_RULES) if f.kind == "package"}
        self.alignments(removed)
        self.declarations_to_add()
        self.image_edits()
        self.plan.flush_notes()
        self.split_shared()
        edits = self.edits()
        self.lock_flags(edits)
        return Proposal(
            training=self.pair.training,
            serving=self.pair.serving,
            project=self.pair.project,
            edits=tuple(edits),
            listed=tuple(self.listed()),
            flagged=tuple(group_flags(self.plan.flags)),
        )


def _grouped_message(reason: str, file: str, details: Sequence[str]) -> str:
    """One message for the per-package flags of one file and reason."""
    listed = "; ".join(details)
    if reason == "imported":
        return (
            f"kept, serving code imports them in {file}: {listed}; remove those imports "
            "first, or the service fails at start"
        )
    if reason == "command":
        return (
            f"kept, {file} runs their programs: {listed}; remove those steps first, or "
            "serving's image fails to build or start"
        )
    if reason == "image":
        return (
            f"installed by serving's base image ({file}): choose an image that does not, or "
            f"by hand: {listed}"
        )
    if reason == "transitive":
        return (
            "reach serving only as dependencies of other packages"
            + (f" ({file})" if file else "")
            + f": left alone; align the packages that bring them, or declare {', '.join(details)}"
        )
    return f"{file}: {listed}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _outlined(
    path: str,
    requirement_ops: Sequence[RequirementOp],
    toml_ops: Sequence[TomlOp],
    docker_ops: Sequence[DockerOp],
    command_ops: Sequence[CommandOp],
) -> EditResult:
    """The changes the operations of ``path`` make, without its text (an outline: what
    a reader of stored facts can tell; the exact lines need the file)."""
    changes: list[Change] = []

    def package(kind: str, name: str, line: int, spec: str, rules: tuple[str, ...]) -> None:
        action = {"add": "declare"}.get(kind, kind)
        after = "" if kind == "remove" else f"{name}{spec}"
        changes.append(Change(action, name, path, line, "", after, rules))  # type: ignore[arg-type]

    for rop in requirement_ops:
        if rop.kind == "repoint":
            changes.append(
                Change("include", rop.name or rop.new, path, rop.line, rop.old, rop.new, rop.rules)
            )
        else:
            package(rop.kind, rop.name, rop.line, rop.spec, rop.rules)
    for top in toml_ops:
        package(top.kind, top.name, top.line, top.spec, top.rules)
    for dop in docker_ops:
        if dop.kind == "repoint":
            changes.append(Change("include", dop.new, path, dop.line, dop.old, dop.new, dop.rules))
        elif dop.kind == "runtime":
            changes.append(Change("base_image", dop.name, path, dop.line, "", "", dop.rules))
        else:
            package(dop.kind, dop.name, dop.line, dop.spec, dop.rules)
    for cop in command_ops:
        changes.append(
            Change("include", cop.copy or cop.new, path, cop.line, cop.old, cop.new, cop.rules)
        )
    return EditResult("", changes)


_ITEM = "\x00"  # where a flag's package was named in its message (never in real text)


def group_flags(flags: Iterable[Flag]) -> list[Flag]:
    """Each flag once, and one flag for flags of one file and reason whose messages say
    the same thing of different packages (the message then lists them)."""
    groups: dict[tuple[str, str, str], list[Flag]] = {}
    for flag in flags:
        template = flag.message
        if flag.item and "," not in flag.item:
            template = re.sub(rf"(?<![\w.-]){re.escape(flag.item)}(?![\w-])", _ITEM, template)
        group = groups.setdefault((flag.reason, flag.file, template), [])
        if flag not in group:
            group.append(flag)
    out: list[Flag] = []
    for (reason, file, template), group in groups.items():
        if len(group) == 1 or _ITEM not in template:
            out.extend(group)
            continue
        names = sorted({f.item for f in group})
        lines = {f.line for f in group}
        out.append(
            Flag(
                reason,  # type: ignore[arg-type]
                ", ".join(names),
                file,
                lines.pop() if len(lines) == 1 else 0,
                template.replace(_ITEM, ", ".join(names)),
                tuple(sorted({r for f in group for r in f.rules})),
            )
        )
    return sorted(out, key=lambda f: (f.file, f.line, f.item, f.reason))


def _in_order(changes: Iterable[Change]) -> tuple[Change, ...]:
    """Changes by line; appended declarations (line 0) last."""
    return tuple(sorted(changes, key=lambda c: (c.line == 0, c.line, c.action, c.item)))


def _candidates(include: Include) -> set[str]:
    """The repo paths an include may name (relative to its file, or to the root), as the
    snapshot builder resolves it."""
    raw = include.target.strip().strip("\"'")
    if not raw or raw.startswith(("http://", "https://", "/")):
        return set()
    base = posixpath.dirname(include.file)
    return {posixpath.normpath(posixpath.join(base, raw)), posixpath.normpath(raw)}


def _sibling_target(target: str, copy: str) -> str:
    """``target`` as written, naming ``copy`` (a sibling of the file it named)."""
    raw = target.strip()
    head = raw[: len(raw) - len(posixpath.basename(raw))]
    return head + posixpath.basename(copy)


def plan_split(
    environments: Sequence[EnvironmentSnapshot],
    pair: Pair,
    findings: Sequence[Finding],
    texts: Mapping[str, str],
    *,
    tree_paths: Collection[str] | None = None,
    starts: Collection[str] | None = None,
) -> Proposal:
    """The proposal for ``pair``: pure, from stored data.

    ``environments`` are all environments of the tree (a file another one has is never
    edited), ``findings`` the tree's findings (those of ``pair`` are used), ``texts``
    the text of each file to edit (:func:`files_to_read` names them; a missing one is
    flagged ``unreadable``), ``tree_paths`` every path of the tree (a new file never
    takes an existing name; without it, the keys of ``texts`` are the known paths),
    ``starts`` the serving modules where execution starts (:mod:`depaudit.entrypoints`;
    a package what they reach imports is never removed — without them, what any of
    serving's own modules reaches).
    """
    return _Planner(environments, pair, findings, texts, tree_paths, starts=starts).run()


def outline_split(
    environments: Sequence[EnvironmentSnapshot],
    pair: Pair,
    findings: Sequence[Finding],
    *,
    tree_paths: Collection[str] | None = None,
    starts: Collection[str] | None = None,
) -> Proposal:
    """What :func:`plan_split` would change for ``pair``, from facts and findings alone
    (what a store keeps): every change with its file, line and new value, the split
    copies and what needs a human; no file text, so no diff and no read-back check —
    what only the text tells (a pin in a file with ``--hash`` lines, a line that does not
    read as its fact) is proposed here and flagged by the full proposal. A reader of the
    store (the dashboard) shows this; ``depaudit split`` makes the edit."""
    proposal = _Planner(
        environments, pair, findings, {}, tree_paths, outline=True, starts=starts
    ).run()
    return replace(
        proposal,
        edits=tuple(
            FileEdit(e.path, None if e.is_new else "", "", e.changes) for e in proposal.edits
        ),
    )
