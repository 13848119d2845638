"""YAML loading with limits, and with the line of every mapping key.

PyYAML's ``SafeLoader`` constructs no arbitrary objects, but it still expands alias bombs
("billion laughs") and recurses without bound on deep nesting. This loader counts nodes
*with aliases expanded* while composing: the expanded weight of a node is known as soon
as it is composed, so a bomb is rejected after composing a few hundred real nodes, long
before anything would be expanded. Nesting deeper than ``MAX_DEPTH`` is rejected before
Python's recursion limit is near.

Mappings come back as :class:`LinedMap` (a ``dict`` that also knows the 1-based line of
each key) and sequences as :class:`LinedList` (a ``list`` that knows the line of each
item), so callers keep plain ``dict``/``list`` code and still report lines.
"""

from __future__ import annotations

from typing import Any

from depaudit.collectors.sources.base import MAX_DEPTH, MAX_YAML_NODES


class SafeYamlError(ValueError):
    """A YAML document that could not be loaded; ``line`` is 1-based, 0 if unknown."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(message)
        self.line = line


class YamlLimitError(SafeYamlError):
    """The document is over a limit (expanded node count, nesting depth, recursive alias)."""


class LinedMap(dict[Any, Any]):
    """A mapping that remembers where it and each of its keys were written."""

    line: int
    key_lines: dict[Any, int]

    def __init__(self, line: int = 0) -> None:
        super().__init__()
        self.line = line
        self.key_lines = {}

    def line_of(self, key: Any, default: int = 0) -> int:
        return self.key_lines.get(key, default or self.line)


class LinedList(list[Any]):
    """A sequence that remembers where it and each of its items were written."""

    line: int
    item_lines: list[int]

    def __init__(self, line: int = 0) -> None:
        super().__init__()
        self.line = line
        self.item_lines = []

    def line_of(self, index: int, default: int = 0) -> int:
        if 0 <= index < len(self.item_lines):
            return self.item_lines[index]
        return default or self.line


def line_of(container: Any, key: Any, default: int = 0) -> int:
    """The 1-based line of ``key`` in a LinedMap / LinedList, else ``default``."""
    if isinstance(container, LinedMap | LinedList):
        return container.line_of(key, default)
    return default


def load_all(
    text: str,
    path: str = "",
    *,
    max_nodes: int = MAX_YAML_NODES,
    max_depth: int = MAX_DEPTH,
) -> list[Any]:
    """Every document of ``text``; mappings are :class:`LinedMap`, sequences :class:`LinedList`.

    Raises :class:`SafeYamlError` (or its subclass :class:`YamlLimitError`) with a one-line
    message; never ``RecursionError`` or ``MemoryError`` for hostile input.
    """
    if "\x00" in text:
        raise SafeYamlError("binary content (NUL byte), not YAML")
    # PyYAML is imported on the first YAML file, not when the sources are loaded
    from depaudit.collectors.sources.yaml_loader import load_documents

    return load_documents(text, path, max_nodes=max_nodes, max_depth=max_depth)


def load_one(text: str, path: str = "") -> Any:
    """The single document of ``text`` (None for an empty stream; first of several)."""
    docs = load_all(text, path)
    return docs[0] if docs else None


__all__ = [
    "LinedList",
    "LinedMap",
    "SafeYamlError",
    "YamlLimitError",
    "line_of",
    "load_all",
    "load_one",
]
