"""Where serving code starts, and what it reaches from there.

Pure: works on environment snapshots only. The starts of a serving environment are, in
order of authority:

1. the environment's configured ``entrypoints`` (``.depaudit.toml``): when set they are
   the only starts, because the user said so;
2. otherwise the union of the commands that start its processes (``Entrypoint`` facts:
   Dockerfile ``CMD``/``ENTRYPOINT``, compose / Kubernetes ``command``), read for
   ``uvicorn pkg.app:app``, ``gunicorn "pkg.wsgi:create_app()"``, ``python -m pkg.serve``,
   ``python serve.py``, ``streamlit run x.py``, ``bentoml serve svc:Svc``,
   ``serve run mod:app``, ``flask --app pkg.app run``, ``sh -c "..."``; and of the modules
   that define an application object (``CodeModule.app_objects``: ``FastAPI:app`` ...);
3. when none of those names serving code, every serving module is a start
   (``fallback=True``) and the code rules say so in their messages, since "reachable"
   then only means "present".

:func:`build_analysis` builds one import graph over serving and training code (serving
first: a module name both define resolves to serving's copy) and the reach of the serving
starts over it; the pair view builds it once and every code rule of the pair shares it.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from depaudit.code_graph import Chain, ImportGraph
from depaudit.model import CodeModule, Entrypoint, EnvironmentSnapshot

FALLBACK_NOTE = (
    "no serving entrypoint was found (configure [environments.NAME] entrypoints), "
    "so every serving module was treated as one"
)

_APP_SPEC = re.compile(r"([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*):([A-Za-z_]\w*)(\(.*\))?")
_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
_SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ash"})
_MODULE_FLAGS = frozenset({"-m", "--app", "--app-module"})


@dataclass(frozen=True, slots=True)
class ServingStart:
    """A serving module where execution starts, and why we think so."""

    module: str
    reason: str  # 'entrypoint "uvicorn serving.app:app" (Dockerfile:9)', 'FastAPI:app object'


@dataclass(frozen=True, slots=True)
class CodeAnalysis:
    """The import graph of one training x serving pair and what serving reaches."""

    graph: ImportGraph
    serving_modules: Mapping[str, CodeModule]
    training_modules: Mapping[str, CodeModule]
    starts: tuple[ServingStart, ...]
    fallback: bool
    reach: Mapping[str, Chain]

    @property
    def training_only(self) -> set[str]:
        return set(self.training_modules) - set(self.serving_modules)

    def reached_serving(self) -> list[CodeModule]:
        """Serving modules the starts reach, in a stable order (shortest chain first)."""
        names = [m for m in self.reach if m in self.serving_modules]
        names.sort(key=lambda m: (len(self.reach[m]), m))
        return [self.serving_modules[m] for m in names]

    def note(self) -> str:
        return f" ({FALLBACK_NOTE})" if self.fallback else ""


def command_targets(command: str) -> list[tuple[str, str]]:
    """``("module", "pkg.app")`` / ``("file", "serve.py")`` targets a start command names."""
    try:
        words = shlex.split(command, comments=False)
    except ValueError:
        words = command.split()
    out: list[tuple[str, str]] = []
    for i, word in enumerate(words):
        prog = word.rsplit("/", 1)[-1]
        if prog in _SHELLS and i + 2 < len(words) and words[i + 1] == "-c":
            out.extend(command_targets(words[i + 2]))
            continue
        flag, eq, value = word.partition("=")
        if eq and flag in _MODULE_FLAGS:
            word = value
        elif word in _MODULE_FLAGS:
            if i + 1 < len(words):
                nxt = words[i + 1]
                spec = _APP_SPEC.fullmatch(nxt)
                if spec:
                    out.append(("module", spec.group(1)))
                elif _DOTTED.fullmatch(nxt):
                    out.append(("module", nxt))
            continue
        if word.endswith(".py") and not word.startswith("-"):
            out.append(("file", word))
            continue
        spec = _APP_SPEC.fullmatch(word)
        if spec:
            out.append(("module", spec.group(1)))
    return list(dict.fromkeys(out))


def _match_module(name: str, modules: Mapping[str, CodeModule]) -> list[str]:
    if name in modules:
        return [name]
    # the container's WORKDIR is often a subfolder: "uvicorn app:app" in serving/
    suffix = "." + name
    return sorted(m for m in modules if m.endswith(suffix))


def _match_file(path: str, modules: Mapping[str, CodeModule]) -> list[str]:
    wanted = path.removeprefix("./").lstrip("/")
    hits = []
    for name, mod in modules.items():
        f = mod.file
        if f == wanted or wanted.endswith("/" + f) or f.endswith("/" + wanted):
            hits.append(name)
    return sorted(hits)


def _resolve_target(kind: str, value: str, modules: Mapping[str, CodeModule]) -> list[str]:
    if kind == "file" or value.endswith(".py") or "/" in value:
        return _match_file(value, modules)
    return _match_module(value.split(":", 1)[0], modules)


def find_starts(
    serving: EnvironmentSnapshot, modules: Mapping[str, CodeModule]
) -> tuple[tuple[ServingStart, ...], bool]:
    """The serving starts (see the module docstring) and whether the fallback was used."""
    starts: dict[str, ServingStart] = {}
    for configured in serving.entrypoints:
        for m in _resolve_target("module", configured, modules):
            starts.setdefault(m, ServingStart(m, f'configured entrypoint "{configured}"'))
    if not starts:
        for ep in serving.of_type(Entrypoint):
            targets = command_targets(ep.command)
            if ep.module:
                targets.insert(0, ("module", ep.module))
            where = f"{ep.file}:{ep.line}" if ep.line else ep.file
            for kind, value in targets:
                for m in _resolve_target(kind, value, modules):
                    starts.setdefault(m, ServingStart(m, f'command "{ep.command}" ({where})'))
        for name in sorted(modules):
            apps = modules[name].app_objects
            if apps:
                starts.setdefault(name, ServingStart(name, f"{', '.join(apps)} defined here"))
    if starts:
        return tuple(starts[m] for m in sorted(starts)), False
    return tuple(ServingStart(m, "fallback: every serving module") for m in sorted(modules)), True


def code_modules(snapshot: EnvironmentSnapshot) -> dict[str, CodeModule]:
    out: dict[str, CodeModule] = {}
    for mod in snapshot.of_type(CodeModule):
        out.setdefault(mod.module, mod)
    return out


def build_analysis(training: EnvironmentSnapshot, serving: EnvironmentSnapshot) -> CodeAnalysis:
    """The code analysis of a training x serving pair (the pair view builds it once)."""
    serving_modules = code_modules(serving)
    training_modules = code_modules(training)
    ordered: Iterable[CodeModule] = (*serving_modules.values(), *training_modules.values())
    graph = ImportGraph(ordered)
    starts, fallback = find_starts(serving, serving_modules)
    reach = graph.reachable(s.module for s in starts)
    return CodeAnalysis(graph, serving_modules, training_modules, starts, fallback, reach)
