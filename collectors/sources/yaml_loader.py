"""The PyYAML side of :mod:`depaudit.collectors.sources.safe_yaml`: a SafeLoader with limits.

Kept apart so that PyYAML (about 9 ms of imports) is loaded only when a YAML file is
read: ``depaudit check`` on a repository without one never pays for it.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import Reader
from yaml.resolver import Resolver

from depaudit.collectors.sources.safe_yaml import LinedList, LinedMap, SafeYamlError, YamlLimitError


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


class _LimitedLoader(yaml.SafeLoader):
    """SafeLoader whose composer counts expanded nodes and depth, and whose constructor
    records lines."""

    def __init__(self, stream: str, max_nodes: int, max_depth: int) -> None:
        super().__init__(stream)
        self._limit(max_nodes, max_depth)

    def _limit(self, max_nodes: int, max_depth: int) -> None:
        self._max_nodes = max_nodes
        self._max_depth = max_depth
        self._depth = 0
        # id(node) -> node count with aliases expanded; nodes are kept alive by anchors
        # or by their parent until the document is done
        self._weights: dict[int, int] = {}

    # -- composing ---------------------------------------------------------------

    def compose_document(self) -> Node | None:
        self._weights = {}
        node = super().compose_document()
        return node  # type: ignore[no-any-return]

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._depth += 1
        try:
            if self._depth > self._max_depth:
                mark = self.peek_event().start_mark
                raise YamlLimitError(
                    f"YAML nested deeper than {self._max_depth} levels", int(mark.line) + 1
                )
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                anchor = event.anchor
                target = self.anchors.get(anchor)
                if target is not None and id(target) not in self._weights:
                    # an alias to a node still being composed: infinite when expanded
                    raise YamlLimitError(
                        f"recursive YAML alias *{anchor}", int(event.start_mark.line) + 1
                    )
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self._depth -= 1

    def _weigh(self, node: Node, children: list[Node]) -> None:
        weight = 1 + sum(self._weights.get(id(child), 1) for child in children)
        if weight > self._max_nodes:
            raise YamlLimitError(
                f"YAML has more than {self._max_nodes} nodes with aliases expanded (alias bomb?)",
                _line(node),
            )
        self._weights[id(node)] = weight

    def compose_scalar_node(self, anchor: Any) -> ScalarNode:
        node = super().compose_scalar_node(anchor)
        self._weights[id(node)] = 1
        return node  # type: ignore[no-any-return]

    def compose_sequence_node(self, anchor: Any) -> SequenceNode:
        node = super().compose_sequence_node(anchor)
        self._weigh(node, list(node.value))
        return node  # type: ignore[no-any-return]

    def compose_mapping_node(self, anchor: Any) -> MappingNode:
        node = super().compose_mapping_node(anchor)
        self._weigh(node, [n for pair in node.value for n in pair])
        return node  # type: ignore[no-any-return]


# libyaml's event parser, when PyYAML was built with it (its wheels are)
_HAS_LIBYAML = bool(getattr(yaml, "__with_libyaml__", False))

if _HAS_LIBYAML:
    from yaml.cyaml import CParser  # type: ignore[attr-defined]

    class _LibyamlLoader(CParser, _LimitedLoader):  # type: ignore[misc]
        """Events from libyaml's parser, nodes composed (and limited) by _LimitedLoader:
        PyYAML's pure-Python scanner was most of a history's YAML time (building-ml-system,
        20 of 68 s of its collect)."""

        # libyaml composes nodes itself too: compose here, where the limits are
        check_node = Composer.check_node
        get_node = Composer.get_node
        get_single_node = Composer.get_single_node

        def __init__(self, stream: str, max_nodes: int, max_depth: int) -> None:
            CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            self._limit(max_nodes, max_depth)


def _loader_class(text: str) -> type[_LimitedLoader]:
    """libyaml for ordinary text; text it would reject differently (a lone surrogate it
    cannot encode, a character PyYAML's reader refuses) goes to PyYAML's reader, so such a
    file gets the same one-line error as before."""
    if not _HAS_LIBYAML or Reader.NON_PRINTABLE.search(text):
        return _LimitedLoader
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _LimitedLoader
    return _LibyamlLoader  # type: ignore[no-any-return]


def _construct_lined_map(loader: _LimitedLoader, node: MappingNode) -> Any:
    data = LinedMap(_line(node))
    yield data
    loader.flatten_mapping(node)  # YAML merge keys ("<<: *defaults")
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=False)
        try:
            hash(key)
        except TypeError as exc:
            raise ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                "found unhashable key",
                key_node.start_mark,
            ) from exc
        data[key] = loader.construct_object(value_node, deep=False)
        data.key_lines[key] = _line(key_node)


def _construct_lined_list(loader: _LimitedLoader, node: SequenceNode) -> Any:
    data = LinedList(_line(node))
    yield data
    for item in node.value:
        data.append(loader.construct_object(item, deep=False))
        data.item_lines.append(_line(item))


_LimitedLoader.add_constructor("tag:yaml.org,2002:map", _construct_lined_map)
_LimitedLoader.add_constructor("tag:yaml.org,2002:seq", _construct_lined_list)


def _mark_line(exc: yaml.YAMLError) -> int:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return int(mark.line) + 1 if mark is not None else 0


def load_documents(
    text: str,
    path: str = "",
    *,
    max_nodes: int,
    max_depth: int,
) -> list[Any]:
    """Every document of ``text``: see :func:`depaudit.collectors.sources.safe_yaml.load_all`."""
    loader_class = _loader_class(text)
    if loader_class is _LimitedLoader:
        return _load(_LimitedLoader, text, path, max_nodes, max_depth)
    try:
        return _load(loader_class, text, path, max_nodes, max_depth)
    except SafeYamlError:
        # libyaml words its errors its own way: a broken file is rare, so read it again
        # with PyYAML's parser for the message users (and stored findings) always had
        return _load(_LimitedLoader, text, path, max_nodes, max_depth)


def _load(
    loader_class: type[_LimitedLoader], text: str, path: str, max_nodes: int, max_depth: int
) -> list[Any]:
    where = f"{path}: " if path else ""
    try:
        # the reader checks for non-printable characters already in its constructor
        loader = loader_class(text, max_nodes, max_depth)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SafeYamlError(f"{where}invalid YAML: {problem}") from None
    docs: list[Any] = []
    total = 0
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            total += loader._weights.get(id(node), 1)
            if total > max_nodes:
                raise YamlLimitError(
                    f"YAML stream has more than {max_nodes} nodes with aliases expanded",
                    _line(node),
                )
            docs.append(loader.construct_document(node))
    except SafeYamlError:
        raise
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        line = _mark_line(exc)
        at = f" at line {line}" if line else ""
        raise SafeYamlError(f"{where}invalid YAML{at}: {problem}", line) from None
    except RecursionError:
        raise YamlLimitError(f"{where}YAML nested too deeply") from None
    finally:
        loader.dispose()
    return docs


__all__ = ["load_documents"]
