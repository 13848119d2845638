"""Every module of depaudit (collectors and dashboard included) sits in a layer of the contract.

import-linter checks imports between the layers listed in pyproject.toml; a module that
is in no layer is checked against nothing. This test closes that gap: a new top-level
module must be given its place in the data's path.
"""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path

import depaudit

ROOT = Path(__file__).resolve().parents[2]
# The package itself and ``python -m depaudit`` (which only calls the CLI).
OUTSIDE_LAYERS = {"depaudit", "depaudit.__main__"}


def layered_modules() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (layers,) = [c["layers"] for c in contracts if c["type"] == "layers"]
    return {name.strip() for layer in layers for name in layer.split("|")}


def top_modules() -> set[str]:
    found: set[str] = set()
    for module in pkgutil.iter_modules(depaudit.__path__, "depaudit."):
        found.add(module.name)
    return found


def test_every_top_level_module_is_in_a_layer() -> None:
    layered = layered_modules()
    missing = sorted(m for m in top_modules() - OUTSIDE_LAYERS if m not in layered)
    assert missing == [], f"add these to a layer in pyproject.toml: {missing}"


def test_the_layers_name_only_modules_that_exist() -> None:
    assert layered_modules() <= top_modules()
