"""Property-based fuzzing of every reader of untrusted input.

Every source in ``all_sources()``, the config reader, the environment finder,
``decode_blob`` and ``snapshot_tree`` get arbitrary text and bytes, real-world files
truncated / mutated / spliced, deep nesting and huge lines. The invariant is the one
users rely on: the call completes within a time bound and returns facts (or
``ParseError``s with a one-line, bounded message); it never raises.

``make fuzz`` runs the same properties with the ``fuzz`` profile (2,000 examples each).
"""

from __future__ import annotations

import time
import typing
from pathlib import Path

import pytest
from fuzz_seeds import CONFIG_SEEDS, SEEDS
from hypothesis import given
from hypothesis import strategies as st
from reliability_helpers import FUZZ_SETTINGS

from depaudit.collectors.snapshot import TreeSnapshot, decode_blob, snapshot_tree
from depaudit.collectors.sources import all_sources, source_for
from depaudit.collectors.sources.base import Source
from depaudit.collectors.tree import TreeEntry, TreeReadError, WorkingTree
from depaudit.config import AuditConfig, ConfigError, EnvironmentConfig, parse_config
from depaudit.environments import EnvironmentPlan, _glob_regex, find_environments, glob_match
from depaudit.model import Fact, ParseError, SourceResult

# A hang guard, not a speed test (speed is measured in bench/): the quadratic and
# exponential inputs these properties found took minutes; a loaded CI machine can take
# a couple of seconds for an honest 64-level document.
MAX_SECONDS = 10.0
MAX_MESSAGE = 500
FACT_TYPES = typing.get_args(Fact)

# one path each source reads; a new source without an entry fails test_every_source_is_fuzzed
PATH_OF_SOURCE = {
    "requirements": "serving/requirements.txt",
    "pyproject": "pyproject.toml",
    "poetry_lock": "poetry.lock",
    "uv_lock": "uv.lock",
    "pipfile_lock": "Pipfile.lock",
    "pipfile": "Pipfile",
    "setup_cfg": "setup.cfg",
    "conda": "environment.yml",
    "python_version": ".python-version",
    "dockerfile": "serving/Dockerfile",
    "compose": "docker-compose.yml",
    "python": "serving/app.py",
    "notebook": "notebooks/explore.ipynb",
    "config": "serving/config.yaml",
    "makefile": "Makefile",
}
SOURCES = {s.name: s for s in all_sources()}


def seeds_of(source: Source) -> list[tuple[str, str]]:
    """(path, text) of every seed this source reads."""
    return [
        (path, text)
        for path, texts in SEEDS.items()
        if source_for(path) is source
        for text in texts
    ]


def assert_one_line(message: str) -> None:
    assert "\n" not in message and "\r" not in message, repr(message[:200])
    assert 0 < len(message) <= MAX_MESSAGE, repr(message[:200])


def assert_facts(result: object, elapsed: float) -> None:
    assert isinstance(result, SourceResult), type(result)
    for fact in result.facts:
        assert isinstance(fact, FACT_TYPES), type(fact)
        if isinstance(fact, ParseError):
            assert_one_line(fact.message)
    assert elapsed < MAX_SECONDS, f"took {elapsed:.2f} s"


def parse_timed(source: Source, text: str, path: str) -> None:
    started = time.perf_counter()
    result = source.parse(text, path)
    assert_facts(result, time.perf_counter() - started)


# ------------------------------------------------------------------ strategies

SPECIAL = st.sampled_from(
    [
        *"\n\r\t \\\"'#:=[]{}()<>&*!|%$@,-;\x00\x0b\x0c\x85\u2028\ufeff\udcff",
        "---",
        "- ",
        "<<: *a",
        "&a",
        "${X}",
        "\\\n",
        "[[",
        "]]",
        '"""',
        "{{ x }}",
        "\ud800",
        "é",
        "\U0001f600",
    ]
)
TEXT = st.text(alphabet=st.characters(codec=None), max_size=400) | st.text(
    alphabet=st.sampled_from(list("ab1 =:-[]{}\"'\n#.\\/@$*&!|<>")), max_size=400
)


@st.composite
def mutated(draw: st.DrawFn, seeds: list[str]) -> str:
    """A seed truncated, with slices cut / inserted / duplicated, or spliced with another."""
    text = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["truncate", "cut", "insert", "dup_line", "splice", "replace"]))
        n = len(text)
        i = draw(st.integers(0, n))
        if op == "truncate":
            text = text[:i]
        elif op == "cut":
            text = text[:i] + text[draw(st.integers(i, n)) :]
        elif op == "insert":
            text = text[:i] + draw(SPECIAL | TEXT) + text[i:]
        elif op == "dup_line":
            lines = text.splitlines(keepends=True) or [""]
            k = draw(st.integers(0, len(lines) - 1))
            lines[k:k] = [lines[k]] * draw(st.integers(1, 50))
            text = "".join(lines)
        elif op == "splice":
            other = draw(st.sampled_from([t for ts in SEEDS.values() for t in ts]))
            text = text[:i] + other[draw(st.integers(0, len(other))) :]
        else:
            text = text[:i] + draw(SPECIAL) + text[i + 1 :]
    return text


NESTING = st.sampled_from(
    [
        ("[", "]"),
        ('{"a":', "}"),
        ("- ", ""),
        ("a = [", "]"),
        ("x = {a = ", "}"),
        ("(", ")"),
        ("f(", ")"),
        ("[a.", "]"),
        ("a:\n", ""),
        ("{a: ", "}"),
        ("&x [", "]"),
        ("RUN <<EOF\n", "EOF\n"),
        ("-r x.txt\n", ""),
    ]
)


def nested(opener: str, closer: str, depth: int, indent: bool) -> str:
    if indent and opener.endswith("\n"):
        return "".join("  " * i + opener for i in range(depth)) + "  " * depth + "leaf\n"
    return opener * depth + "1" + closer * depth + "\n"


# ------------------------------------------------------------------ sources


def test_every_source_is_fuzzed() -> None:
    assert set(SOURCES) == set(PATH_OF_SOURCE), "add the new source to PATH_OF_SOURCE and a seed"
    for name, path in PATH_OF_SOURCE.items():
        assert source_for(path) is SOURCES[name], (name, path)
        assert seeds_of(SOURCES[name]), f"no seed file for {name}"


@pytest.mark.parametrize("name", sorted(PATH_OF_SOURCE))
@FUZZ_SETTINGS
@given(text=TEXT)
def test_fuzz_source_arbitrary_text(name: str, text: str) -> None:
    parse_timed(SOURCES[name], text, PATH_OF_SOURCE[name])


@pytest.mark.parametrize("name", sorted(PATH_OF_SOURCE))
@FUZZ_SETTINGS
@given(data=st.data())
def test_fuzz_source_mutated_real_files(name: str, data: st.DataObject) -> None:
    source = SOURCES[name]
    seeds = seeds_of(source)
    path, _ = data.draw(st.sampled_from(seeds))
    text = data.draw(mutated([t for p, t in seeds if p == path]))
    parse_timed(source, text, path)


@pytest.mark.parametrize("name", sorted(PATH_OF_SOURCE))
@FUZZ_SETTINGS
@given(nest=NESTING, depth=st.integers(1, 3000), indent=st.booleans(), seed=st.integers(0, 10))
def test_fuzz_source_deep_nesting(
    name: str, nest: tuple[str, str], depth: int, indent: bool, seed: int
) -> None:
    source = SOURCES[name]
    path, seed_text = seeds_of(source)[seed % len(seeds_of(source))]
    text = nested(*nest, depth, indent)
    for candidate in (text, seed_text + text, "key: " + text):
        parse_timed(source, candidate, path)


# the long runs go up to 2 MB lines; the suite's up to 300 KB (time, not coverage)
HUGE = 2_000_000 if FUZZ_SETTINGS.max_examples >= 1000 else 300_000


@pytest.mark.parametrize("name", sorted(PATH_OF_SOURCE))
@FUZZ_SETTINGS
@given(
    size=st.integers(1_000, HUGE),
    chunk=st.sampled_from(
        ["x", "a=", "[", " ", "\t", "\\", "${", "'", "://", "a.b.", "@", "-", "é", "ab cd "]
    ),
    where=st.floats(0, 1),
    seed=st.integers(0, 10),
)
def test_fuzz_source_huge_lines(name: str, size: int, chunk: str, where: float, seed: int) -> None:
    source = SOURCES[name]
    path, seed_text = seeds_of(source)[seed % len(seeds_of(source))]
    cut = int(len(seed_text) * where)
    text = seed_text[:cut] + chunk * (size // len(chunk)) + seed_text[cut:]
    parse_timed(source, text, path)


@pytest.mark.parametrize(
    "path", ["poetry.lock", "pyproject.toml", "uv.lock", "Pipfile", "serving/settings.toml"]
)
def test_toml_long_dotted_key_is_rejected_quickly(path: str) -> None:
    """tomllib builds a dotted key by tuple concatenation: 16,000 parts took 3 s, 128,000 minutes."""
    source = source_for(path)
    assert source is not None
    started = time.perf_counter()
    result = source.parse("a." * 100_000 + "b = 1\n", path)
    assert time.perf_counter() - started < MAX_SECONDS
    (err,) = result.facts
    assert isinstance(err, ParseError) and "more than 2000 dots" in err.message
    with pytest.raises(ConfigError, match="more than 2000 dots"):
        parse_config("a." * 100_000 + "b = 1\n", ".depaudit.toml")


def test_sources_reject_oversized_text_without_parsing() -> None:
    text = "numpy==1.0\n" * (1024 * 1024)  # 11 MB of text
    for name, path in PATH_OF_SOURCE.items():
        started = time.perf_counter()
        result = SOURCES[name].parse(text, path)
        assert_facts(result, time.perf_counter() - started)
        errors = [f for f in result.facts if isinstance(f, ParseError)]
        assert errors and "limit" in errors[0].message, (name, result.facts[:3])


# ------------------------------------------------------------------ bytes


@FUZZ_SETTINGS
@given(
    data=st.binary(max_size=2000)
    | st.text(max_size=500).map(lambda s: s.encode("utf-8", "surrogatepass"))
)
def test_fuzz_decode_blob_arbitrary_bytes(data: bytes) -> None:
    out = decode_blob(data, "serving/config.yaml")
    if isinstance(out, ParseError):
        assert_one_line(out.message)
    else:
        assert isinstance(out, str)


# ------------------------------------------------------------------ config


def parse_config_safely(text: str, path: str, from_pyproject: bool) -> None:
    started = time.perf_counter()
    try:
        out = parse_config(text, path, from_pyproject=from_pyproject)
    except ConfigError as exc:
        assert_one_line(exc.reason)
        assert exc.path == path
    else:
        assert out is None or isinstance(out, AuditConfig)
        assert out is not None or from_pyproject
    assert time.perf_counter() - started < MAX_SECONDS


@FUZZ_SETTINGS
@given(text=TEXT, from_pyproject=st.booleans())
def test_fuzz_parse_config_arbitrary_text(text: str, from_pyproject: bool) -> None:
    parse_config_safely(
        text, "pyproject.toml" if from_pyproject else ".depaudit.toml", from_pyproject
    )


KEY = st.text(alphabet=st.characters(codec=None), min_size=1, max_size=40)
VALUE = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from(["training", "serving", "high", "nope", "DA101", "**", "***/**"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEY, children, max_size=4),
    max_leaves=12,
)


def toml_value(value: object) -> str:
    import json
    import math

    if value is None:
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return (
            "nan"
            if math.isnan(value)
            else ("inf" if value > 0 else "-inf")
            if math.isinf(value)
            else repr(value)
        )
    if isinstance(value, int | str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    assert isinstance(value, dict)
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


@FUZZ_SETTINGS
@given(
    tables=st.dictionaries(
        st.sampled_from(["environments", "rules", "knowledge", "enviroments", "tool"]) | KEY,
        st.dictionaries(
            st.sampled_from(
                ["api", "train", "ignore", "severity", "DA101", "max_cpu", "training_packages"]
            )
            | KEY,
            VALUE,
            max_size=4,
        ),
        max_size=4,
    ),
    from_pyproject=st.booleans(),
)
def test_fuzz_parse_config_wrong_values(
    tables: dict[str, dict[str, object]], from_pyproject: bool
) -> None:
    """Valid TOML holding every kind of wrong value: a ConfigError with one line, or a config."""
    prefix = "tool.depaudit." if from_pyproject else ""
    text = "".join(
        f"[{prefix}{__import__('json').dumps(name)}]\n"
        + "".join(f"{__import__('json').dumps(k)} = {toml_value(v)}\n" for k, v in body.items())
        for name, body in tables.items()
    )
    parse_config_safely(
        text, "pyproject.toml" if from_pyproject else ".depaudit.toml", from_pyproject
    )


@FUZZ_SETTINGS
@given(text=mutated(CONFIG_SEEDS))
def test_fuzz_parse_config_mutated_real_file(text: str) -> None:
    parse_config_safely(text, ".depaudit.toml", False)
    parse_config_safely(
        "[tool.depaudit]\n" + text.replace("[", "[tool.depaudit."), "pyproject.toml", True
    )


# ------------------------------------------------------------------ environments

PATH_PART = st.sampled_from(
    [
        "training",
        "serving",
        "api",
        "train",
        "common",
        "tests",
        "src",
        "a b",
        "Dockerfile",
        "requirements-train.txt",
        "app.py",
        "k8s",
        "serving.yaml",
        ".env",
        "ü",
        "..",
        ".",
        "",
    ]
) | st.text(alphabet=st.characters(codec=None, exclude_characters="/"), max_size=12)
PATHS = st.lists(st.lists(PATH_PART, min_size=1, max_size=6).map("/".join), max_size=40)
GLOB = st.lists(st.sampled_from([*"*?/ab.[]!{},\\", "**", "training", "api"]), max_size=30).map(
    "".join
)


@FUZZ_SETTINGS
@given(paths=PATHS, globs=st.lists(GLOB, min_size=2, max_size=6), use_config=st.booleans())
def test_fuzz_find_environments(paths: list[str], globs: list[str], use_config: bool) -> None:
    config = AuditConfig()
    if use_config:
        half = len(globs) // 2
        config = AuditConfig(
            (
                EnvironmentConfig(
                    "train", "training", tuple(globs[:half]), exclude=tuple(globs[half:][:1])
                ),
                EnvironmentConfig("api", "serving", tuple(globs[half:])),
            ),
            origin=".depaudit.toml",
        )
    started = time.perf_counter()
    plan = find_environments(paths, config)
    assert time.perf_counter() - started < MAX_SECONDS
    assert isinstance(plan, EnvironmentPlan)
    placed = {a.path for env in plan.environments for a in env.files}
    assert placed | set(plan.unassigned) <= set(paths)


@FUZZ_SETTINGS
@given(
    path=st.text(alphabet=st.sampled_from(list("ab/.")), max_size=12),
    pattern=st.lists(
        st.sampled_from(["a", "b", "/", ".", "*", "?", "**", "**/", "["]), max_size=6
    ).map("".join),
)
def test_fuzz_glob_match_agrees_with_the_documented_regex(path: str, pattern: str) -> None:
    """The linear matcher means exactly what the (slow on hostile input) regex says."""
    assert glob_match(path, pattern) == (_glob_regex(pattern).match(path) is not None)


def test_hostile_glob_is_linear() -> None:
    """Classic exponential-backtracking patterns against a long near-miss path."""
    path = "a/" * 2000 + "b" * 5000
    for pattern in [
        "*a*a*a*a*a*a*a*a*a*a*a*c",
        "**/**/**/**/**/**/**/**/c",
        "*" * 200 + "c",
        "?*" * 100 + "c",
    ]:
        config = AuditConfig(
            (
                EnvironmentConfig("t", "training", (pattern,)),
                EnvironmentConfig("s", "serving", ("x",)),
            ),
            origin=".depaudit.toml",
        )
        started = time.perf_counter()
        find_environments([path, path + "/x.txt"], config)
        assert time.perf_counter() - started < MAX_SECONDS, pattern


# ------------------------------------------------------------------ snapshot_tree


class MemoryTree:
    """An in-memory tree: path -> bytes (or a symlink / submodule marker)."""

    def __init__(self, files: dict[str, bytes | str]) -> None:
        self.files = files

    def entries(self) -> list[TreeEntry]:
        out = []
        for i, (path, data) in enumerate(sorted(self.files.items())):
            if isinstance(data, str):  # "symlink" / "submodule"
                out.append(TreeEntry(path, f"{data}{i}", 0, data))
            else:
                out.append(TreeEntry(path, f"blob{i}-{hash(data)}", len(data)))
        return out

    def read(self, entry: TreeEntry) -> bytes:
        data = self.files[entry.path]
        if isinstance(data, str):
            raise TreeReadError(f"{data} not followed")
        return data


TREE_PATHS = st.sampled_from(
    [
        ".depaudit.toml",
        "pyproject.toml",
        "training/requirements.txt",
        "serving/requirements.txt",
        "serving/requirements-base.txt",
        "training/Dockerfile",
        "serving/Dockerfile",
        "docker-compose.yml",
        "k8s/serving.yaml",
        "serving/.env",
        "serving/config.json",
        "training/train.py",
        "serving/app.py",
        "common/features.py",
        "serving/settings.toml",
        "training/environment.yml",
        "serving/poetry.lock",
        "serving/caf\udce9.yaml",
        "notebooks/explore.ipynb",
    ]
)
CONTENT = (
    st.binary(max_size=600)
    | TEXT.map(lambda s: s.encode("utf-8", "surrogatepass"))
    | mutated([t for ts in SEEDS.values() for t in ts] + CONFIG_SEEDS).map(
        lambda s: s.encode("utf-8", "surrogatepass")
    )
    | st.sampled_from(["symlink", "submodule"])
)


def assert_snapshot(snap: TreeSnapshot, elapsed: float) -> None:
    assert isinstance(snap, TreeSnapshot)
    for err in snap.config_errors:
        assert_one_line(err.message)
    for env in snap.environments:
        for fact in env.facts:
            assert isinstance(fact, FACT_TYPES)
            if isinstance(fact, ParseError):
                assert_one_line(fact.message)
    assert elapsed < 3 * MAX_SECONDS, f"took {elapsed:.2f} s"


@FUZZ_SETTINGS
@given(files=st.dictionaries(TREE_PATHS, CONTENT, min_size=1, max_size=8))
def test_fuzz_snapshot_tree_memory(files: dict[str, bytes | str]) -> None:
    started = time.perf_counter()
    snap = snapshot_tree(MemoryTree(files))
    assert_snapshot(snap, time.perf_counter() - started)


@FUZZ_SETTINGS
@given(files=st.dictionaries(TREE_PATHS, CONTENT, min_size=1, max_size=6))
def test_fuzz_snapshot_tree_working_tree(
    files: dict[str, bytes | str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = tmp_path_factory.mktemp("wt")
    for rel, data in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            target.symlink_to("/etc/passwd" if data == "symlink" else "../../outside")
        else:
            target.write_bytes(data)
    started = time.perf_counter()
    snap = snapshot_tree(WorkingTree(root))
    assert_snapshot(snap, time.perf_counter() - started)


def test_seed_files_parse_cleanly() -> None:
    """The seeds are realistic: each source reads its own without a ParseError."""
    for name in PATH_OF_SOURCE:
        for path, text in seeds_of(SOURCES[name]):
            result = SOURCES[name].parse(text, path)
            errors = [f for f in result.facts if isinstance(f, ParseError)]
            assert not errors, (name, path, errors)
            assert result.facts, (name, path)


_ = Path  # keep the import for type readers of tmp paths
