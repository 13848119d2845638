"""Edits of ``pyproject.toml`` (PEP 621, PEP 735, Poetry) and ``Pipfile`` with tomlkit.

tomlkit keeps comments, ordering, quoting and spacing of everything it is not asked to
change, so a removed requirement takes only its own array item or key with it, and a
pinned one changes only its string. Which table a package was read from comes from the
fact (``group`` and ``manager``, as :mod:`depaudit.collectors.sources.pyproject` and
:mod:`depaudit.collectors.sources.pipfile` write them).
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any, Literal

import tomlkit
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import Array, String, StringType

from depaudit.secrets import scrub
from depaudit.split.model import Change, Flag
from depaudit.split.requirements_edit import EditResult, repin


@dataclass(frozen=True, slots=True)
class TomlOp:
    """Remove, pin or add ``name`` in the table its fact came from."""

    kind: Literal["remove", "pin", "add"]
    name: str
    line: int = 0
    group: str = ""
    manager: str = "pip"  # "poetry" for [tool.poetry.*] tables
    spec: str = ""
    rules: tuple[str, ...] = ()


def _poetry_version(spec: str) -> str:
    """What Poetry writes for a PEP 440 specifier: ``==1.2.3`` is ``1.2.3``."""
    if spec.startswith("==") and "," not in spec and "*" not in spec:
        return spec[2:]
    return spec


def _canonical(name: object) -> str:
    return canonicalize_name(str(name))


def _requirement_name(value: object) -> str:
    if not isinstance(value, str):
        return ""
    try:
        return canonicalize_name(Requirement(value).name)
    except InvalidRequirement:
        return ""


def _table(doc: Any, *keys: str) -> Any:
    node = doc
    for key in keys:
        if not isinstance(node, MutableMapping) or key not in node:
            return None
        node = node[key]
    return node


def _named(mapping: Any, group: str) -> Iterator[Any]:
    """Values of ``mapping`` whose key is ``group`` (compared as canonical names)."""
    if isinstance(mapping, MutableMapping):
        for key, value in mapping.items():
            if _canonical(key) == _canonical(group):
                yield value


def _pep508_arrays(doc: Any, group: str) -> list[Array]:
    """The PEP 508 lists a ``pip``-managed fact of ``group`` may come from."""
    if not group:
        found = [_table(doc, "project", "dependencies")]
    else:
        found = [
            *_named(_table(doc, "project", "optional-dependencies"), group),
            *_named(_table(doc, "dependency-groups"), group),
        ]
    return [a for a in found if isinstance(a, Array)]


def _key_tables(
    doc: Any, group: str, manager: str, pipfile: bool
) -> list[MutableMapping[str, Any]]:
    """The ``name = constraint`` tables a Poetry or Pipfile fact of ``group`` may come from."""
    if pipfile:
        tables = [_table(doc, {"": "packages", "dev": "dev-packages"}.get(group, group))]
    elif manager == "poetry":
        if not group:
            tables = [_table(doc, "tool", "poetry", "dependencies")]
        else:
            tables = [
                *(
                    _table(body, "dependencies")
                    for body in _named(_table(doc, "tool", "poetry", "group"), group)
                ),
                *([_table(doc, "tool", "poetry", "dev-dependencies")] if group == "dev" else []),
            ]
    else:
        tables = []
    return [t for t in tables if isinstance(t, MutableMapping)]


def edit_toml(text: str, path: str, ops: list[TomlOp], *, pipfile: bool = False) -> EditResult:
    """Apply ``ops`` to a pyproject.toml (or, with ``pipfile``, a Pipfile)."""
    result = EditResult(text)
    try:
        doc = tomlkit.parse(text)
    except (TOMLKitError, ValueError, RecursionError) as exc:
        for op in ops:
            result.flags.append(
                Flag(
                    "unparseable",
                    op.name,
                    path,
                    op.line,
                    f"{path}: not edited, tomlkit cannot read it ({' '.join(str(exc).split())[:120]})",
                    op.rules,
                )
            )
        return result
    for op in ops:
        if op.kind == "add":
            _add(doc, path, op, pipfile, result)
        else:
            _edit(doc, path, op, pipfile, result)
    if result.changes:
        result.text = tomlkit.dumps(doc)
    return result


def _edit(doc: Any, path: str, op: TomlOp, pipfile: bool, result: EditResult) -> None:
    done = False
    for array in _pep508_arrays(doc, op.group) if not pipfile and op.manager != "poetry" else []:
        for index in reversed(range(len(array))):
            value = array[index]
            if _requirement_name(value) != op.name:
                continue
            before = str(value)
            if op.kind == "remove":
                del array[index]
                result.changes.append(
                    Change("remove", op.name, path, op.line, scrub(before), "", op.rules)
                )
            else:
                pinned = repin(before, op.spec)
                if pinned is None:
                    _flag(result, op, path, "url", f"{op.name} is installed from a URL")
                    continue
                array[index] = _string_like(value, pinned)
                result.changes.append(
                    Change("pin", op.name, path, op.line, scrub(before), scrub(pinned), op.rules)
                )
            done = True
    for table in _key_tables(doc, op.group, op.manager, pipfile):
        for key in [k for k in table if _canonical(k) == op.name]:
            value = table[key]
            before = f"{key} = {_inline(value)}"
            if op.kind == "remove":
                del table[key]
                result.changes.append(
                    Change("remove", op.name, path, op.line, scrub(before), "", op.rules)
                )
                done = True
                continue
            version = op.spec if pipfile else _poetry_version(op.spec)
            if isinstance(value, str):
                table[key] = _string_like(value, version)
            elif isinstance(value, MutableMapping) and not _has_source(value):
                value["version"] = version
            else:
                reason = "url" if isinstance(value, MutableMapping) else "not_safe"
                _flag(
                    result,
                    op,
                    path,
                    reason,  # type: ignore[arg-type]
                    f"{op.name} has no single version constraint to pin ({scrub(before)})",
                )
                done = True
                continue
            result.changes.append(
                Change(
                    "pin",
                    op.name,
                    path,
                    op.line,
                    scrub(before),
                    scrub(f"{key} = {_inline(table[key])}"),
                    op.rules,
                )
            )
            done = True
    if not done:
        _flag(result, op, path, "not_safe", f"{op.name} not found where it was read")


def _add(doc: Any, path: str, op: TomlOp, pipfile: bool, result: EditResult) -> None:
    if pipfile:
        table = _table(doc, "packages")
        if isinstance(table, MutableMapping):
            table[op.name] = op.spec or "*"
            result.changes.append(
                Change(
                    "declare",
                    op.name,
                    path,
                    0,
                    "",
                    f"{op.name} = {_inline(table[op.name])}",
                    op.rules,
                )
            )
            return
    else:
        array = _table(doc, "project", "dependencies")
        poetry = _table(doc, "tool", "poetry", "dependencies")
        if isinstance(array, Array):
            line = f"{op.name}{op.spec}"
            array.append(line)
            result.changes.append(Change("declare", op.name, path, 0, "", line, op.rules))
            return
        if isinstance(poetry, MutableMapping):
            poetry[op.name] = _poetry_version(op.spec) or "*"
            result.changes.append(
                Change(
                    "declare",
                    op.name,
                    path,
                    0,
                    "",
                    f"{op.name} = {_inline(poetry[op.name])}",
                    op.rules,
                )
            )
            return
    _flag(result, op, path, "no_target", f"{path} has no dependency table to declare {op.name} in")


def _has_source(value: MutableMapping[str, Any]) -> bool:
    return any(k in value for k in ("git", "url", "path", "file"))


def _string_like(old: object, new: str) -> Any:
    """``new`` as a TOML string quoted like ``old`` where that is possible."""
    literal = isinstance(old, String) and old.type == StringType.SLL and "'" not in new
    return tomlkit.string(new, literal=literal)


def _inline(value: object) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    try:
        return tomlkit.dumps({"v": value}).split("=", 1)[1].strip()
    except (TOMLKitError, ValueError, TypeError):
        return str(value)


def _flag(result: EditResult, op: TomlOp, path: str, reason: str, message: str) -> None:
    result.flags.append(
        Flag(reason, op.name, path, op.line, f"{path}:{op.line}: {message}", op.rules)  # type: ignore[arg-type]
    )
