"""The limited YAML loader: alias bombs, depth, recursion, lines of keys and items."""

from __future__ import annotations

import time

import pytest

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
