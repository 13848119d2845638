"""The live collector: pipdeptree JSON (both shapes), os-release, and real interpreters."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from depaudit.collectors.live import (
    LiveError,
    observe_interpreter,
    observe_pipdeptree_file,
    parse_os_release,
    parse_pipdeptree_json,
)
from depaudit.model import Package, Runtime

# Captured from `pipdeptree --python VENV/bin/python --json-tree` (pipdeptree 4.2) on a
# venv with `pip install --no-deps requests==2.31.0 idna==2.0 six==1.16.0`.
TREE = [
    {
        "key": "pip",
        "package_name": "pip",
        "installed_version": "23.2.1",
        "required_version": "23.2.1",
        "dependencies": [],
    },
    {
        "key": "requests",
        "package_name": "requests",
        "installed_version": "2.31.0",
        "required_version": "2.31.0",
        "dependencies": [
            {
                "key": "certifi",
                "package_name": "certifi",
                "installed_version": "?",
                "required_version": ">=2017.4.17",
                "dependencies": [],
            },
            {
                "key": "charset-normalizer",
                "package_name": "charset-normalizer",
                "installed_version": "?",
                "required_version": ">=2,<4",
                "dependencies": [],
            },
            {
                "key": "idna",
                "package_name": "idna",
                "installed_version": "2.0",
                "required_version": ">=2.5,<4",
                "dependencies": [],
            },
            {
                "key": "urllib3",
                "package_name": "urllib3",
                "installed_version": "?",
                "required_version": ">=1.21.1,<3",
                "dependencies": [],
            },
        ],
    },
    {
        "key": "six",
        "package_name": "six",
        "installed_version": "1.16.0",
        "required_version": "1.16.0",
        "dependencies": [],
    },
]
# The same environment as `pipdeptree --json` (flat; older pipdeptree writes "Any").
FLAT = [
    {
        "package": {"key": "idna", "package_name": "idna", "installed_version": "2.0"},
        "dependencies": [],
    },
    {
        "package": {"key": "pip", "package_name": "pip", "installed_version": "23.2.1"},
        "dependencies": [],
    },
    {
        "package": {"key": "requests", "package_name": "requests", "installed_version": "2.31.0"},
        "dependencies": [
            {
                "key": "certifi",
                "package_name": "certifi",
                "installed_version": "?",
                "required_version": ">=2017.4.17",
            },
            {
                "key": "charset-normalizer",
                "package_name": "charset-normalizer",
                "installed_version": "?",
                "required_version": ">=2,<4",
            },
            {
                "key": "idna",
                "package_name": "idna",
                "installed_version": "2.0",
                "required_version": ">=2.5,<4",
            },
            {
                "key": "urllib3",
                "package_name": "urllib3",
                "installed_version": "?",
                "required_version": "Any",
            },
        ],
    },
    {
        "package": {"key": "six", "package_name": "Six", "installed_version": "1.16.0"},
        "dependencies": [],
    },
]


def by_name(packages: list[Package]) -> dict[str, Package]:
    return {p.name: p for p in packages}


@pytest.mark.parametrize("doc", [TREE, FLAT], ids=["json-tree", "json"])
def test_both_shapes_give_the_same_packages(doc: list[object]) -> None:
    pkgs = by_name(parse_pipdeptree_json(json.dumps(doc), source="live:x"))
    assert sorted(pkgs) == ["idna", "pip", "requests", "six"]  # missing ones are not facts
    assert {n: p.version for n, p in pkgs.items()}["idna"] == "2.0"
    assert all(p.origin == "installed" and p.file == "live:x" for p in pkgs.values())
    # top-level in the tree: not required by another installed package
    assert {n for n, p in pkgs.items() if p.direct} == {"pip", "requests", "six"}
    req = pkgs["requests"]
    assert req.requires == ("certifi", "charset-normalizer", "idna", "urllib3")
    assert "idna<4,>=2.5" in {r.replace(">=2.5,<4", "<4,>=2.5") for r in req.requirements}


def test_any_means_unconstrained() -> None:
    pkgs = by_name(parse_pipdeptree_json(json.dumps(FLAT), source="f"))
    assert "urllib3" in pkgs["requests"].requirements


def deep_tree(depth: int) -> str:
    head = "".join(
        f'{{"key": "p{i}", "installed_version": "1.0", "required_version": "1.0", "dependencies": ['
        for i in range(depth)
    )
    return (
        "["
        + head
        + '{"key": "leaf", "installed_version": "1.0", "dependencies": []}'
        + "]}" * depth
        + "]"
    )


def test_deep_tree_is_walked() -> None:
    pkgs = parse_pipdeptree_json(deep_tree(400), source="deep")
    assert len(pkgs) == 401
    assert [p.name for p in pkgs if p.direct] == ["p0"]


def test_absurdly_deep_json_is_one_line_error() -> None:
    with pytest.raises(LiveError, match="nested too deeply"):
        parse_pipdeptree_json(deep_tree(100_000), source="deep")


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('[{"key": "six", "installed_version": "1.16', "not JSON"),  # truncated
        ("", "not JSON"),
        ('{"six": "1.16.0"}', "expected a list"),
        ('[{"name": "six"}]', "not pipdeptree JSON"),
        ('[{"package": "six", "dependencies": []}]', "not an object"),
        ('[{"key": "six", "dependencies": "none"}]', "dependencies"),
        ('[{"key": "", "dependencies": []}]', "no 'key'"),
    ],
)
def test_bad_json_is_one_line_error(text: str, needle: str) -> None:
    with pytest.raises(LiveError) as info:
        parse_pipdeptree_json(text, source="capture.json")
    message = str(info.value)
    assert message.startswith("capture.json: ")
    assert needle in message
    assert "\n" not in message


def test_empty_list_is_an_empty_environment() -> None:
    assert parse_pipdeptree_json("[]", source="x") == []


def test_file_reading_errors(tmp_path: Path) -> None:
    binary = tmp_path / "b.json"
    binary.write_bytes(b"\x00\x01\x02")
    latin = tmp_path / "l.json"
    latin.write_bytes('[{"key": "caf\xe9"}]'.encode("latin-1"))
    for path, needle in [
        (tmp_path / "missing.json", "no such file"),
        (tmp_path, "is a directory"),
        (binary, "binary"),
        (latin, "not UTF-8"),
    ]:
        with pytest.raises(LiveError, match=needle):
            observe_pipdeptree_file(path)


OS_RELEASE = """PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
ID=debian
"""


def test_os_release() -> None:
    fact = parse_os_release(OS_RELEASE, source="/etc/os-release")
    assert fact == Runtime("os", "debian 12", "/etc/os-release", 5, detail="live: os-release")
    ubuntu = parse_os_release('ID=ubuntu\nVERSION_ID="22.04"\n', source="f")
    assert ubuntu is not None and ubuntu.value == "ubuntu 22.04"
    rolling = parse_os_release("ID=arch\n# comment\n", source="f")
    assert rolling is not None and rolling.value == "arch"
    assert parse_os_release("garbage", source="f") is None


def test_captured_file_with_os_release(tmp_path: Path) -> None:
    capture = tmp_path / "prod.json"
    capture.write_text(json.dumps(TREE), "utf-8")
    os_file = tmp_path / "os-release"
    os_file.write_text(OS_RELEASE, "utf-8")
    snap = observe_pipdeptree_file(capture, name="api@live", os_release=os_file)
    assert snap.observed and snap.role == "serving" and snap.name == "api@live"
    assert [f.value for f in snap.of_type(Runtime)] == ["debian 12"]
    assert {p.name for p in snap.of_type(Package)} == {"idna", "pip", "requests", "six"}
    bad_os = tmp_path / "bad-os"
    bad_os.write_text("hello\n", "utf-8")
    with pytest.raises(LiveError, match="not an os-release file"):
        observe_pipdeptree_file(capture, os_release=bad_os)


def test_not_an_interpreter(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello\n", "utf-8")
    script = tmp_path / "fake-python"
    script.write_text("#!/bin/sh\necho hello\n", "utf-8")
    script.chmod(0o755)
    for path, needle in [
        (tmp_path / "nope", "no such file"),
        (tmp_path, "is a directory"),
        (text, "not executable"),
        (script, "not a Python interpreter"),
    ]:
        with pytest.raises(LiveError, match=needle) as info:
            observe_interpreter(path)
        assert "\n" not in str(info.value)


def test_timeout(tmp_path: Path) -> None:
    slow = tmp_path / "slow-python"
    slow.write_text("#!/bin/sh\nsleep 10\n", "utf-8")
    slow.chmod(0o755)
    with pytest.raises(LiveError, match=r"timed out after 0\.5 s"):
        observe_interpreter(slow, timeout=0.5)


def test_our_own_interpreter() -> None:
    snap = observe_interpreter(Path(sys.executable), name="serving@live")
    python = next(f for f in snap.of_type(Runtime) if f.item == "python")
    assert python.value.startswith(f"{sys.version_info.major}.{sys.version_info.minor}.")
    names = {p.name for p in snap.of_type(Package)}
    assert {"pipdeptree", "packaging", "typer"} <= names
    if Path("/etc/os-release").exists():
        assert any(f.item == "os" for f in snap.of_type(Runtime))


# ---------------------------------------------------------------- real virtualenvs


@pytest.fixture
def broken_venv(venv_factory: Callable[..., Path]) -> Path:
    return venv_factory("six==1.16.0", "idna==2.0", "requests==2.31.0")


def test_real_venv_with_missing_and_conflicting_dependencies(broken_venv: Path) -> None:
    snap = observe_interpreter(broken_venv)
    pkgs = by_name(snap.of_type(Package))
    assert pkgs["six"].version == "1.16.0" and pkgs["six"].direct
    assert pkgs["idna"].version == "2.0" and not pkgs["idna"].direct  # requests requires it
    assert "certifi" not in pkgs  # required, not installed
    assert "certifi" in pkgs["requests"].requires
    assert snap.files[0].path == f"live:{broken_venv}"
