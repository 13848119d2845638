"""The audited repository's configuration: ``.depaudit.toml`` or ``[tool.depaudit]``.

The reader is strict: an unknown key or a value of the wrong type is a
:class:`ConfigError` that names the key and the file, so a typo never silently changes
what is audited. Parsing is pure (text in); the caller reads the file from the tree.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from depaudit.catalog import RULE_IDS
from depaudit.model import ROLES, SEVERITIES, Role

CONFIG_FILE = ".depaudit.toml"
PYPROJECT = "pyproject.toml"

_TOP_KEYS = {"environments", "rules", "knowledge"}
_ENV_KEYS = {"role", "include", "exclude", "entrypoints", "project"}
_RULE_KEYS = {"ignore", "severity"}
_RULE_TABLE_KEYS = {"allow"}
_KNOWLEDGE_LISTS = {
    "training_packages",
    "not_training_packages",
    "training_hosts",
    "inference_packages",
}
_KNOWLEDGE_NUMBERS = {"max_cpu", "max_memory"}
_KNOWLEDGE_TABLES = {"import_names"}
_KNOWLEDGE_KEYS = _KNOWLEDGE_LISTS | _KNOWLEDGE_NUMBERS | _KNOWLEDGE_TABLES
_DISTRIBUTION_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")  # PEP 508
MAX_CONFIG_BYTES = 256 * 1024
MAX_TOML_LINE_DOTS = 2_000


class ConfigError(Exception):
    """An invalid configuration file; the message names the file and the key."""

    def __init__(self, path: str, message: str) -> None:
        message = " ".join(message.split())[:400]  # one line, whatever the keys held
        super().__init__(f"{path}: {message}")
        self.path = path
        self.reason = message


@dataclass(frozen=True, slots=True)
class EnvironmentConfig:
    name: str
    role: Role
    include: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    entrypoints: tuple[str, ...] = ()
    project: str = ""  # environments of one project are compared; "" = the one default project


@dataclass(frozen=True, slots=True)
class RulesConfig:
    ignore: tuple[str, ...] = ()
    severity: Mapping[str, str] = field(default_factory=dict)
    allow: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AuditConfig:
    """What the repo configured. ``environments`` empty means: use the conventions."""

    environments: tuple[EnvironmentConfig, ...] = ()
    rules: RulesConfig = field(default_factory=RulesConfig)
    knowledge: Mapping[str, Any] = field(default_factory=dict)
    origin: str = "conventions"  # the file it came from, or "conventions"


def parse_config(text: str, path: str, *, from_pyproject: bool = False) -> AuditConfig | None:
    """Parse a config file's text; None when a pyproject has no ``[tool.depaudit]``."""
    if len(text) > MAX_CONFIG_BYTES:
        raise ConfigError(path, f"file is larger than {MAX_CONFIG_BYTES // 1024} KiB")
    # tomllib is quadratic in the parts of one dotted key (see depaudit.collectors.sources.base)
    if max((line.count(".") for line in text.splitlines()), default=0) > MAX_TOML_LINE_DOTS:
        raise ConfigError(path, f"invalid TOML: a line has more than {MAX_TOML_LINE_DOTS} dots")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, f"invalid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(path, "invalid TOML: nested too deeply") from None
    if from_pyproject:
        tool = data.get("tool", {})
        if not isinstance(tool, dict) or "depaudit" not in tool:
            return None
        data = tool["depaudit"]
        prefix = "tool.depaudit."
        if not isinstance(data, dict):
            raise ConfigError(path, "[tool.depaudit] must be a table")
    else:
        prefix = ""
    return _build(data, path, prefix)


def _build(data: dict[str, Any], path: str, prefix: str) -> AuditConfig:
    _reject_unknown(data, _TOP_KEYS, path, prefix)
    envs_raw = _table(data.get("environments", {}), path, f"{prefix}environments")
    environments: list[EnvironmentConfig] = []
    for name, spec in envs_raw.items():
        where = f"{prefix}environments.{_shown(name)}"
        spec = _table(spec, path, where)
        _reject_unknown(spec, _ENV_KEYS, path, where + ".")
        role = spec.get("role")
        if role not in ROLES:
            raise ConfigError(
                path, f"{where}.role must be one of {', '.join(ROLES)} (got {role!r})"
            )
        include = _strings(spec.get("include"), path, f"{where}.include", required=True)
        environments.append(
            EnvironmentConfig(
                name=str(name),
                role=role,
                include=include,
                exclude=_strings(spec.get("exclude", []), path, f"{where}.exclude"),
                entrypoints=_strings(spec.get("entrypoints", []), path, f"{where}.entrypoints"),
                project=_string(spec.get("project", ""), path, f"{where}.project"),
            )
        )
    if environments:
        roles = {e.role for e in environments}
        if roles != set(ROLES):
            missing = ", ".join(sorted(set(ROLES) - roles))
            raise ConfigError(
                path, f"{prefix}environments needs at least one {missing} environment"
            )
        for project in sorted({e.project for e in environments}):
            sides = {e.role for e in environments if e.project == project}
            if sides != set(ROLES):
                missing = ", ".join(sorted(set(ROLES) - sides))
                shown = f"project {project!r}" if project else "the environments without a project"
                raise ConfigError(path, f"{shown} needs at least one {missing} environment")
    rules = _rules(data.get("rules", {}), path, f"{prefix}rules")
    knowledge = _knowledge(data.get("knowledge", {}), path, f"{prefix}knowledge")
    return AuditConfig(tuple(environments), rules, knowledge, origin=path)


def _rules(raw: Any, path: str, where: str) -> RulesConfig:
    table = _table(raw, path, where)
    ignore: tuple[str, ...] = ()
    severity: dict[str, str] = {}
    allow: dict[str, tuple[str, ...]] = {}
    for key, value in table.items():
        if key == "ignore":
            ignore = tuple(
                _rule_id(s, path, f"{where}.ignore")
                for s in _strings(value, path, f"{where}.ignore")
            )
        elif key == "severity":
            for rule_id, sev in _table(value, path, f"{where}.severity").items():
                if sev not in SEVERITIES:
                    raise ConfigError(
                        path,
                        f"{where}.severity.{_shown(rule_id)} must be one of {', '.join(SEVERITIES)} (got {sev!r})",
                    )
                severity[_rule_id(rule_id, path, f"{where}.severity")] = sev
        elif _looks_like_rule_id(key):
            sub = _table(value, path, f"{where}.{key}")
            _reject_unknown(sub, _RULE_TABLE_KEYS, path, f"{where}.{key}.")
            allow[_rule_id(key, path, where)] = _strings(
                sub.get("allow", []), path, f"{where}.{key}.allow"
            )
        else:
            raise ConfigError(
                path,
                f"unknown key '{where}.{_shown(key)}' (expected ignore, severity or a rule id like DA101)",
            )
    return RulesConfig(ignore, severity, allow)


def _knowledge(raw: Any, path: str, where: str) -> dict[str, Any]:
    table = _table(raw, path, where)
    out: dict[str, Any] = {}
    for key, value in table.items():
        if key not in _KNOWLEDGE_KEYS:
            raise ConfigError(
                path,
                f"unknown key '{where}.{_shown(key)}' (expected one of {', '.join(sorted(_KNOWLEDGE_KEYS))})",
            )
        if key in _KNOWLEDGE_TABLES:
            out[key] = _import_names(value, path, f"{where}.{key}")
        elif key in _KNOWLEDGE_LISTS:
            out[key] = _strings(value, path, f"{where}.{key}")
        else:
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ConfigError(path, f"{where}.{key} must be a positive number (got {value!r})")
            if value == float("inf"):
                raise ConfigError(path, f"{where}.{key} must be finite")
            out[key] = float(value)
    return out


def _import_names(value: Any, path: str, where: str, above: str = "") -> dict[str, tuple[str, ...]]:
    """``import_names``: dotted import prefix -> a distribution name or a list of them."""
    out: dict[str, tuple[str, ...]] = {}
    for key, names in _table(value, path, where).items():
        dotted = f"{above}.{key}" if above else key
        if not all(part.isidentifier() for part in dotted.split(".")):
            raise ConfigError(path, f"{where}: '{_shown(dotted)}' is not a dotted import name")
        if isinstance(names, dict):  # written unquoted: google.cloud.bigquery = "..."
            out.update(_import_names(names, path, where, dotted))
            continue
        listed = [names] if isinstance(names, str) else names
        if not (
            isinstance(listed, list)
            and listed
            and all(isinstance(n, str) and _DISTRIBUTION_NAME.fullmatch(n) for n in listed)
        ):
            raise ConfigError(
                path,
                f"{where}.{_shown(dotted)} must be a distribution name or a list of them (got {names!r:.60})",
            )
        out[dotted] = tuple(listed)
    return out


def _shown(key: object) -> str:
    """A key as messages show it: readable keys as they are, others quoted and cut."""
    text = str(key)
    if text.isprintable() and len(text) <= 60:
        return text
    return repr(text[:60]) + ("..." if len(text) > 60 else "")


def _looks_like_rule_id(key: str) -> bool:
    return len(key) == 5 and key[:2].upper() == "DA" and key[2:].isdigit()


def _rule_id(key: str, path: str, where: str) -> str:
    """A rule id the catalog knows (any case): a typo would silently change nothing."""
    if not _looks_like_rule_id(key):
        raise ConfigError(
            path, f"unknown rule id '{where}.{_shown(key)}' (rule ids look like DA101)"
        )
    if key.upper() not in RULE_IDS:
        raise ConfigError(
            path,
            f"unknown rule id {_shown(key)!r} in {where} (see depaudit/docs/rules.md for the ids)",
        )
    return key.upper()


def _reject_unknown(table: Mapping[str, Any], allowed: set[str], path: str, prefix: str) -> None:
    for key in table:
        if key not in allowed:
            raise ConfigError(
                path,
                f"unknown key '{prefix}{_shown(key)}' (expected one of {', '.join(sorted(allowed))})",
            )


def _table(value: Any, path: str, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(path, f"{where} must be a table (got {type(value).__name__})")
    return value


def _string(value: Any, path: str, where: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(path, f"{where} must be a string (got {value!r:.60})")
    return value.strip()


def _strings(value: Any, path: str, where: str, *, required: bool = False) -> tuple[str, ...]:
    if value is None and required:
        raise ConfigError(path, f"{where} is required")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(path, f"{where} must be a list of strings (got {value!r:.60})")
    if required and not value:
        raise ConfigError(path, f"{where} must not be empty")
    return tuple(value)
