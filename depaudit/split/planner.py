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
from dataclasses import dataclass, field

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from depaudit.code_graph import distribution_candidates
from depaudit.knowledge import builtin
from depaudit.model import (
    EnvironmentSnapshot,
    Finding,
    Include,
    Package,
    Pair,
    ParseError,
)
from depaudit.secrets import scrub
from depaudit.split.dockerfile_edit import DockerOp, edit_dockerfile
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
    """The files :func:`plan_split` may edit: every non-code file the serving environment
    has facts from. A caller with the texts of these (or more) gives the full proposal."""
    out: set[str] = set()
    for env in environments:
        if env.name != pair.serving:
            continue
        for fact in env.facts:
            path = getattr(fact, "file", "")
            if path and not path.endswith(".py") and file_format(path) != "other":
                out.add(path)
    return out


@dataclass
class _Plan:
    """Edit operations per file, and what the planner flagged on the way."""

    requirements: dict[str, list[RequirementOp]] = field(default_factory=lambda: defaultdict(list))
    toml: dict[str, list[TomlOp]] = field(default_factory=lambda: defaultdict(list))
    docker: dict[str, list[DockerOp]] = field(default_factory=lambda: defaultdict(list))
    flags: list[Flag] = field(default_factory=list)
    lock_names: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def flag(
        self, reason: str, item: str, file: str, line: int, message: str, rules: Iterable[str]
    ) -> None:
        self.flags.append(Flag(reason, item, file, line, message, tuple(rules)))  # type: ignore[arg-type]

    def files(self) -> set[str]:
        return set(self.requirements) | set(self.toml) | set(self.docker)


class _Planner:
    def __init__(
        self,
        environments: Sequence[EnvironmentSnapshot],
        pair: Pair,
        findings: Sequence[Finding],
        texts: Mapping[str, str],
        tree_paths: Collection[str] | None,
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
        # files another environment has facts from, or is placed with: edits there would
        # change that environment (and its pairs' findings)
        self.elsewhere: dict[str, list[str]] = defaultdict(list)
        for env in environments:
            if env.name == self.serving.name:
                continue
            paths = {getattr(f, "file", "") for f in env.facts} | {a.path for a in env.files}
            for path in paths - {""}:
                self.elsewhere[path].append(env.name)
        self.broken = {
            f.file: f.message for f in self.serving.of_type(ParseError) if f.file and f.message
        }
        self.declarations: dict[str, list[Package]] = defaultdict(list)
        for fact in self.serving.of_type(Package):
            if _counts(fact):
                self.declarations[canonicalize_name(fact.name)].append(fact)
        self.plan = _Plan()
        self.split_names: dict[str, str] = {}  # shared requirements file -> its serving copy

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
                self.plan.flag(
                    "imported",
                    name,
                    importer.file,
                    importer.line,
                    f"{name} kept: serving code imports it at {importer.file}:{importer.line} "
                    f"({importer.rule}); remove that import first, or the service fails at start",
                    rules,
                )
                continue
            for fact in self.declarations.get(name, []):
                if fact.manager == "image":
                    self.image_flag(fact, "remove it from serving", tuple(rules))
                else:
                    self.add_op("remove", fact, "", tuple(rules))

    def image_flag(self, fact: Package, what: str, rules: tuple[str, ...]) -> None:
        name = canonicalize_name(fact.name)
        self.plan.flag(
            "image",
            name,
            fact.file,
            fact.line,
            f"{name} is installed by serving's base image ({fact.file}:{fact.line}): choose "
            f"an image that does not, or {what} by hand",
            rules,
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
            self.plan.flag(
                "transitive",
                name,
                where,
                facts[0].line if facts else 0,
                f"{name} reaches serving only as a dependency of another package"
                + (f" ({where})" if where else "")
                + f": left alone; align the package that brings it, or declare {name}{spec}",
                rules,
            )

    def declarations_to_add(self) -> None:
        for f in sorted(self.by_rule(DECLARE_RULE), key=lambda f: f.item):
            name = canonicalize_name(f.item)
            spec = self.training_spec(name)
            target = self.declaration_target()
            if target is None:
                self.plan.flag(
                    "no_target",
                    name,
                    f.file,
                    f.line,
                    f"serving imports {f.serving or name} ({f.file}:{f.line}) but has no "
                    f"dependency file split can edit: declare {name}{spec} where serving "
                    "installs its packages",
                    (f.rule,),
                )
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
        (serving's includes of it are pointed at the copy); anything else is flagged.

        A copy is only useful if something serving-only installs it: a serving-only
        requirements file or Dockerfile, or another copy. Shared files without such a
        referrer are dropped until none is left (a fixpoint over the include chains).
        """
        shared = {p for p in self.plan.files() if self.elsewhere.get(p)}
        for path in sorted(p for p in shared if file_format(p) != "requirements"):
            self.drop_shared(path, "only requirements files can be split")
            shared.discard(path)
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
                if any(
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
                    self.plan.requirements[include.file].append(
                        RequirementOp(
                            "repoint",
                            line=include.line,
                            old=include.target,
                            new=_sibling_target(include.target, copy),
                        )
                    )
                elif fmt == "dockerfile":
                    ops = self.plan.docker[include.file]
                    if not any(op.kind == "repoint" and op.old == path for op in ops):
                        ops.append(DockerOp("repoint", line=include.line, old=path, new=copy))

    def drop_shared(self, path: str, why: str) -> None:
        """Flag the operations of a shared file instead of editing it."""
        users = ", ".join(sorted(set(self.elsewhere.get(path, []))))
        ops: list[tuple[str, int, tuple[str, ...]]] = [
            (op.name or op.old, op.line, op.rules) for op in self.plan.requirements.pop(path, [])
        ]
        ops += [(op.name, op.line, op.rules) for op in self.plan.toml.pop(path, [])]
        ops += [(op.name or op.old, op.line, op.rules) for op in self.plan.docker.pop(path, [])]
        for item, line, rules in ops:
            self.plan.flag(
                "shared",
                item,
                path,
                line,
                f"{path} is used by {users} too ({why}): not edited; give serving its own "
                f"file without {item}",
                rules,
            )

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
        for path in sorted(self.plan.files()):
            result = self.edit(path)
            if result is None:
                continue
            copy = self.split_names.get(path)
            if copy is not None:
                out.append(self.split_edit(path, copy, result))
            elif result.changes and result.text != self.texts[path]:
                out.append(FileEdit(path, self.texts[path], result.text, _in_order(result.changes)))
            self.plan.flags.extend(result.flags)
        return out

    def edit(self, path: str) -> EditResult | None:
        requirement_ops = self.plan.requirements.get(path, [])
        toml_ops = self.plan.toml.get(path, [])
        docker_ops = self.plan.docker.get(path, [])
        items = [(op.name or op.old, op.line, op.rules) for op in requirement_ops]
        items += [(op.name, op.line, op.rules) for op in toml_ops]
        items += [(op.name or op.old, op.line, op.rules) for op in docker_ops]
        problem = ""
        reason = "unparseable"
        if path in self.broken:
            problem = f"{path} could not be read by depaudit ({self.broken[path]}): left untouched"
        elif path not in self.texts:
            reason = "unreadable"
            problem = f"{path}: its text is not available (binary, not UTF-8 or unreadable): left untouched"
        if problem:
            for item, line, rules in items:
                self.plan.flag(reason, item, path, line, problem, rules)
            return None
        text = self.texts[path]
        fmt = file_format(path)
        if fmt == "requirements":
            return edit_requirements(text, path, requirement_ops)
        if fmt in ("pyproject", "pipfile"):
            return edit_toml(text, path, toml_ops, pipfile=fmt == "pipfile")
        return edit_dockerfile(text, path, docker_ops)

    def split_edit(self, path: str, copy: str, result: EditResult) -> FileEdit:
        newline = "\r\n" if "\r\n" in self.texts[path] else "\n"
        header = (
            f"# serving's copy of {posixpath.basename(path)} (written by depaudit split): "
            f"{path} stays as training installs it{newline}"
        )
        rules = tuple(sorted({r for c in result.changes for r in c.rules}))
        changes = [
            Change(
                "split",
                path,
                copy,
                0,
                path,
                copy,
                rules,
                f"{path} is installed by "
                + ", ".join(sorted(set(self.elsewhere[path])))
                + " too: serving gets its own copy, the original is not edited",
            ),
            *(
                Change(c.action, c.item, copy, c.line, c.before, c.after, c.rules, c.note)
                for c in _in_order(result.changes)
            ),
        ]
        for assignment in self.serving.files:
            if assignment.path == path:
                self.plan.flag(
                    "location",
                    path,
                    path,
                    0,
                    f"{path} is still placed in {self.serving.name} ({assignment.reason}): "
                    f"depaudit keeps reporting it until it is not (move it, or set the "
                    "environments in .depaudit.toml)",
                    rules,
                )
                break
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
            if not names and posixpath.dirname(lock) not in edited_dirs:
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
            if edit.before is not None and file_format(edit.path) == "requirements":
                tool = generated_by(edit.before)
                if tool:
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
        self.split_shared()
        edits = self.edits()
        self.lock_flags(edits)
        return Proposal(
            training=self.pair.training,
            serving=self.pair.serving,
            project=self.pair.project,
            edits=tuple(edits),
            listed=tuple(self.listed()),
            flagged=tuple(_unique(self.plan.flags)),
        )


def _unique(flags: Iterable[Flag]) -> list[Flag]:
    seen: set[Flag] = set()
    out: list[Flag] = []
    for flag in flags:
        if flag not in seen:
            seen.add(flag)
            out.append(flag)
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
) -> Proposal:
    """The proposal for ``pair``: pure, from stored data.

    ``environments`` are all environments of the tree (a file another one has is never
    edited), ``findings`` the tree's findings (those of ``pair`` are used), ``texts``
    the text of each file to edit (:func:`files_to_read` names them; a missing one is
    flagged ``unreadable``), ``tree_paths`` every path of the tree (a new file never
    takes an existing name; without it, the keys of ``texts`` are the known paths).
    """
    return _Planner(environments, pair, findings, texts, tree_paths).run()
