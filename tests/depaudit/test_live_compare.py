"""Live rules DA701-DA704 and compare_live: declared serving vs what pipdeptree observed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from depaudit.collectors.live import observe_interpreter, observe_pipdeptree_file
from depaudit.collectors.snapshot import snapshot_tree
from depaudit.collectors.tree import WorkingTree
from depaudit.compare import compare_live, compare_pairs, every_pair
from depaudit.config import RulesConfig
from depaudit.knowledge import builtin
from depaudit.model import EnvironmentSnapshot, Finding


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")


def declared(tmp_path: Path, files: dict[str, str]) -> dict[str, EnvironmentSnapshot]:
    repo = tmp_path / "repo"
    write(repo, files)
    snap = snapshot_tree(WorkingTree(repo))
    return {e.role: e for e in snap.environments}


def node(key: str, version: str, *deps: tuple[str, str, str]) -> dict[str, object]:
    return {
        "key": key,
        "package_name": key,
        "installed_version": version,
        "required_version": version,
        "dependencies": [
            {
                "key": k,
                "package_name": k,
                "installed_version": v,
                "required_version": spec,
                "dependencies": [],
            }
            for k, v, spec in deps
        ],
    }


def observed(tmp_path: Path, tree: list[dict[str, object]]) -> EnvironmentSnapshot:
    capture = tmp_path / "prod-pipdeptree.json"
    capture.write_text(json.dumps(tree), "utf-8")
    return observe_pipdeptree_file(capture, name="serving@live")


def by_rule(findings: list[Finding], rule: str) -> dict[str, Finding]:
    return {f.item: f for f in findings if f.rule == rule}


FILES = {
    "serving/requirements.txt": "fastapi>=0.110\nnumpy==1.26.4\nrequests>=2.31\npywin32==306; sys_platform == 'win32'\n",
    "training/requirements.txt": "numpy==1.26.4\nwandb==0.16.3\n",
}
TREE = [
    node("pip", "24.0"),
    node("setuptools", "69.0.0"),
    node(
        "fastapi",
        "0.110.0",
        ("starlette", "0.36.3", ">=0.36.3,<0.37.0"),
        ("pydantic", "?", ">=1.7.4"),
    ),
    node("starlette", "0.36.3", ("anyio", "4.3.0", ">=3.4.0,<5")),
    node("numpy", "1.24.0"),
    node(
        "wandb", "0.16.3", ("gitpython", "3.1.42", ">=1.0.0"), ("requests", "2.31.0", ">=2.0.0,<3")
    ),
    node("gitpython", "3.1.42", ("gitdb", "4.0.11", ">=4.0.1,<5")),
    node("requests", "2.31.0", ("idna", "2.0", ">=2.5,<4")),
    node("idna", "2.0"),
]


@pytest.fixture
def live_findings(tmp_path: Path) -> list[Finding]:
    envs = declared(tmp_path, FILES)
    return compare_live(
        envs["serving"], observed(tmp_path, TREE), builtin(), training=[envs["training"]]
    )


def test_da701_reports_roots_of_undeclared_packages(live_findings: list[Finding]) -> None:
    da701 = by_rule(live_findings, "DA701")
    # wandb is nobody's dependency and undeclared; gitpython/gitdb only come with it;
    # starlette/anyio come with a declared package; pip and setuptools are tools.
    assert set(da701) == {"wandb"}
    f = da701["wandb"]
    assert f.status == "drift" and f.serving == "0.16.3"
    assert f.training_env == "serving" and f.serving_env == "serving@live"
    assert "gitdb" in f.evidence and "gitpython" in f.evidence
    assert f.file.endswith("prod-pipdeptree.json")


def test_da702_declared_not_installed_respects_markers(live_findings: list[Finding]) -> None:
    assert set(by_rule(live_findings, "DA702")) == set()  # pywin32 is for win32 only


def test_da702_missing_package(tmp_path: Path) -> None:
    envs = declared(
        tmp_path, {"serving/requirements.txt": "fastapi>=0.110\nuvicorn[standard]>=0.29\n"}
    )
    findings = compare_live(
        envs["serving"], observed(tmp_path, [node("fastapi", "0.110.0")]), builtin()
    )
    (f,) = by_rule(findings, "DA702").values()
    assert f.item == "uvicorn" and f.training == ">=0.29"
    assert (f.file, f.line) == ("serving/requirements.txt", 2)


def test_da703_version_outside_specifier(live_findings: list[Finding]) -> None:
    da703 = by_rule(live_findings, "DA703")
    assert set(da703) == {"numpy"}
    f = da703["numpy"]
    assert (f.training, f.serving) == ("==1.26.4", "1.24.0")
    assert f.severity == "medium"  # numpy is an inference package
    assert (f.file, f.line) == ("serving/requirements.txt", 2)


def test_da704_missing_and_conflicting_requirements(live_findings: list[Finding]) -> None:
    da704 = by_rule(live_findings, "DA704")
    assert set(da704) == {"pydantic", "idna"}
    assert da704["pydantic"].serving == "missing"
    assert "fastapi 0.110.0 requires pydantic>=1.7.4" in da704["pydantic"].message
    assert da704["idna"].serving == "2.0"
    assert "requests 2.31.0 requires idna" in da704["idna"].message


def test_training_vs_observed_uses_the_ordinary_rules(live_findings: list[Finding]) -> None:
    # wandb really installed in production: a DA101 leftover with the live version
    leftovers = {f.item: f for f in live_findings if f.rule == "DA101"}
    assert leftovers["wandb"].serving == "0.16.3"
    assert leftovers["wandb"].training_env == "training"
    assert leftovers["wandb"].serving_env == "serving@live"
    # ...and no live rule fired on the training pair
    assert not [
        f for f in live_findings if f.rule.startswith("DA70") and f.training_env == "training"
    ]


def test_live_rules_are_silent_in_ordinary_comparisons(tmp_path: Path) -> None:
    envs = declared(tmp_path, FILES)
    environments = list(envs.values())
    findings = compare_pairs(
        environments, every_pair(environments), rules=RulesConfig(), knowledge=builtin()
    )
    assert not [f for f in findings if f.rule.startswith("DA70")]


def test_rule_settings_ignore_and_allow(tmp_path: Path) -> None:
    envs = declared(tmp_path, FILES)
    rules = RulesConfig(ignore=("DA704",), allow={"DA701": ("wandb",)})
    findings = compare_live(envs["serving"], observed(tmp_path, TREE), builtin(), rules=rules)
    assert not by_rule(findings, "DA704")
    assert not by_rule(findings, "DA701")
    assert by_rule(findings, "DA703")


def test_matching_environment_has_no_live_findings(tmp_path: Path) -> None:
    envs = declared(tmp_path, {"serving/requirements.txt": "six==1.16.0\n"})
    findings = compare_live(
        envs["serving"], observed(tmp_path, [node("pip", "24.0"), node("six", "1.16.0")]), builtin()
    )
    assert [f for f in findings if f.rule.startswith("DA70")] == []


def test_real_venv_undeclared_and_outside_specifier(
    tmp_path: Path, venv_factory: Callable[..., Path]
) -> None:
    """A real virtualenv: six installed but undeclared, idna outside ``idna>=3``."""
    python = venv_factory("six==1.16.0", "idna==2.10")
    envs = declared(tmp_path, {"serving/requirements.txt": "idna>=3\n"})
    live = observe_interpreter(python, name="serving@live")
    findings = compare_live(envs["serving"], live, builtin())
    assert set(by_rule(findings, "DA701")) == {"six"}
    da703 = by_rule(findings, "DA703")
    assert (da703["idna"].training, da703["idna"].serving) == (">=3", "2.10")
