"""A generated ML-service repository and its history, shaped like real ones.

The first commit holds the whole tree: ``training/`` and ``serving/`` packages and the
``common/`` package both import (real-looking modules from :mod:`synth_code`), ``tests/``, the
environment files of :mod:`synth_env` (requirements, pyproject, Dockerfiles, compose,
Kubernetes, configs, .env.example), notebooks, and the files most of a real tree is made of:
docs, data (CSV, Parquet, JSON samples), figures and experiment configs. Later commits follow
:class:`Mix`: most edit code (a function body or a new function, without touching any import;
as in real repositories most such edits move the lines below them), some change imports, add,
rename or delete a module; about one in ten edits an environment
file, a quarter of those reverting its previous change. Everything comes from one seeded
generator: the same parameters give the same repository, commit for commit.
"""

from __future__ import annotations

import dataclasses
import json
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from fastimport import Commit, cached_repository, import_history
from synth_code import (
    INTERNAL_TEMPLATE,
    NOUNS,
    POOLS,
    TEST_TEMPLATE,
    WORDS,
    Module,
    add_function,
    add_import,
    distinct_names,
    edit_body,
    new_function,
    new_module,
    remove_import,
)
from synth_env import EnvFile, edit, environment_files, revert

GENERATOR_VERSION = 5  # bump on any change of the output: cached repositories are rebuilt
_KINDS = "bench-kinds.json"  # in .git/: the kind of each commit, oldest first


@dataclass(frozen=True, slots=True)
class Shape:
    """The first commit's tree."""

    files: int = 200
    code_fraction: float = 0.15  # Python files (modules, __init__.py, tests) among them


@dataclass(frozen=True, slots=True)
class Mix:
    """What each later commit does (shares of commits, then of code edits)."""

    code: float = 0.88
    env: float = 0.10  # the rest edit only docs, data or notebooks
    env_revert: float = 0.25  # of the environment edits: back to the previous state
    # code edits, summing to 1: 80% change no import
    body: float = 0.55
    add_function: float = 0.25
    imports: float = 0.10  # add (60%) or remove (40%) an import
    new_module: float = 0.05
    rename: float = 0.025
    delete: float = 0.025
    also_test: float = 0.10  # a code commit also edits a test
    also_other: float = 0.12  # any commit also edits a doc or data file
    serving_copy: float = 0.15  # a new serving module holds a pasted training function


# Non-code files: (kind, share of the non-code files, folder, extension, at least)
_NONCODE = (
    ("doc", 0.20, "docs", ".md", 4),
    ("csv", 0.30, "data/raw", ".csv", 4),
    ("parquet", 0.15, "data/processed", ".parquet", 2),
    ("png", 0.29, "assets/figures", ".png", 2),
    ("json", 0.03, "data/samples", ".json", 2),
    ("experiment", 0.02, "training/configs", ".yaml", 2),
    ("notebook", 0.01, "notebooks", ".ipynb", 3),
)
_BASE = {
    "common": ("features", "schema", "preprocessing", "io", "config"),
    "training": ("data", "model", "train", "evaluate", "tune", "pipeline"),
    "serving": ("app", "routes", "predictor", "schemas", "monitoring", "cache", "client"),
}
_AREAS = {
    "common": ("schema", "io", "preprocessing", "utils"),
    "training": ("features", "models", "datasets", "evaluation", "tuning", "pipelines"),
    "serving": ("handlers", "middleware", "clients", "monitoring", "api"),
}
_SUFFIXES = ("utils", "ops", "loader", "builder", "store", "checks", "jobs", "handlers", "rules")
_ROLE = {
    "common": "shared by training and serving",
    "training": "for the training pipeline",
    "serving": "for the online API",
    "tests": "tests",
}
_VOCAB = (
    "model",
    "feature",
    "training",
    "serving",
    "latency",
    "batch",
    "data",
    "pipeline",
    "drift",
    "label",
    "metric",
    "threshold",
    "deploy",
    "version",
    "schema",
    "request",
    "cache",
    "owner",
    "the",
    "a",
    "of",
    "to",
    "is",
    "and",
    "when",
    "we",
    "run",
    "check",
    "daily",
    "new",
)


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(_VOCAB) for _ in range(n))


def noncode_content(kind: str, seed: int, version: int) -> bytes:
    """The content of a non-code file at one of its versions (deterministic)."""
    rng = random.Random(seed * 1_000_003 + version)
    if kind == "doc":
        paragraphs = [
            _words(rng, rng.randint(30, 80)).capitalize() + "." for _ in range(rng.randint(3, 7))
        ]
        return (f"# {_words(rng, 3).title()}\n\n" + "\n\n".join(paragraphs) + "\n").encode()
    if kind == "csv":
        columns = rng.sample(WORDS, 5)
        rows = [
            ",".join(str(rng.randint(0, 9999)) for _ in columns) for _ in range(rng.randint(20, 40))
        ]
        return (",".join(columns) + "\n" + "\n".join(rows) + "\n").encode()
    if kind == "parquet":
        return b"PAR1\x15\x00" + rng.randbytes(rng.randint(1024, 6144)) + b"PAR1"
    if kind == "png":
        return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + rng.randbytes(rng.randint(1024, 4096))
    if kind == "json":
        payload = {
            "request_id": f"req-{seed}-{version}",
            "features": {w: rng.randint(0, 100) for w in rng.sample(WORDS, 4)},
        }
        return (json.dumps(payload, indent=2) + "\n").encode()
    if kind == "experiment":
        return (
            f"model: {rng.choice(['lightgbm', 'mlp', 'logreg'])}\nseed: {seed % 100}\n"
            f"params:\n  num_leaves: {rng.randint(15, 255)}\n  learning_rate: {rng.randint(1, 20) / 100}\n"
            f"  epochs: {rng.randint(5, 50)}\ndata:\n  train: data/raw/train.csv\n  days: {rng.randint(7, 90)}\n"
        ).encode()
    if kind == "notebook":
        layout = random.Random(seed)  # the cells stay; the parameter changes per version
        cells = [
            "import pandas as pd\nimport matplotlib.pyplot as plt\nimport seaborn as sns",
            f"%pip install {layout.choice(['shap==0.44.0', 'ydata-profiling==4.6.4', 'umap-learn==0.5.5'])}",
            f"SAMPLE = {rng.randint(100, 100000)}\ndf = pd.read_csv('../data/raw/train.csv').sample(SAMPLE)",
            f"df.groupby('{layout.choice(WORDS)}').size().plot(kind='bar')\nplt.show()",
        ]
        notebook = {
            "cells": [
                {
                    "cell_type": "code",
                    "execution_count": None,
                    "id": f"c{i}",
                    "metadata": {},
                    "outputs": [],
                    "source": c.splitlines(keepends=True),
                }
                for i, c in enumerate(cells)
            ],
            "metadata": {
                "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
            },
            "nbformat": 4,
            "nbformat_minor": 5,
        }
        return (json.dumps(notebook, indent=1) + "\n").encode()
    raise ValueError(kind)


@dataclass(slots=True)
class _Other:
    kind: str
    seed: int
    version: int = 0

    def content(self) -> bytes:
        return noncode_content(self.kind, self.seed, self.version)


class MLServiceRepo:
    """The evolving tree; :meth:`initial` and :meth:`next_commit` give the history."""

    def __init__(self, shape: Shape, mix: Mix, rng: random.Random) -> None:
        self.shape = shape
        self.mix = mix
        self.rng = rng
        self.modules: dict[str, Module] = {}
        self.inits: dict[str, str] = {}  # __init__.py path -> content
        self.env: list[EnvFile] = environment_files()
        self.others: dict[str, _Other] = {}
        self.stats: Counter[str] = Counter()

    # -- the first commit -------------------------------------------------------------

    def _exported(self) -> list[tuple[str, str]]:
        return [
            (m.dotted, f.name)
            for m in self.modules.values()
            if m.package == "common"
            for f in m.functions
            if not f.template.is_class
        ]

    def _free_path(self, folder: str) -> str:
        while True:
            name = f"{self.rng.choice(NOUNS)}_{self.rng.choice(_SUFFIXES)}"
            path = f"{folder}/{name}.py"
            if path not in self.modules:
                return path
            path = f"{folder}/{name}_{self.rng.randint(2, 99)}.py"
            if path not in self.modules:
                return path

    def _folders(self, package: str) -> list[str]:
        return sorted({p.rsplit("/", 1)[0] for p in self.inits if p.split("/", 1)[0] == package})

    def _add_module(self, path: str, functions: tuple[int, int] = (2, 5)) -> Module:
        package = path.split("/", 1)[0]
        stem = path.rsplit("/", 1)[1].removesuffix(".py").replace("_", " ")
        doc = (
            f"{stem.capitalize()} {_ROLE[package]}." if package != "tests" else f"Tests of {stem}."
        )
        module = new_module(self.rng, path, doc, self._exported(), functions=functions)
        if package == "serving" and self.rng.random() < self.mix.serving_copy:
            self._copy_training_function(module)
        self.modules[path] = module
        return module

    def _copy_training_function(self, module: Module) -> None:
        """Paste a training function into a serving module (the skew this tool looks for):
        sometimes renamed; later body edits of either copy make them drift apart."""
        sources = [
            f
            for m in self.modules.values()
            if m.package == "training"
            for f in m.functions
            if "serving" in f.template.packages
            and not f.template.internal
            and set(f.template.needs) <= set(POOLS["serving"])
        ]
        if not sources:
            return
        source = self.rng.choice(sources)
        copy = dataclasses.replace(source, consts=list(source.consts), names=dict(source.names))
        if copy.name in module.names_in_scope() or self.rng.random() < 0.5:
            copy.name = new_function(self.rng, module, source.template).name
        module.functions.append(copy)
        module.imports += [a for a in source.template.needs if a not in module.imports]
        self.stats["serving module with a pasted training function"] += 1

    def initial(self) -> Commit:
        code = max(30, round(self.shape.files * self.shape.code_fraction))
        tests = max(4, code // 5)
        self._packages(code - tests)
        self._wire_entrypoints()
        self._tests(tests)
        self._noncode()
        writes = {p: m.render().encode() for p, m in self.modules.items()}
        writes |= {p: c.encode() for p, c in self.inits.items()}
        writes |= {f.path: f.render().encode() for f in self.env}
        writes |= {p: o.content() for p, o in self.others.items()}
        writes["README.md"] = (
            b"# churn-service\n\nTraining pipeline and online API of the churn model.\n"
        )
        self.stats["files in the first commit"] = len(writes)
        self.stats["python files in the first commit"] = sum(p.endswith(".py") for p in writes)
        self.stats["python lines in the first commit"] = sum(
            c.count(b"\n") for p, c in writes.items() if p.endswith(".py")
        )
        return Commit("Initial import of the churn service", writes, kind="first commit")

    def _packages(self, modules: int) -> None:
        """common/ first (the others import it), then training/ and serving/; a large package
        spreads its extra modules over sub-packages, as large code bases do."""
        per_package = {"common": 0.25, "training": 0.40, "serving": 0.35}
        counts = {p: max(len(_BASE[p]), round(modules * share)) for p, share in per_package.items()}
        for package in ("common", "training", "serving"):
            self.inits[f"{package}/__init__.py"] = (
                f'"""{package.capitalize()} package: {_ROLE[package]}."""\n'
            )
            extra = counts[package] - len(_BASE[package]) - 1
            areas = _AREAS[package][: max(0, min(len(_AREAS[package]), extra // 6))]
            for area in areas:
                self.inits[f"{package}/{area}/__init__.py"] = ""
            for name in _BASE[package]:
                self._add_module(f"{package}/{name}.py")
            folders = [f"{package}/{a}" for a in areas] or [package]
            for i in range(max(0, extra - len(areas))):
                self._add_module(self._free_path(folders[i % len(folders)]))

    def _tests(self, count: int) -> None:
        """A test module for each of the first modules, importing two of its functions."""
        rng = self.rng
        targets = list(self.modules.values())
        self.inits["tests/__init__.py"] = ""
        for i in range(count - 1):
            target = targets[i % len(targets)]
            path = f"tests/test_{target.path.removesuffix('.py').replace('/', '_')}.py"
            if path in self.modules:
                continue
            module = Module(path, f"Tests of {target.dotted}.", ["pytest"])
            names = [f.name for f in target.functions if not f.template.is_class]
            if not names:
                continue
            module.internal = [(target.dotted, n) for n in rng.sample(names, min(2, len(names)))]
            for _, name in module.internal:  # each imported function has a test
                function = new_function(rng, module, TEST_TEMPLATE)
                function.fn = name
                module.functions.append(function)
            for _ in range(rng.randint(0, 2)):
                add_function(rng, module)
            self.modules[path] = module

    def _noncode(self) -> None:
        """The rest of the tree: docs, data, figures, samples, experiment configs, notebooks."""
        rng, shape = self.rng, self.shape
        non_code = max(0, shape.files - len(self.modules) - len(self.inits) - len(self.env) - 1)
        for kind, share, folder, ext, least in _NONCODE:
            n = max(least, round(non_code * share))
            for i in range(n):
                sub = f"/part-{i // 100:03d}" if n > 150 else ""
                stem = "run" if kind == "experiment" else f"{kind}-{rng.choice(NOUNS)}"
                self.others[f"{folder}{sub}/{stem}-{i:05d}{ext}"] = _Other(
                    kind, rng.randrange(1 << 30)
                )

    def _wire_entrypoints(self) -> None:
        """serving/app.py and training/pipeline.py call into their package's other modules,
        as real entrypoints do (so the import graph has roots and depth)."""
        for entry in ("serving/app.py", "training/pipeline.py"):
            module = self.modules[entry]
            package = module.package
            if package == "serving":
                module.imports.append("app")  # the ASGI app the Dockerfile's CMD serves
            callees = [
                (m.dotted, f.name)
                for m in self.modules.values()
                if m.package == package and m.path != entry
                for f in m.functions[:1]
                if not f.template.is_class
            ]
            scope = module.names_in_scope()
            callees = distinct_names([c for c in callees if c[1] not in scope])
            for pair in self.rng.sample(callees, min(4, len(callees))):
                module.internal.append(pair)
                function = new_function(self.rng, module, INTERNAL_TEMPLATE)
                function.fn = pair[1]
                module.functions.append(function)

    # -- later commits ------------------------------------------------------------------

    def _count(self, commit: Commit, kind: str) -> None:
        commit.kind = kind
        self.stats[kind] += 1

    def _code_modules(self, *, tests: bool = False) -> list[Module]:
        return [m for m in self.modules.values() if (m.package == "tests") == tests]

    def _movable(self) -> list[Module]:
        entry = {"serving/app.py", "training/pipeline.py"}
        imported = {d for m in self.modules.values() for d, _ in m.internal}
        sizes = Counter(m.package for m in self.modules.values())
        return [
            m
            for m in self._code_modules()
            if m.path not in entry and m.dotted not in imported and sizes[m.package] > 3
        ]

    def _code_edit(self, commit: Commit) -> None:
        rng, mix = self.rng, self.mix
        roll = rng.random()
        modules = self._code_modules()
        if roll < mix.body:
            kind = "edit a function body"
            module = rng.choice(modules)
            function = edit_body(rng, module)
            commit.message = f"{module.dotted}: adjust {function.name}"
        elif roll < mix.body + mix.add_function:
            kind = "add a function (no import change)"
            module = rng.choice(modules)
            function = add_function(rng, module)
            commit.message = f"{module.dotted}: add {function.name}"
        elif roll < mix.body + mix.add_function + mix.imports:
            module = rng.choice(modules)
            if rng.random() < 0.6:
                kind, what = "add an import", add_import(rng, module, self._exported())
            else:
                kind = "remove an import"
                protected = {
                    n for m in self.modules.values() for d, n in m.internal if d == module.dotted
                }
                what = remove_import(rng, module, protected)
            if not what:
                kind, function = "edit a function body", edit_body(rng, module)
                what = f"adjust {function.name}"
            commit.message = f"{module.dotted}: {what}"
        elif roll < mix.body + mix.add_function + mix.imports + mix.new_module:
            kind = "new module"
            package = rng.choices(("common", "training", "serving"), (0.25, 0.4, 0.35))[0]
            module = self._add_module(self._free_path(rng.choice(self._folders(package))))
            commit.message = f"Add {module.dotted}"
        else:
            movable = self._movable()
            module = rng.choice(movable) if movable else rng.choice(modules)
            if not movable:
                kind, function = "edit a function body", edit_body(rng, module)
                commit.message = f"{module.dotted}: adjust {function.name}"
            elif roll < 1 - mix.delete:
                kind = "rename a module"
                old = module.path
                module.path = self._free_path(rng.choice(self._folders(module.package)))
                del self.modules[old]
                self.modules[module.path] = module
                commit.renames.append((old, module.path))
                commit.message = f"Move {old} to {module.path}"
            else:
                kind = "delete a module"
                del self.modules[module.path]
                commit.deletes.append(module.path)
                commit.message = f"Remove {module.path}"
                self._count(commit, kind)
                return
        self._count(commit, kind)
        commit.writes[module.path] = module.render().encode()
        tests = self._code_modules(tests=True)
        if tests and rng.random() < mix.also_test:
            test = rng.choice(tests)
            edit_body(rng, test)
            commit.writes[test.path] = test.render().encode()

    def _env_edit(self, commit: Commit) -> None:
        rng = self.rng
        revertible = [f for f in self.env if len(f.history) >= 2 and f.history[-1] != f.history[-2]]
        if revertible and rng.random() < self.mix.env_revert:
            file = rng.choice(revertible)
            commit.message = revert(file)
            self._count(commit, "environment: revert (A -> B -> A)")
        else:
            op = rng.choices(
                ("bump_pin", "add_package", "base_image", "add_env_var", "config_value"),
                (0.35, 0.15, 0.10, 0.20, 0.20),
            )[0]
            file = rng.choice([f for f in self.env if op in f.ops()])
            commit.message = edit(rng, file, op)
            self._count(commit, f"environment: {op.replace('_', ' ')}")
        commit.writes[file.path] = file.render().encode()

    def _other_edit(self, commit: Commit, *, notebooks: bool = False) -> None:
        paths = [p for p, o in self.others.items() if (o.kind == "notebook") == notebooks]
        path = self.rng.choice(paths)
        self.others[path].version += 1
        commit.writes[path] = self.others[path].content()
        commit.message = commit.message or f"Update {path}"

    def next_commit(self) -> Commit:
        commit = Commit("")
        roll = self.rng.random()
        if roll < self.mix.code:
            self._code_edit(commit)
        elif roll < self.mix.code + self.mix.env:
            self._env_edit(commit)
        else:
            notebooks = self.rng.random() < 0.5
            self._other_edit(commit, notebooks=notebooks)
            self._count(commit, "notebook only" if notebooks else "docs or data only")
        if self.rng.random() < self.mix.also_other:
            self._other_edit(commit)
        return commit


def history(
    commits: int, shape: Shape, mix: Mix, seed: int, stats: Counter[str] | None = None
) -> Iterator[Commit]:
    """The ``commits`` commits of the repository, oldest first (streamed)."""
    repo = MLServiceRepo(shape, mix, random.Random(seed))
    yield repo.initial()
    for _ in range(commits - 1):
        yield repo.next_commit()
    if stats is not None:
        stats.update(repo.stats)
        stats["python files at the head"] = len(repo.modules) + len(repo.inits)
        stats["python lines at the head"] = sum(
            m.render().count("\n") for m in repo.modules.values()
        )


def params(commits: int, shape: Shape, mix: Mix, seed: int) -> dict[str, object]:
    """Everything the generated repository depends on (its cache key)."""
    return {
        "generator": f"ml-service-{GENERATOR_VERSION}",
        "commits": commits,
        "shape": asdict(shape),
        "mix": asdict(mix),
        "seed": seed,
    }


def realistic_repository(
    commits: int, shape: Shape, seed: int = 7, mix: Mix | None = None
) -> tuple[Path, bool, Counter[str]]:
    """The cached repository (generated on first use), whether it was reused, and what its
    history holds (counts of commit kinds, files and lines)."""
    mix = mix or Mix()
    stats: Counter[str] = Counter()

    def build(path: Path) -> None:
        kinds: list[str] = []

        def recorded(commits: Iterator[Commit]) -> Iterator[Commit]:
            for commit in commits:
                kinds.append(commit.kind)
                yield commit

        import_history(path, recorded(history(commits, shape, mix, seed, stats)))
        (path / ".git" / "bench-history.json").write_text(
            json.dumps(stats, indent=1, sort_keys=True)
        )
        (path / ".git" / _KINDS).write_text(json.dumps(kinds))

    path, reused = cached_repository("ml-service", params(commits, shape, mix, seed), build)
    if reused:
        stats.update(json.loads((path / ".git" / "bench-history.json").read_text()))
    return path, reused, stats


def commit_kinds(repo: Path) -> list[str] | None:
    """What each commit of a generated repository did, oldest first (None if not recorded)."""
    try:
        kinds = json.loads((repo / ".git" / _KINDS).read_text())
    except (OSError, ValueError):
        return None
    return [str(k) for k in kinds] if isinstance(kinds, list) else None


def describe(stats: Counter[str], commits: int) -> list[str]:
    """Lines describing a generated history: its tree and its commits by kind."""
    lines = [
        f"  first commit: {stats['files in the first commit']} files, "
        f"{stats['python files in the first commit']} Python "
        f"({stats['python lines in the first commit']} lines); "
        f"head: {stats['python files at the head']} Python files "
        f"({stats['python lines at the head']} lines in modules)",
        "  commits after the first, by what they do:",
    ]
    kinds = {k: v for k, v in stats.items() if not k.startswith(("files", "python"))}
    width = max(len(k) for k in kinds)
    for kind, count in sorted(kinds.items(), key=lambda kv: -kv[1]):
        lines.append(f"    {kind:<{width}} {count:>6}  {100 * count / max(commits - 1, 1):5.1f}%")
    return lines
