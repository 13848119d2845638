"""Docker Compose files: one :class:`Scope` per service, and that service's facts.

Build paths are repo-relative: a ``build`` context is relative to the compose file's
directory. With ``build.dockerfile`` the scope's ``build_path`` is that Dockerfile's path;
without it, the context directory (the finder looks for its Dockerfile). A service with
``build`` names its *output* in ``image``, so that image goes into ``Scope.image`` only and
is not reported as a base image (the Dockerfile says what the base is).
"""

from __future__ import annotations

import contextlib
import posixpath
import re
from dataclasses import dataclass
from typing import Any, Literal

from depaudit.collectors.sources import images
from depaudit.collectors.sources.base import MAX_FILE_BYTES, error
from depaudit.collectors.sources.dockerfile import module_of_command
from depaudit.collectors.sources.network import targets_from_config
from depaudit.collectors.sources.safe_yaml import SafeYamlError, line_of, load_all
from depaudit.model import (
    ConfigEntry,
    Entrypoint,
    Fact,
    ImageBuild,
    Resource,
    Scope,
    SourceResult,
)
from depaudit.secrets import mask_value, scrub

_NAME = re.compile(r"(^|/)(docker-)?compose(\.[^/]+)?\.ya?ml$")
_COMPOSE_MEMORY = re.compile(r"^(\d+(?:\.\d+)?)\s*([bkmg]?)b?$", re.IGNORECASE)
_MEMORY_UNITS = {"": 1, "b": 1, "k": 2**10, "m": 2**20, "g": 2**30}
_MAX_VALUE = 200
Bound = Literal["request", "limit"]


def parse_compose_memory(raw: str) -> float | None:
    """Compose byte values: ``512m``, ``2g``, ``1.5gb``, ``1024`` (binary units)."""
    match = _COMPOSE_MEMORY.match(raw.strip())
    if not match:
        return None
    return float(match.group(1)) * _MEMORY_UNITS[match.group(2).lower()]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _short(value: str) -> str:
    return value if len(value) <= _MAX_VALUE else value[: _MAX_VALUE - 1] + "…"


def _mapping(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def _words(value: Any) -> list[str]:
    if isinstance(value, list):
        return [_text(w) for w in value]
    if isinstance(value, str):
        return value.split()
    return []


def _repo_path(compose_path: str, relative: str) -> str:
    if "://" in relative or relative.startswith("git@"):
        return relative  # a remote build context
    joined = posixpath.join(posixpath.dirname(compose_path), relative)
    return posixpath.normpath(joined) if joined else "."


class ComposeSource:
    name = "compose"

    def matches(self, path: str) -> bool:
        return bool(_NAME.search(path))

    def parse(self, text: str, path: str) -> SourceResult:
        if len(text) > MAX_FILE_BYTES:  # the snapshot builder checks first; direct callers too
            return error(path, f"file too large ({len(text)} characters, limit {MAX_FILE_BYTES})")
        try:
            docs = load_all(text, path)
        except SafeYamlError as exc:
            return error(path, str(exc), exc.line)
        root = next((d for d in docs if isinstance(d, dict)), None)
        if root is None:
            return error(path, "compose file is not a mapping") if docs else SourceResult()
        services = root.get("services")
        if not isinstance(services, dict):
            # compose file format 1: services at the top level
            services = {
                k: v
                for k, v in root.items()
                if isinstance(v, dict) and ("image" in v or "build" in v)
            }
            container: Any = root
        else:
            container = services
        facts: list[Fact] = []
        for name, service in services.items():
            if isinstance(service, dict):
                facts.extend(_service(_text(name), service, path, line_of(container, name, 1)))
        return SourceResult(tuple(facts))


@dataclass(frozen=True, slots=True)
class _Build:
    """A service's ``build``, short form (``build: ./api``) or long, read once."""

    context: str  # repo-relative folder, or a remote context as written
    dockerfile: str  # ``build.dockerfile`` as written, "" when not given
    args: Any  # ``build.args``: a mapping, a list of "NAME=value", or None

    @property
    def path(self) -> str:
        """The Dockerfile when named, else the context folder (the finder looks inside)."""
        if self.dockerfile and "://" not in self.context:
            return posixpath.normpath(posixpath.join(self.context, self.dockerfile))
        return self.context


def _build_of(path: str, build: Any) -> _Build | None:
    if isinstance(build, str):
        return _Build(_repo_path(path, build), "", None)
    if isinstance(build, dict):
        context = _repo_path(path, _text(build.get("context") or "."))
        return _Build(context, _text(build.get("dockerfile")), build.get("args"))
    return None


def _image_build(name: str, image: str, build: _Build, path: str, line: int) -> ImageBuild | None:
    """The image a service's local ``build`` makes, as a Makefile's ``docker build`` would
    say it: its tag (``image``), Dockerfile, context and ``build.args``, so that another
    Dockerfile's ``FROM ${ARG}`` can be followed to the one that builds the base."""
    if "://" in build.context or build.context.startswith("git@"):
        return None  # a remote context: nothing in this tree builds it
    folder = "" if build.context == "." else build.context
    args: list[str] = []
    if isinstance(build.args, dict):
        args = [
            f"{_text(k)}={mask_value(_text(k), _text(v))[0]}"
            for k, v in build.args.items()
            if v is not None
        ]
    elif isinstance(build.args, list):
        args = [scrub(_text(a)) for a in build.args if "=" in _text(a)]
    return ImageBuild(
        tag=scrub(image),
        dockerfile=posixpath.normpath(posixpath.join(folder, build.dockerfile or "Dockerfile")),
        context=folder,
        args=tuple(args),
        file=path,
        line=line,
        scope=name,
    )


def _service(name: str, service: dict[Any, Any], path: str, line: int) -> list[Fact]:
    out: list[Fact] = []
    image = _text(service.get("image"))
    build = service.get("build")
    spec = _build_of(path, build)
    build_path = spec.path if spec is not None else ""
    out.append(Scope(name=name, file=path, line=line, build_path=build_path, image=scrub(image)))
    if spec is not None:
        built = _image_build(name, image, spec, path, line_of(service, "build", line))
        if built is not None:
            out.append(built)
    if image and build is None:
        out.extend(
            images.runtime_facts(image, file=path, line=line_of(service, "image", line), scope=name)
        )
    out.extend(
        _environment(service.get("environment"), path, name, line_of(service, "environment", line))
    )
    out.extend(_resources(service, path, name, line))
    entry = _words(service.get("entrypoint")) + _words(service.get("command"))
    if entry:
        key = "entrypoint" if "entrypoint" in service else "command"
        out.append(
            Entrypoint(
                command=_short(scrub(" ".join(entry))),
                file=path,
                line=line_of(service, key, line),
                module=module_of_command(entry),
                scope=name,
            )
        )
    return out


def _environment(env: Any, path: str, scope: str, line: int) -> list[Fact]:
    pairs: list[tuple[str, str, int]] = []
    if isinstance(env, dict):
        pairs = [(_text(k), _text(v), line_of(env, k, line)) for k, v in env.items()]
    elif isinstance(env, list):
        for index, item in enumerate(env):
            key, _, value = _text(item).partition("=")
            pairs.append((key.strip(), value, line_of(env, index, line)))
    out: list[Fact] = []
    for key, value, key_line in pairs:
        if not key:
            continue
        shown, secret = mask_value(key, value)
        out.append(
            ConfigEntry(
                f"environment.{key}", _short(shown), path, key_line, secret=secret, scope=scope
            )
        )
        out.extend(targets_from_config(key, value, file=path, line=key_line, scope=scope))
    return out


def _resources(service: dict[Any, Any], path: str, scope: str, line: int) -> list[Fact]:
    out: list[Fact] = []
    deploy = _mapping(service.get("deploy"))
    resources = _mapping(deploy.get("resources"))
    gpu_found = False
    sections: tuple[tuple[str, Bound], ...] = (("reservations", "request"), ("limits", "limit"))
    for section, bound in sections:
        values = _mapping(resources.get(section))
        cpus = values.get("cpus")
        if cpus is not None:
            with contextlib.suppress(ValueError):
                out.append(
                    Resource(
                        "cpu",
                        float(_text(cpus)),
                        _text(cpus),
                        path,
                        line_of(values, "cpus", line),
                        bound=bound,
                        scope=scope,
                    )
                )
        memory = values.get("memory")
        if memory is not None:
            amount = parse_compose_memory(_text(memory))
            if amount is not None:
                out.append(
                    Resource(
                        "memory",
                        amount,
                        _text(memory),
                        path,
                        line_of(values, "memory", line),
                        bound=bound,
                        scope=scope,
                    )
                )
        devices = values.get("devices")
        for index, device in enumerate(devices if isinstance(devices, list) else []):
            if not isinstance(device, dict):
                continue
            capabilities = [_text(c).lower() for c in device.get("capabilities") or []]
            driver = _text(device.get("driver")).lower()
            if "gpu" not in capabilities and driver not in ("nvidia", "amd"):
                continue
            count = device.get("count")
            ids = device.get("device_ids")
            if isinstance(ids, list) and ids:
                amount, raw = float(len(ids)), ",".join(_text(i) for i in ids)
            elif isinstance(count, int) and not isinstance(count, bool):
                amount, raw = float(count), str(count)
            else:
                amount, raw = 1.0, _text(count) or "all"  # "all" / unset: at least one
            out.append(
                Resource(
                    "gpu",
                    amount,
                    raw,
                    path,
                    line_of(devices, index, line),
                    bound=bound,
                    scope=scope,
                )
            )
            gpu_found = True
    if not gpu_found:
        if _text(service.get("runtime")).lower() == "nvidia":
            out.append(
                Resource(
                    "gpu",
                    1.0,
                    "runtime: nvidia",
                    path,
                    line_of(service, "runtime", line),
                    scope=scope,
                )
            )
        elif service.get("gpus") is not None:
            raw = _text(service.get("gpus"))
            amount = float(raw) if raw.isdigit() else 1.0
            out.append(
                Resource("gpu", amount, raw, path, line_of(service, "gpus", line), scope=scope)
            )
    return out


SOURCE = ComposeSource()

__all__ = ["SOURCE", "ComposeSource", "parse_compose_memory"]
