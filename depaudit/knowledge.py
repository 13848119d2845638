"""What is training-specific: data with a documented reason per entry.

The built-in knowledge lives in ``depaudit/data/knowledge.toml`` (one table per entry with
its ``reason``, ``category`` and ``severity``). An audited repository extends or overrides
it through the ``[knowledge]`` table of its ``.depaudit.toml``; see depaudit/docs/rules.md.
This module is pure: loading the packaged data file is the only read it does.
"""

from __future__ import annotations

import fnmatch
import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any

from depaudit import import_names as _import_names
from depaudit.model import Severity


@dataclass(frozen=True, slots=True)
class Entry:
    """A training-specific thing and why."""

    name: str  # canonical package name, module prefix, host glob, key glob, call name
    reason: str
    category: str  # e.g. "experiment-tracking", "warehouse", "hpo", "notebook", "testing"
    severity: Severity = "medium"


@dataclass(frozen=True, slots=True)
class Knowledge:
    # canonical package name -> entry
    training_packages: Mapping[str, Entry] = field(default_factory=dict)
    # packages whose versions must match exactly between training and serving
    inference_packages: frozenset[str] = frozenset()
    # dotted module prefixes that are training APIs even inside inference libraries
    training_modules: Mapping[str, Entry] = field(default_factory=dict)
    # call names (last attribute, or dotted) that train / tune / track
    training_calls: Mapping[str, Entry] = field(default_factory=dict)
    # host globs of warehouses, internal networks, experiment trackers
    training_hosts: Mapping[str, Entry] = field(default_factory=dict)
    # config key globs (case-insensitive, matched on the flattened key's last part)
    training_config_keys: Mapping[str, Entry] = field(default_factory=dict)
    # system packages that are build / GPU toolchains
    training_system_packages: Mapping[str, Entry] = field(default_factory=dict)
    # bucket name globs that hold training data
    training_buckets: Mapping[str, Entry] = field(default_factory=dict)
    # base image globs (``name:tag``, lower-case, digest dropped) of devel / training images
    training_images: Mapping[str, Entry] = field(default_factory=dict)
    # serving resource ceilings
    max_cpu: float = 8.0  # cores
    max_memory: float = 32 * 1024**3  # bytes
    # dotted import prefix -> distributions: overrides of depaudit.import_names' map, checked
    # first (the knowledge base's [import_names] table, then a repository's [knowledge])
    import_names: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # package -> packages it needs at run time without the user's code importing them
    # (lime draws with matplotlib): never a leftover while the first is used
    runtime_needs: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # "hydra/job_logging: colorlog" -> "hydra-colorlog": plugins a config selects by name
    config_plugins: Mapping[str, str] = field(default_factory=dict)

    def package(self, name: str) -> Entry | None:
        return self.training_packages.get(name)

    def host(self, host: str) -> Entry | None:
        return _glob_lookup(self.training_hosts, host.lower())

    def config_key(self, key: str) -> Entry | None:
        leaf = key.replace("[", ".").split(".")[-1].lower()
        return _glob_lookup(self.training_config_keys, leaf) or _glob_lookup(
            self.training_config_keys, key.lower()
        )

    def bucket(self, name: str) -> Entry | None:
        return _glob_lookup(self.training_buckets, name.lower())

    def system_package(self, name: str) -> Entry | None:
        return _glob_lookup(self.training_system_packages, name.lower())

    def image(self, ref: str) -> Entry | None:
        """The entry for a base image reference (``nvidia/cuda:12.1.0-devel-ubuntu22.04``)."""
        return _glob_lookup(self.training_images, ref.split("@", 1)[0].lower())

    def module(self, dotted: str) -> Entry | None:
        """The entry for a module or any of its parents (``sklearn.model_selection._split``)."""
        parts = dotted.split(".")
        for i in range(len(parts), 0, -1):
            entry = self.training_modules.get(".".join(parts[:i]))
            if entry:
                return entry
        return None

    def import_match(self, module: str) -> _import_names.Match:
        """What provides a dotted import, and by which prefix (see depaudit.import_names)."""
        return _import_names.lookup(module, self.import_names)

    def distributions_for_import(self, module: str) -> tuple[str, ...]:
        """Every distribution that provides ``module`` (``cv2`` -> opencv-python, -headless...)."""
        return self.import_match(module).distributions

    def distribution_for_import(self, module: str) -> str:
        """The most downloaded distribution that provides ``module`` (``yaml`` -> ``pyyaml``,
        ``google.cloud.bigquery.job`` -> ``google-cloud-bigquery``); a bare namespace package
        (``google``) provides none, and gives its own name canonicalised."""
        from packaging.utils import canonicalize_name

        found = self.distributions_for_import(module)
        return found[0] if found else canonicalize_name(module.split(".", 1)[0])

    def import_names_for(self, distribution: str) -> tuple[str, ...]:
        """Import prefixes a distribution provides (``scikit-learn`` -> ``sklearn``...)."""
        return _import_names.import_names_for(distribution, self.import_names)

    def with_overrides(self, overrides: Mapping[str, Any]) -> Knowledge:
        """Extend from a repo's ``[knowledge]`` table (already validated by depaudit.config)."""
        return _apply_overrides(self, overrides)


# (id of a table, value) -> entry. Tables are built once per Knowledge and never change,
# and the same hosts / keys are looked up at every commit of a history.
_GLOB_CACHE: dict[tuple[int, str], Entry | None] = {}
_GLOB_TABLES: dict[int, Mapping[str, Entry]] = {}  # keeps cached tables alive (stable ids)


def _glob_lookup(table: Mapping[str, Entry], value: str) -> Entry | None:
    hit = table.get(value)
    if hit:
        return hit
    key = (id(table), value)
    if key in _GLOB_CACHE:
        return _GLOB_CACHE[key]
    found = None
    for pattern, entry in table.items():
        if any(c in pattern for c in "*?[") and fnmatch.fnmatchcase(value, pattern):
            found = entry
            break
    if len(_GLOB_CACHE) > 100_000:
        _GLOB_CACHE.clear()
        _GLOB_TABLES.clear()
    _GLOB_TABLES[id(table)] = table
    _GLOB_CACHE[key] = found
    return found


def _entries(raw: Mapping[str, Any], default_category: str) -> dict[str, Entry]:
    out: dict[str, Entry] = {}
    for name, spec in raw.items():
        out[name] = Entry(
            name=name,
            reason=str(spec.get("reason", "")),
            category=str(spec.get("category", default_category)),
            severity=spec.get("severity", "medium"),
        )
    return out


@functools.cache
def builtin() -> Knowledge:
    """The packaged knowledge base (cached: it is immutable)."""
    text = resources.files("depaudit").joinpath("data/knowledge.toml").read_text("utf-8")
    data = tomllib.loads(text)
    return Knowledge(
        training_packages=_entries(data.get("training_packages", {}), "training"),
        inference_packages=frozenset(data.get("inference_packages", {}).get("names", [])),
        training_modules=_entries(data.get("training_modules", {}), "training-api"),
        training_calls=_entries(data.get("training_calls", {}), "training-call"),
        training_hosts=_entries(data.get("training_hosts", {}), "network"),
        training_config_keys=_entries(data.get("training_config_keys", {}), "config"),
        training_system_packages=_entries(data.get("training_system_packages", {}), "toolchain"),
        training_buckets=_entries(data.get("training_buckets", {}), "data"),
        training_images=_entries(data.get("training_images", {}), "training-image"),
        max_cpu=float(data.get("limits", {}).get("max_cpu", 8.0)),
        max_memory=float(data.get("limits", {}).get("max_memory_bytes", 32 * 1024**3)),
        import_names=import_name_table(data.get("import_names", {})),
        runtime_needs={
            name: frozenset(spec.get("needs", []))
            for name, spec in data.get("runtime_needs", {}).items()
        },
        config_plugins={
            str(key): str(dist) for key, dist in data.get("config_plugins", {}).items()
        },
    )


def import_name_table(raw: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """``{"google.cloud.bigquery": "google-cloud-bigquery"}`` with canonical names as tuples.

    A key written unquoted in TOML (``google.cloud.bigquery = ...``) arrives as nested tables:
    it is joined back into its dotted prefix.
    """
    from packaging.utils import canonicalize_name

    out: dict[str, tuple[str, ...]] = {}
    for key, value in raw.items():
        if isinstance(value, Mapping):
            for inner, names in import_name_table(value).items():
                out[f"{key}.{inner}"] = names
        else:
            values = [value] if isinstance(value, str) else list(value)
            out[str(key)] = tuple(canonicalize_name(str(v)) for v in values)
    return out


def _apply_overrides(base: Knowledge, o: Mapping[str, Any]) -> Knowledge:
    from packaging.utils import canonicalize_name

    pkgs = dict(base.training_packages)
    for name in o.get("training_packages", []):
        cname = canonicalize_name(name)
        pkgs[cname] = Entry(
            cname, "listed as training-only in the repository's config", "config", "medium"
        )
    for name in o.get("not_training_packages", []):
        pkgs.pop(canonicalize_name(name), None)
    hosts = dict(base.training_hosts)
    for host in o.get("training_hosts", []):
        hosts[host.lower()] = Entry(
            host, "listed as a training host in the repository's config", "config", "high"
        )
    inference = base.inference_packages | {
        canonicalize_name(n) for n in o.get("inference_packages", [])
    }
    import_names = {**base.import_names, **import_name_table(o.get("import_names", {}))}
    return replace(
        base,
        import_names=import_names,
        training_packages=pkgs,
        training_hosts=hosts,
        inference_packages=frozenset(inference),
        max_cpu=float(o.get("max_cpu", base.max_cpu)),
        max_memory=float(o.get("max_memory", base.max_memory)),
    )
