"""The limited YAML loader: alias bombs, depth, recursion, lines of keys and items."""

from __future__ import annotations

import time

import pytest

from depaudit.collectors.sources import yaml_loader
from depaudit.collectors.sources.safe_yaml import (
    LinedList,
    LinedMap,
    SafeYamlError,
    YamlLimitError,
    line_of,
    load_all,
)


def _bomb(levels: int) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_rejected_in_milliseconds() -> None:
    start = time.perf_counter()
    with pytest.raises(YamlLimitError, match="alias"):
        load_all(_bomb(10))
    assert time.perf_counter() - start < 0.5


def test_small_alias_use_is_fine_and_counted_expanded() -> None:
    docs = load_all(_bomb(3))  # 9 * 9 * 9 expanded scalars: well under the limit
    assert len(docs[0]["a2"]) == 9
    with pytest.raises(YamlLimitError):
        load_all(_bomb(4), max_nodes=5000)  # 9**4 = 6561 expanded scalars


def test_depth_limit() -> None:
    with pytest.raises(YamlLimitError, match="deeper than"):
        load_all("x: " + "[" * 100 + "]" * 100)
    nested = "".join("  " * i + f"k{i}:\n" for i in range(100)) + "  " * 100 + "v\n"
    with pytest.raises(YamlLimitError):
        load_all(nested)
    assert load_all("x: " + "[" * 20 + "]" * 20)


def test_recursive_alias_rejected() -> None:
    with pytest.raises(YamlLimitError, match="recursive"):
        load_all("a: &x\n  b: *x\n")


@pytest.mark.parametrize(
    "text",
    ["a: b: c\n", "key: [1, 2\n", "? [a]\n: 1\n", "\x00\x01", "a: !!python/object:os.system x\n"],
)
def test_invalid_yaml_is_a_clean_error(text: str) -> None:
    with pytest.raises(SafeYamlError) as info:
        load_all(text, "conf.yaml")
    assert "\n" not in str(info.value)


def test_lines_of_keys_and_items_in_multi_document_stream() -> None:
    docs = load_all("- a\n- b\n---\nx:\n  y: 1\n  z: [1,\n   2]\n")
    first, second = docs
    assert isinstance(first, LinedList) and first.item_lines == [1, 2]
    assert isinstance(second, LinedMap) and second == {"x": {"y": 1, "z": [1, 2]}}
    assert line_of(second, "x") == 4
    assert line_of(second["x"], "y") == 5
    assert second["x"]["z"].item_lines == [6, 7]
    assert line_of({"plain": 1}, "plain", 9) == 9


def test_merge_keys_keep_working() -> None:
    (doc,) = load_all("base: &b {x: 1}\nd:\n  <<: *b\n  y: 2\n")
    assert doc["d"] == {"x": 1, "y": 2}


def test_empty_stream() -> None:
    assert load_all("") == []
    assert load_all("# only a comment\n") == []


MANIFESTS = """\
version: 1
---
x-defaults: &defaults
  image: ghcr.io/acme/api:1.4.2
  env: [{name: LOG_LEVEL, value: info}]
apiVersion: apps/v1
kind: Deployment
metadata: {name: fraud-api, labels: {app: fraud}}
spec:
  template:
    spec:
      containers:
        - <<: *defaults
          name: api
          args: ["--port", "8080", 'quoted', "ünïcode"]
          resources:
            limits: {cpu: "2", memory: 4Gi}
---
# an empty document and a block scalar
script: |
  pip install -r requirements.txt
  python -m serving.app
"""


def _loaded(loader_class: type, text: str) -> list[object]:
    loader = loader_class(text, 10_000, 50)
    try:
        docs = []
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                docs.append(loader.construct_document(node))
        return docs
    finally:
        loader.dispose()


def _lines(value: object) -> object:
    """Values with the lines each map and list recorded."""
    if isinstance(value, dict):
        lines = getattr(value, "key_lines", {})
        return {k: (lines.get(k), _lines(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [
            (line, _lines(v))
            for line, v in zip(getattr(value, "item_lines", []), value, strict=True)
        ]
    return value


def test_libyaml_events_give_the_same_values_and_lines_as_pyyaml() -> None:
    assert yaml_loader._HAS_LIBYAML  # PyYAML's wheels ship it: the fast path is the one used
    assert yaml_loader._loader_class(MANIFESTS) is yaml_loader._LibyamlLoader
    fast = _loaded(yaml_loader._LibyamlLoader, MANIFESTS)
    reference = _loaded(yaml_loader._LimitedLoader, MANIFESTS)
    assert [_lines(d) for d in fast] == [_lines(d) for d in reference]
    assert load_all(MANIFESTS, "k8s.yaml") == fast


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: [1, 2\nb: 3\n", "k.yml: invalid YAML at line 2: expected ',' or ']', but got ':'"),
        ("a: b: c\n", "k.yml: invalid YAML at line 1: mapping values are not allowed here"),
    ],
)
def test_a_broken_file_keeps_pyyamls_message(text: str, message: str) -> None:
    with pytest.raises(SafeYamlError) as caught:
        load_all(text, "k.yml")
    assert str(caught.value) == message


def test_text_libyaml_cannot_encode_is_read_by_pyyaml() -> None:
    assert yaml_loader._loader_class("a: \udcff\n") is yaml_loader._LimitedLoader
    with pytest.raises(SafeYamlError):
        load_all("a: \udcff\n", "k.yml")
