"""README's install section and CHANGELOG agree with what is shipped.

The install lines name extras pyproject.toml declares, the pre-commit snippet names the hook
of ``.pre-commit-hooks.yaml``, the Action snippet uses only inputs ``action.yml`` declares
(the same action the deploy workflow uses), and the CHANGELOG starts with this version.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text("utf-8")
PYPROJECT: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))


def install_section() -> str:
    match = re.search(r"^## Installing\n(.*?)^## ", README, re.S | re.M)
    assert match, "README has no '## Installing' section"
    return match.group(1)


def yaml_blocks(text: str) -> list[Any]:
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", text, re.S)]


def test_install_lines_name_declared_extras() -> None:
    extras = set(PYPROJECT["project"]["optional-dependencies"])
    named = re.findall(r"pip install '?depaudit(?:\[(\w+)\])?'?", install_section())
    assert {"", "postgres", "live", "dashboard"} <= set(named)
    assert {n for n in named if n} <= extras
    # the light core really is light: no dashboard package among its dependencies
    core = " ".join(PYPROJECT["project"]["dependencies"]).lower()
    for heavy in ("streamlit", "pandas", "plotly", "pyarrow"):
        assert heavy not in core


def test_sizes_are_stated() -> None:
    # core, [postgres], [live], [dashboard]: the core is the smallest, and under 100 MB
    sizes = [int(s) for s in re.findall(r"\| (\d+) MB \|", install_section())]
    assert len(sizes) == 4 and sizes[0] == min(sizes) and sizes[0] < 100


def test_pre_commit_snippet_names_the_shipped_hook() -> None:
    hooks = {h["id"] for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    config = next(b for b in yaml_blocks(install_section()) if isinstance(b, dict) and "repos" in b)
    (repo,) = config["repos"]
    assert repo["rev"] == f"v{PYPROJECT['project']['version']}"
    assert {h["id"] for h in repo["hooks"]} <= hooks


def test_action_snippet_uses_declared_inputs_like_the_deploy_workflow() -> None:
    inputs = set(yaml.safe_load((ROOT / "action.yml").read_text("utf-8"))["inputs"])
    steps = next(b for b in yaml_blocks(install_section()) if isinstance(b, list))
    (step,) = [s for s in steps if "depaudit@" in s.get("uses", "")]
    assert set(step["with"]) <= inputs
    workflow = (ROOT / "deploy" / "github" / "depaudit.yml").read_text("utf-8")
    assert f"uses: {step['uses']}" in workflow
    assert step["uses"].endswith(f"@v{PYPROJECT['project']['version']}")


def test_changelog_starts_with_this_release() -> None:
    text = (ROOT / "CHANGELOG.md").read_text("utf-8")
    versions = re.findall(r"^## \[([^\]]+)\]", text, re.M)
    released = [v for v in versions if v != "Unreleased"]
    assert released == [PYPROJECT["project"]["version"]]
