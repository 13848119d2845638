"""Generic configuration files: YAML, JSON, TOML, INI/CFG and dotenv.

Keys are flattened (``a.b.c``, list items ``a[0]``), values kept as short strings and
masked when secret (``depaudit.secrets.mask_value``); network targets are read from the
*unmasked* values first, and only the target (never a password) is kept. YAML documents
that are Kubernetes objects go to :mod:`depaudit.collectors.sources.kubernetes`.

Choices:
- ``.env.example`` / ``.env.sample`` are read too: example files leak real keys often
  enough, and their keys show which credentials an environment expects.
- Helm / Go templates (``{{ ... }}``) that are not valid YAML are skipped without an
  error: they are templates, not broken files.
- Tooling files (CI, pre-commit, package.json, tsconfig, notebooks, tokenizer vocabularies)
  are not environment configuration and are not matched.
- Data tables inside a config-shaped file (a list of 25 or more records with the same keys,
  or of rows: DVC plot files, metrics per epoch) are skipped: settings are not tables.
"""

from __future__ import annotations

import configparser
import itertools
import json
import re
from collections.abc import Iterator
from typing import Any

from depaudit.collectors.sources import azureml, kubernetes
from depaudit.collectors.sources.base import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    error,
    squeeze_blanks,
)
from depaudit.collectors.sources.network import targets_from_config
from depaudit.collectors.sources.safe_yaml import LinedList, LinedMap, SafeYamlError, load_all
from depaudit.collectors.sources.toml_document import TomlProblem, deepest_line, load_document
from depaudit.model import ConfigEntry, Fact, ParseError, SourceResult
from depaudit.secrets import mask_value

MAX_ENTRIES = 5000  # flattened keys per file; more is a data file, not configuration
TABLE_ROWS = 25  # a list of this many same-shaped records is a data table (skipped)
_MAX_VALUE = 200

_YAML = re.compile(r"\.ya?ml$", re.IGNORECASE)
_SKIP_YAML = re.compile(
    r"(^|/)((docker-)?compose(\.[^/]+)?\.ya?ml|environment[^/]*\.ya?ml|conda[^/]*\.ya?ml|"
    r"\.gitlab-ci\.ya?ml|\.pre-commit-config\.ya?ml|\.pre-commit-hooks\.ya?ml|mkdocs\.ya?ml|"
    r"\.readthedocs\.ya?ml|codecov\.ya?ml|\.codecov\.ya?ml|\.travis\.ya?ml|\.golangci\.ya?ml|"
    r"pnpm-lock\.yaml|\.yamllint(\.ya?ml)?|dependabot\.ya?ml|CITATION\.cff)$",
    re.IGNORECASE,
)
_SKIP_DIRS = re.compile(
    r"(^|/)(\.github|\.gitlab|\.circleci|\.buildkite|\.vscode|\.idea|node_modules)/"
)
_SKIP_JSON = re.compile(
    r"(^|/)(package(-lock)?\.json|tsconfig[^/]*\.json|jsconfig\.json|composer\.json|"
    r"tokenizer(_config)?\.json|vocab\.json|special_tokens_map\.json|added_tokens\.json|"
    r"\.eslintrc\.json|renovate\.json|devcontainer\.json|\.devcontainer\.json|"
    r"[^/]+\.ipynb|[^/]+\.schema\.json|Pipfile\.lock)$",
    re.IGNORECASE,
)
_SKIP_TOML = re.compile(
    r"(^|/)(pyproject\.toml|Pipfile|[^/]*\.lock|\.depaudit\.toml|Cargo\.toml|ruff\.toml|"
    r"\.ruff\.toml|taplo\.toml|typos\.toml|rust-toolchain\.toml)$",
    re.IGNORECASE,
)
_DOTENV = re.compile(r"(^|/)(\.env|[^/]+\.env|\.env\.[^/]+)$")
_DOTENV_LINE = re.compile(
    r"^\s*(?:export\s+)?(?P<key>[A-Za-z_][A-Za-z0-9_.\-]*)\s*[=:]\s*(?P<value>.*?)\s*$"
)


def _kind(path: str) -> str:
    """Which reader handles ``path``: yaml/json/toml/ini/dotenv, or "" for none."""
    if _SKIP_DIRS.search(path):
        return ""
    name = path.rsplit("/", 1)[-1]
    lower = name.lower()
    if _YAML.search(lower):
        return "" if _SKIP_YAML.search(path) else "yaml"
    if lower.endswith(".json"):
        return "" if _SKIP_JSON.search(path) else "json"
    if lower.endswith(".toml"):
        return "" if _SKIP_TOML.search(path) else "toml"
    if lower.endswith(".ini") or (lower.endswith(".cfg") and lower != "setup.cfg"):
        return "ini"
    if _DOTENV.search(path):
        return "dotenv"
    return ""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _short(value: str) -> str:
    return value if len(value) <= _MAX_VALUE else value[: _MAX_VALUE - 1] + "…"


class _TooLarge(Exception):
    pass


class _TooDeep(Exception):
    pass


def _flatten(value: Any, prefix: str, line: int, depth: int = 0) -> Iterator[tuple[str, Any, int]]:
    """(dotted key, scalar value, line) for every leaf; lines from LinedMap / LinedList."""
    if depth > MAX_DEPTH:
        raise _TooDeep
    if isinstance(value, dict):
        if not value and prefix:
            yield prefix, "", line
        for key, child in value.items():
            name = f"{prefix}.{key}" if prefix else _text(key)
            child_line = value.key_lines.get(key, line) if isinstance(value, LinedMap) else line
            yield from _flatten(child, name, child_line, depth + 1)
    elif isinstance(value, list):
        if not value and prefix:
            yield prefix, "", line
        if _is_table(value):
            return  # rows of data (a plot's points, a confusion matrix), not settings
        for index, child in enumerate(value):
            child_line = value.line_of(index, line) if isinstance(value, LinedList) else line
            yield from _flatten(child, f"{prefix}[{index}]", child_line, depth + 1)
    else:
        yield prefix, value, line


def _is_table(items: list[Any]) -> bool:
    """A list of at least ``TABLE_ROWS`` records with the same keys, or of rows (lists):
    data a tool wrote (DVC plots, metrics per epoch), never configuration. Flattened, a
    confusion matrix is thousands of "config keys" compared and stored at every commit."""
    if len(items) < TABLE_ROWS:
        return False
    first = items[0]
    if isinstance(first, dict):
        keys = first.keys()
        return all(isinstance(row, dict) and row.keys() == keys for row in items)
    return isinstance(first, list) and all(isinstance(row, list) for row in items)


def _entries(items: Iterator[tuple[str, Any, int]], path: str) -> list[Fact]:
    out: list[Fact] = []
    for count, (key, value, line) in enumerate(items, start=1):
        if count > MAX_ENTRIES:
            raise _TooLarge
        raw = _text(value)
        shown, secret = mask_value(key, raw)
        out.append(ConfigEntry(key, _short(shown), path, line, secret=secret))
        out.extend(targets_from_config(key, raw, file=path, line=line))
    return out


class ConfigFilesSource:
    name = "config"

    def matches(self, path: str) -> bool:
        return bool(_kind(path))

    def parse(self, text: str, path: str) -> SourceResult:
        if len(text) > MAX_FILE_BYTES:  # the snapshot builder checks first; direct callers too
            return error(path, f"file too large ({len(text)} characters, limit {MAX_FILE_BYTES})")
        if "\x00" in text:
            return error(path, "binary content (NUL byte), not a config file")
        kind = _kind(path) or "yaml"
        try:
            facts = getattr(self, f"_{kind}")(text, path)
        except _TooLarge:
            return error(path, f"more than {MAX_ENTRIES} keys: a data file, not configuration")
        except _TooDeep:
            return error(path, f"nested deeper than {MAX_DEPTH} levels")
        except RecursionError:
            return error(path, "nested too deeply")
        except MemoryError:
            return error(path, "too large to read")
        return SourceResult(tuple(facts))

    # -- readers ---------------------------------------------------------------

    def _yaml(self, text: str, path: str) -> list[Fact]:
        try:
            docs = load_all(text, path)
        except SafeYamlError as exc:
            if "{{" in text and "}}" in text:
                return []  # a Helm / Go template, not YAML (see module docstring)
            return [ParseError(path, str(exc), exc.line)]
        facts, others = kubernetes.manifest_facts(docs, path)
        specs, others = azureml.spec_facts(others, path)
        facts.extend(specs)
        multi = len(others) > 1
        for index, doc in enumerate(others):
            if doc is None:
                continue
            prefix = f"[{index}]" if multi and not isinstance(doc, dict) else ""
            facts.extend(_entries(_flatten(doc, prefix, getattr(doc, "line", 1) or 1), path))
        return facts

    def _json(self, text: str, path: str) -> list[Fact]:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            return [ParseError(path, f"invalid JSON at line {exc.lineno}: {exc.msg}", exc.lineno)]
        except RecursionError:
            return [ParseError(path, "JSON nested too deeply")]
        if _is_findings_report(data):
            return []
        return _entries(_json_lines(_flatten(data, "", 1), text), path)

    def _toml(self, text: str, path: str) -> list[Fact]:
        data = load_document(text)  # every TOML problem comes with its line
        if isinstance(data, TomlProblem):
            return [ParseError(path, data.message, data.line)]
        lines = _toml_key_lines(text)
        items = ((k, v, _best_line(lines, k)) for k, v, _ in _flatten(data, "", 1))
        try:
            return _entries(items, path)
        except _TooDeep:
            deep = [n for key, n in lines.items() if key.count(".") >= MAX_DEPTH]
            line = min(deep) if deep else deepest_line(text)
            return [ParseError(path, f"nested deeper than {MAX_DEPTH} levels", line)]
        except _TooLarge:
            first_unread = itertools.islice(_flatten(data, "", 1), MAX_ENTRIES, None)
            line = _best_line(lines, next(first_unread)[0])
            message = f"more than {MAX_ENTRIES} keys: a data file, not configuration"
            return [ParseError(path, message, line)]

    def _ini(self, text: str, path: str) -> list[Fact]:
        text = squeeze_blanks(text)
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep key case
        try:
            parser.read_string(text)
        except configparser.Error as exc:
            message = str(exc).splitlines()[0]
            return [ParseError(path, f"invalid INI: {message}")]
        lines = _ini_key_lines(text)
        defaults = parser.defaults()
        items: list[tuple[str, Any, int]] = [
            (f"DEFAULT.{k}", v, lines.get(("DEFAULT", k), 1)) for k, v in defaults.items()
        ]
        for section in parser.sections():
            for key, value in parser.items(section, raw=True):
                if key in defaults and defaults[key] == value:
                    continue
                items.append((f"{section}.{key}", value, lines.get((section, key), 1)))
        return _entries(iter(items), path)

    def _dotenv(self, text: str, path: str) -> list[Fact]:
        items: list[tuple[str, Any, int]] = []
        # _DOTENV_LINE's lazy value before "\s*$" is quadratic on long blank runs
        for number, line in enumerate(squeeze_blanks(text).splitlines(), start=1):
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            match = _DOTENV_LINE.match(line)
            if not match:
                continue
            items.append((match.group("key"), _dotenv_value(match.group("value")), number))
        return _entries(iter(items), path)


def _dotenv_value(raw: str) -> str:
    if raw[:1] in ("'", '"'):
        quote = raw[0]
        end = raw.find(quote, 1)
        return raw[1:end] if end > 0 else raw[1:]
    # an unquoted value ends at " #" (inline comment)
    return re.split(r"\s+#", raw, maxsplit=1)[0].strip()


def _is_findings_report(data: Any) -> bool:
    """A SARIF log or a depaudit JSON report is an audit's output, not configuration:
    `depaudit check . --format json > out.json` in the repository root must not make
    the next run compare every finding of the last one as a config key (field test 9)."""
    if not isinstance(data, dict):
        return False
    if "sarif" in str(data.get("$schema", "")).lower():
        return True
    return {"version", "pairs", "findings"} <= data.keys() and isinstance(data["findings"], list)


def _json_lines(items: Iterator[tuple[str, Any, int]], text: str) -> Iterator[tuple[str, Any, int]]:
    """Lines for flattened JSON keys: json keeps document order, so each key is found
    by searching forward from the previous one."""
    cursor = 0
    line = 1
    for key, value, _ in items:
        leaf = re.split(r"[.\[]", key)[-1] if key else ""
        if leaf and not leaf.endswith("]"):
            needle = json.dumps(leaf)
            found = text.find(needle, cursor)
            if found >= 0:
                line += text.count("\n", cursor, found)
                cursor = found + len(needle)
        yield key, value, line


_TOML_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_TOML_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"'. ]+?)\s*=")


def _toml_key_lines(text: str) -> dict[str, int]:
    lines: dict[str, int] = {}
    table = ""
    # _TOML_KEY backtracks polynomially on long blank runs (40 KB of spaces: minutes)
    for number, line in enumerate(squeeze_blanks(text).splitlines(), start=1):
        header = _TOML_HEADER.match(line)
        if header:
            table = header.group(1).replace('"', "").replace("'", "").replace(" ", "")
            lines.setdefault(table, number)
            continue
        key = _TOML_KEY.match(line)
        if key:
            name = key.group(1).replace('"', "").replace("'", "").replace(" ", "")
            lines.setdefault(f"{table}.{name}" if table else name, number)
    return lines


def _best_line(lines: dict[str, int], key: str) -> int:
    """Line of the longest known prefix of ``key`` (array indices dropped)."""
    plain = re.sub(r"\[\d+\]", "", key)
    while plain:
        if plain in lines:
            return lines[plain]
        plain = plain.rpartition(".")[0]
    return 1


def _ini_key_lines(text: str) -> dict[tuple[str, str], int]:
    lines: dict[tuple[str, str], int] = {}
    section = "DEFAULT"
    for number, line in enumerate(text.splitlines(), start=1):
        header = re.match(r"^\s*\[([^\]]+)\]", line)
        if header:
            section = header.group(1).strip()
            continue
        key = re.match(r"^([^\s=:#;][^=:]*?)\s*[=:]", line)
        if key:
            lines.setdefault((section, key.group(1).strip()), number)
    return lines


SOURCE = ConfigFilesSource()

__all__ = ["MAX_ENTRIES", "SOURCE", "ConfigFilesSource"]
