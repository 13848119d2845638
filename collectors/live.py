"""A live environment: what a real interpreter has installed, read with pipdeptree.

``pipdeptree --python PATH`` inspects another interpreter without being installed into
it (DESIGN.md §10, ~0.1 s), so we run *our* pipdeptree (``sys.executable -m pipdeptree``)
against the user's interpreter. Its output (or a ``--json`` / ``--json-tree`` file captured
on a server) becomes an :class:`EnvironmentSnapshot` with ``observed=True`` holding
``Package(origin="installed")`` facts, the interpreter's Python version and the OS.

pipdeptree's ``-w fail`` does not change the exit code with JSON output and a missing
dependency only shows as ``"installed_version": "?"``, so missing and conflicting
requirements are kept as data here (``Package.requirements``) and judged by rule DA704.

Every failure (not an interpreter, timeout, bad JSON) is a :class:`LiveError` with a
one-line message; nothing here raises anything else for bad input.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from depaudit.model import (
    EnvironmentSnapshot,
    FileAssignment,
    Package,
    Role,
    Runtime,
)

DEFAULT_TIMEOUT = 60.0
MISSING_VERSION = "?"  # pipdeptree's installed_version of a required but absent package
MAX_NODES = 500_000  # a json-tree repeats subtrees; refuse absurd inputs instead of hanging
MAX_JSON_BYTES = 64 * 1024 * 1024
_PROBE = "import platform; print(platform.python_version())"


class LiveError(Exception):
    """A live environment that cannot be read; the message is one line for the user."""


@dataclass(slots=True)
class _Node:
    name: str  # canonical
    version: str
    requirements: dict[str, str] = field(default_factory=dict)  # canonical dep -> specifier


# ------------------------------------------------------------------------- parsing


def parse_pipdeptree_json(text: str, *, source: str) -> list[Package]:
    """Installed packages from pipdeptree ``--json`` (flat) or ``--json-tree`` output.

    ``direct`` is true for top-level packages: those no other installed package requires.
    Required-but-missing packages are not facts (nothing is installed); they stay visible
    as requirements of the packages that need them.
    """
    if len(text) > MAX_JSON_BYTES:
        raise LiveError(f"{source}: pipdeptree output too large ({len(text)} characters)")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LiveError(f"{source}: not JSON ({exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise LiveError(f"{source}: JSON nested too deeply") from None
    if not isinstance(data, list):
        raise LiveError(f"{source}: not pipdeptree JSON (expected a list of packages)")
    if data and all(isinstance(e, dict) and "package" in e for e in data):
        nodes, top = _from_flat(data, source)
    elif all(isinstance(e, dict) and "key" in e for e in data):
        nodes, top = _from_tree(data, source)
    else:
        raise LiveError(
            f"{source}: not pipdeptree JSON (entries need 'package' (--json) or 'key' (--json-tree))"
        )
    return [
        Package(
            name=node.name,
            file=source,
            line=0,
            version=node.version,
            direct=node.name in top,
            origin="installed",
            manager="pip",
            requires=tuple(sorted(node.requirements)),
            requirements=tuple(f"{dep}{spec}" for dep, spec in sorted(node.requirements.items())),
        )
        for node in sorted(nodes.values(), key=lambda n: n.name)
        if node.version and node.version != MISSING_VERSION
    ]


def _name(entry: Mapping[str, Any], source: str) -> str:
    raw = entry.get("key") or entry.get("package_name")
    if not isinstance(raw, str) or not raw.strip():
        raise LiveError(f"{source}: not pipdeptree JSON (a package has no 'key')")
    return canonicalize_name(raw)


def _version(entry: Mapping[str, Any]) -> str:
    value = entry.get("installed_version")
    return value.strip() if isinstance(value, str) else MISSING_VERSION


def _spec(entry: Mapping[str, Any]) -> str:
    # "Any" (pipdeptree < 2.20) or null means unconstrained
    value = entry.get("required_version")
    if not isinstance(value, str) or value.strip().lower() in ("", "any"):
        return ""
    return value.strip()


def _dependencies(entry: Mapping[str, Any], source: str) -> list[Mapping[str, Any]]:
    deps = entry.get("dependencies", [])
    if not isinstance(deps, list) or not all(isinstance(d, dict) for d in deps):
        raise LiveError(f"{source}: not pipdeptree JSON ('dependencies' is not a list of packages)")
    return deps


def _from_flat(data: list[Any], source: str) -> tuple[dict[str, _Node], set[str]]:
    nodes: dict[str, _Node] = {}
    required: set[str] = set()
    for entry in data:
        pkg = entry["package"]
        if not isinstance(pkg, dict):
            raise LiveError(f"{source}: not pipdeptree JSON ('package' is not an object)")
        node = nodes.setdefault(_name(pkg, source), _Node(_name(pkg, source), _version(pkg)))
        for dep in _dependencies(entry, source):
            dep_name = _name(dep, source)
            node.requirements[dep_name] = _spec(dep)
            required.add(dep_name)
            if dep_name not in nodes and _version(dep) == MISSING_VERSION:
                nodes[dep_name] = _Node(dep_name, MISSING_VERSION)
    return nodes, set(nodes) - required


def _from_tree(data: list[Any], source: str) -> tuple[dict[str, _Node], set[str]]:
    nodes: dict[str, _Node] = {}
    top = {_name(e, source) for e in data}
    stack: list[Mapping[str, Any]] = list(data)
    seen = 0
    # iterative: a deep tree must not hit Python's recursion limit
    while stack:
        entry = stack.pop()
        seen += 1
        if seen > MAX_NODES:
            raise LiveError(f"{source}: pipdeptree tree has more than {MAX_NODES} nodes")
        name = _name(entry, source)
        node = nodes.get(name)
        if node is None:
            node = nodes[name] = _Node(name, _version(entry))
        elif node.version == MISSING_VERSION:
            node.version = _version(entry)
        for dep in _dependencies(entry, source):
            node.requirements[_name(dep, source)] = _spec(dep)
            stack.append(dep)
    return nodes, top


def parse_os_release(text: str, *, source: str) -> Runtime | None:
    """``debian 12`` / ``ubuntu 22.04`` from an os-release file, None if it names no OS."""
    values: dict[str, tuple[str, int]] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        text_line = raw.strip()
        if not text_line or text_line.startswith("#") or "=" not in text_line:
            continue
        key, _, value = text_line.partition("=")
        values[key.strip()] = (value.strip().strip("\"'"), number)
    os_id, line = values.get("ID", ("", 0))
    if not os_id:
        return None
    version = values.get("VERSION_ID", ("", 0))[0]
    value = f"{os_id.lower()} {version}".strip()
    return Runtime("os", value, source, line, detail="live: os-release")


# ------------------------------------------------------------------------- reading


def run_pipdeptree(python: Path, *, timeout: float = DEFAULT_TIMEOUT) -> str:
    """``pipdeptree --python PATH --json-tree`` output, run from our own environment."""
    cmd = [sys.executable, "-m", "pipdeptree", "--python", str(python), "--json-tree"]
    return _run(cmd, timeout=timeout, what=f"pipdeptree on {python}")


def interpreter_version(python: Path, *, timeout: float = DEFAULT_TIMEOUT) -> str:
    """The target interpreter's ``platform.python_version()``.

    This runs the user's own interpreter (the environment they asked us to inspect),
    never code from an audited repository; ``-I`` keeps it from importing the current
    directory or reading PYTHON* variables.
    """
    out = _run([str(python), "-I", "-c", _PROBE], timeout=timeout, what=str(python)).strip()
    if not out or not out[0].isdigit():
        raise LiveError(f"{python}: not a Python interpreter (printed {out[:60]!r})")
    return out.splitlines()[0]


def _run(cmd: list[str], *, timeout: float, what: str) -> str:
    try:
        completed = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        )
    except subprocess.TimeoutExpired:
        raise LiveError(f"{what}: timed out after {timeout:g} s") from None
    except PermissionError:
        raise LiveError(f"{what}: not executable") from None
    except OSError as exc:
        raise LiveError(f"{what}: cannot run ({exc.strerror or exc})") from None
    if completed.returncode != 0:
        message = " ".join((completed.stderr or completed.stdout).split())[:200]
        raise LiveError(f"{what}: failed (exit {completed.returncode}): {message or 'no output'}")
    return completed.stdout


def check_interpreter(python: Path) -> None:
    if not python.exists():
        raise LiveError(f"{python}: no such file")
    if python.is_dir():
        raise LiveError(f"{python}: is a directory, not a Python interpreter")
    if not os.access(python, os.X_OK):
        raise LiveError(f"{python}: not executable, not a Python interpreter")


def observe_interpreter(
    python: Path,
    *,
    name: str = "serving",
    role: Role = "serving",
    timeout: float = DEFAULT_TIMEOUT,
    os_release: Path = Path("/etc/os-release"),
) -> EnvironmentSnapshot:
    """The live snapshot of the environment of interpreter ``python`` on this machine."""
    check_interpreter(python)
    version = interpreter_version(python, timeout=timeout)
    source = f"live:{python}"
    packages = parse_pipdeptree_json(run_pipdeptree(python, timeout=timeout), source=source)
    python_fact = Runtime("python", version, source, 0, detail="live interpreter")
    return build_snapshot(
        packages,
        name=name,
        role=role,
        source=source,
        runtime=[python_fact, *_os_fact(os_release, required=False)],
    )


def observe_pipdeptree_file(
    path: Path,
    *,
    name: str = "serving",
    role: Role = "serving",
    os_release: Path | None = None,
    python_version: str = "",
) -> EnvironmentSnapshot:
    """The live snapshot from a pipdeptree JSON file captured elsewhere (e.g. on a server)."""
    text = _read_text(path, "pipdeptree JSON")
    packages = parse_pipdeptree_json(text, source=str(path))
    runtime: list[Runtime] = []
    if python_version:
        runtime.append(Runtime("python", python_version, str(path), 0, detail="given"))
    if os_release is not None:
        runtime.extend(_os_fact(os_release, required=True))
    return build_snapshot(packages, name=name, role=role, source=str(path), runtime=runtime)


def _read_text(path: Path, what: str) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise LiveError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise LiveError(f"{path}: is a directory, not a {what} file") from None
    except OSError as exc:
        raise LiveError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if b"\x00" in raw:
        raise LiveError(f"{path}: binary file, not {what}")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise LiveError(f"{path}: not UTF-8 text, not {what}") from None


def _os_fact(path: Path, *, required: bool) -> Iterator[Runtime]:
    try:
        text = _read_text(path, "os-release")
    except LiveError:
        if required:
            raise
        return  # a machine without /etc/os-release (macOS): no OS fact, no error
    fact = parse_os_release(text, source=str(path))
    if fact is None and required:
        raise LiveError(f"{path}: no ID= line, not an os-release file")
    if fact is not None:
        yield fact


def build_snapshot(
    packages: list[Package],
    *,
    name: str,
    role: Role,
    source: str,
    runtime: list[Runtime],
) -> EnvironmentSnapshot:
    return EnvironmentSnapshot(
        name=name,
        role=role,
        origin="convention",
        files=(FileAssignment(source, "live: pipdeptree"),),
        facts=(*runtime, *packages),
        observed=True,
    )


__all__ = [
    "DEFAULT_TIMEOUT",
    "LiveError",
    "build_snapshot",
    "interpreter_version",
    "observe_interpreter",
    "observe_pipdeptree_file",
    "parse_os_release",
    "parse_pipdeptree_json",
    "run_pipdeptree",
]
