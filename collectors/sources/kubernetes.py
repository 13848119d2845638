"""Kubernetes manifests (detected by content: documents with ``apiVersion`` and ``kind``).

Called by ``config_files`` for YAML files. Workloads (Pod, Deployment, StatefulSet,
DaemonSet, ReplicaSet, Job, CronJob) become a :class:`Scope` named after ``metadata.name``
with their facts scoped to it: images, env, resources, command. ConfigMap data becomes
config entries; Secret values are always masked (base64 ``data`` is decoded first so the
fingerprint matches the same secret written in plain text elsewhere).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import re
from collections.abc import Iterator
from typing import Any

from depaudit.collectors.sources import images
from depaudit.collectors.sources.dockerfile import module_of_command
from depaudit.collectors.sources.network import targets_from_config, targets_from_text
from depaudit.collectors.sources.safe_yaml import line_of
from depaudit.model import ConfigEntry, Entrypoint, Fact, Resource, Scope
from depaudit.secrets import mask, mask_value, scrub

WORKLOAD_KINDS = frozenset(
    {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"}
)
_MAX_VALUE = 200

_CPU = re.compile(r"^(\d+(?:\.\d+)?|\.\d+)(m)?$")
_MEMORY = re.compile(r"^(\d+(?:\.\d+)?(?:[eE]\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|K|M|G|T|P|E|m)?$")
_MEMORY_UNITS = {
    "": 1.0,
    "m": 1e-3,
    "k": 1e3,
    "K": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
    "Ki": 2.0**10,
    "Mi": 2.0**20,
    "Gi": 2.0**30,
    "Ti": 2.0**40,
    "Pi": 2.0**50,
    "Ei": 2.0**60,
}


def is_manifest(doc: Any) -> bool:
    """True for a Kubernetes object: a mapping with string ``apiVersion`` and ``kind``."""
    return (
        isinstance(doc, dict)
        and isinstance(doc.get("apiVersion"), str)
        and isinstance(doc.get("kind"), str)
    )


def parse_cpu(raw: str) -> float | None:
    """Kubernetes CPU quantity in cores: ``500m`` -> 0.5, ``2`` -> 2.0."""
    match = _CPU.match(raw.strip())
    if not match:
        return None
    value = float(match.group(1))
    return value / 1000 if match.group(2) else value


def parse_k8s_memory(raw: str) -> float | None:
    """Kubernetes memory quantity in bytes: ``16Gi``, ``512Mi``, ``1G``, ``129e6``."""
    match = _MEMORY.match(raw.strip())
    if not match:
        return None
    return float(match.group(1)) * _MEMORY_UNITS[match.group(2) or ""]


def _short(value: str) -> str:
    return value if len(value) <= _MAX_VALUE else value[: _MAX_VALUE - 1] + "…"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _mapping(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _pod_spec(doc: dict[Any, Any]) -> dict[Any, Any]:
    kind = doc.get("kind")
    spec = _mapping(doc.get("spec"))
    if kind == "Pod":
        return spec
    if kind == "CronJob":
        spec = _mapping(_mapping(spec.get("jobTemplate")).get("spec"))
    return _mapping(_mapping(spec.get("template")).get("spec"))


def _documents(docs: list[Any]) -> Iterator[Any]:
    """Documents, with ``kind: List`` expanded into its items."""
    for doc in docs:
        if is_manifest(doc) and doc.get("kind") == "List":
            yield from _items(doc.get("items"))
        else:
            yield doc


def manifest_facts(docs: list[Any], path: str) -> tuple[list[Fact], list[Any]]:
    """(facts of the Kubernetes documents, the documents that are not Kubernetes objects)."""
    facts: list[Fact] = []
    others: list[Any] = []
    for doc in _documents(docs):
        if not is_manifest(doc):
            others.append(doc)
            continue
        kind = doc["kind"]
        if kind in WORKLOAD_KINDS:
            facts.extend(_workload(doc, path))
        elif kind == "ConfigMap":
            facts.extend(_config_map(doc, path))
        elif kind == "Secret":
            facts.extend(_secret(doc, path))
    return facts, others


def _workload(doc: dict[Any, Any], path: str) -> list[Fact]:
    metadata = _mapping(doc.get("metadata"))
    name = _text(metadata.get("name")) or doc["kind"].lower()
    pod = _pod_spec(doc)
    containers = [c for c in _items(pod.get("containers")) if isinstance(c, dict)]
    init = [c for c in _items(pod.get("initContainers")) if isinstance(c, dict)]
    first_image = next((_text(c.get("image")) for c in containers if c.get("image")), "")
    line = line_of(metadata, "name", line_of(doc, "kind", 1))
    out: list[Fact] = [Scope(name=name, file=path, line=line, image=scrub(first_image))]
    for container in containers + init:
        out.extend(_container(container, path, name))
    return out


def _container(container: dict[Any, Any], path: str, scope: str) -> list[Fact]:
    out: list[Fact] = []
    base_line = line_of(container, "name", line_of(container, "image", 1))
    image = _text(container.get("image"))
    if image:
        out.extend(
            images.runtime_facts(
                image, file=path, line=line_of(container, "image", base_line), scope=scope
            )
        )
    env = _items(container.get("env"))
    for index, item in enumerate(env):
        if not isinstance(item, dict) or not item.get("name"):
            continue
        key = _text(item["name"])
        line = line_of(env, index, base_line)
        if "valueFrom" in item:
            value = _value_from(_mapping(item.get("valueFrom")))
            out.append(ConfigEntry(f"env.{key}", value, path, line, secret=False, scope=scope))
            continue
        raw = _text(item.get("value"))
        shown, secret = mask_value(key, raw)
        out.append(ConfigEntry(f"env.{key}", _short(shown), path, line, secret=secret, scope=scope))
        out.extend(targets_from_config(key, raw, file=path, line=line, scope=scope))
    env_from = _items(container.get("envFrom"))
    for index, item in enumerate(env_from):
        for ref_kind in ("configMapRef", "secretRef"):
            ref = _mapping(_mapping(item).get(ref_kind))
            if ref.get("name"):
                out.append(
                    ConfigEntry(
                        f"envFrom.{ref_kind}",
                        _text(ref["name"]),
                        path,
                        line_of(env_from, index, base_line),
                        scope=scope,
                    )
                )
    out.extend(_resources(_mapping(container.get("resources")), path, scope, base_line))
    words = [_text(w) for w in _items(container.get("command")) + _items(container.get("args"))]
    if isinstance(container.get("command"), str):
        words = [container["command"], *words]
    if words:
        line = line_of(container, "command", line_of(container, "args", base_line))
        out.append(
            Entrypoint(
                command=_short(scrub(" ".join(words))),
                file=path,
                line=line,
                module=module_of_command(words),
                scope=scope,
            )
        )
    return out


def _value_from(value_from: dict[Any, Any]) -> str:
    for ref_kind in ("secretKeyRef", "configMapKeyRef"):
        ref = _mapping(value_from.get(ref_kind))
        if ref:
            return f"{ref_kind}:{_text(ref.get('name'))}/{_text(ref.get('key'))}"
    field = _mapping(value_from.get("fieldRef"))
    if field:
        return f"fieldRef:{_text(field.get('fieldPath'))}"
    resource = _mapping(value_from.get("resourceFieldRef"))
    if resource:
        return f"resourceFieldRef:{_text(resource.get('resource'))}"
    return "valueFrom"


def _resources(resources: dict[Any, Any], path: str, scope: str, default_line: int) -> list[Fact]:
    out: list[Fact] = []
    for section, bound in (("requests", "request"), ("limits", "limit")):
        values = _mapping(resources.get(section))
        for name, raw_value in values.items():
            raw = _text(raw_value).strip()
            line = line_of(values, name, default_line)
            key = _text(name)
            amount: float | None
            if key == "cpu":
                kind = "cpu"
                amount = parse_cpu(raw)
            elif key == "memory":
                kind = "memory"
                amount = parse_k8s_memory(raw)
            elif "gpu" in key.lower():  # nvidia.com/gpu, amd.com/gpu, gpu.intel.com/i915
                kind = "gpu"
                amount = parse_cpu(raw)
            else:
                continue
            if amount is None:
                continue
            out.append(
                Resource(kind, amount, raw, path, line, bound=bound, scope=scope)  # type: ignore[arg-type]
            )
    return out


def _config_map(doc: dict[Any, Any], path: str) -> list[Fact]:
    out: list[Fact] = []
    data = _mapping(doc.get("data"))
    for key, raw_value in data.items():
        raw = _text(raw_value)
        line = line_of(data, key, 1)
        shown, secret = mask_value(_text(key), raw)
        out.append(ConfigEntry(_text(key), _short(shown), path, line, secret=secret))
        if "\n" in raw:
            out.extend(targets_from_text(raw, file=path, line=line, key=_text(key)))
        else:
            out.extend(targets_from_config(_text(key), raw, file=path, line=line))
    return out


def _secret(doc: dict[Any, Any], path: str) -> list[Fact]:
    out: list[Fact] = []
    for section, encoded in (("data", True), ("stringData", False)):
        data = _mapping(doc.get(section))
        for key, raw_value in data.items():
            raw = _text(raw_value)
            if encoded:
                # fingerprint the decoded value; keep the encoded form if it is not base64
                with contextlib.suppress(binascii.Error, UnicodeDecodeError, ValueError):
                    raw = base64.b64decode(raw, validate=True).decode("utf-8")
            line = line_of(data, key, 1)
            out.append(ConfigEntry(_text(key), mask(raw), path, line, secret=True))
            # the host a secret DSN points at is not itself secret
            out.extend(targets_from_config(_text(key), raw, file=path, line=line))
    return out


__all__ = [
    "WORKLOAD_KINDS",
    "is_manifest",
    "manifest_facts",
    "parse_cpu",
    "parse_k8s_memory",
]
