"""The wheel installs one top-level import package, ``depaudit``.

``collectors/`` and ``dashboard/`` stay at the repository's root and are installed as
``depaudit.collectors`` / ``depaudit.dashboard`` through the symlinks in ``depaudit/``: a
generic top-level ``collectors`` or ``dashboard`` in a user's site-packages would clash with
any other distribution of that name. The wheel is built offline from a copy of the sources,
with the setuptools already installed here.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OLD_TOP_LEVEL = ("collectors", "dashboard")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    src = tmp_path_factory.mktemp("src")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("depaudit", "collectors", "dashboard"):
        shutil.copytree(ROOT / name, src / name, symlinks=True, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--quiet",
            "--wheel-dir",
            str(out),
            str(src),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr
    (path,) = out.glob("depaudit-*.whl")
    return zipfile.ZipFile(path)


def test_the_wheel_has_one_top_level_package(wheel: zipfile.ZipFile) -> None:
    names = wheel.namelist()
    top = {name.split("/")[0] for name in names}
    dist_info = {t for t in top if t.endswith(".dist-info")}
    assert len(dist_info) == 1
    assert top - dist_info == {"depaudit"}
    # the root folders' code is in it, as real files under depaudit/
    for path in (
        "depaudit/collectors/git.py",
        "depaudit/collectors/sources/requirements.py",
        "depaudit/dashboard/app.py",
        "depaudit/dashboard/views/overview.py",
        "depaudit/data/base_images.toml",
    ):
        assert path in names, path
        assert wheel.getinfo(path).file_size > 0, path
    (top_level,) = [n for n in names if n.endswith(".dist-info/top_level.txt")] or [None]
    if top_level is not None:
        assert wheel.read(top_level).decode().split() == ["depaudit"]


def test_no_module_in_the_wheel_imports_the_old_top_level_names(
    wheel: zipfile.ZipFile,
) -> None:
    # such an import works in a checkout (the root is on sys.path there) and fails once
    # installed; a branch written before the rename could bring one back
    offenders = []
    for name in wheel.namelist():
        if not name.endswith(".py"):
            continue
        tree = ast.parse(wheel.read(name), filename=name)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            offenders += [
                f"{name}:{node.lineno}: {m}" for m in modules if m.split(".")[0] in OLD_TOP_LEVEL
            ]
    assert offenders == []
