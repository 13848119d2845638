"""Package rules DA101-DA105 on snapshots shaped like real repos' dependency files."""

from __future__ import annotations

import pytest

from depaudit.model import Finding, Package
from depaudit.rules import (
    incompatible_specifiers,
    one_sided_package,
    pinned_version_drift,
    shared_package,
    training_package_in_serving,
)
from depaudit.rules.version_ranges import have_common_version, version_distance
from tests.depaudit.rules.rulekit import run


def pkg(name: str, file: str = "requirements.txt", line: int = 1, **kw: object) -> Package:
    return Package(name=name, file=file, line=line, **kw)  # type: ignore[arg-type]


def summary(findings: list[Finding]) -> list[tuple[str, str, str, str, str, str]]:
    return [(f.rule, f.status, f.item, f.severity, f.training, f.serving) for f in findings]


# ------------------------------------------------------------------------------ DA101


def test_da101_reports_tracker_and_warehouse_clients_with_their_knowledge_severity() -> None:
    serving = [
        pkg("fastapi", specifier=">=0.110", line=1, file="serving/requirements.txt"),
        pkg(
            "wandb", specifier="==0.16.3", version="0.16.3", line=2, file="serving/requirements.txt"
        ),
        pkg("snowflake-connector-python", specifier=">=3", line=3, file="serving/requirements.txt"),
    ]
    training = [pkg("wandb", specifier=">=0.15", file="training/requirements.txt")]
    found = run(training_package_in_serving.RULE, training, serving)
    assert summary(found) == [
        ("DA101", "leftover", "snowflake-connector-python", "high", "", ">=3"),
        ("DA101", "leftover", "wandb", "medium", ">=0.15", "0.16.3"),
    ]
    assert found[1].file == "serving/requirements.txt" and found[1].line == 2
    assert "experiment tracking" in found[1].message.lower()


def test_da101_ignores_dev_groups_transitive_entries_and_allowed_names() -> None:
    serving = [
        pkg("pytest", group="dev", file="pyproject.toml"),
        pkg("mypy", group="typing", file="pyproject.toml"),
        pkg("fastapi", file="pyproject.toml"),
        pkg("tensorboard", version="2.15.1", direct=False, file="poetry.lock"),  # under tensorflow
        pkg("Matplotlib", file="pyproject.toml"),
    ]
    assert run(training_package_in_serving.RULE, [], serving) != []
    found = run(training_package_in_serving.RULE, [], serving, {"DA101": ("matplotlib",)})
    assert found == []


def test_da101_lock_only_side_counts_every_entry_as_direct() -> None:
    serving = [pkg("optuna", version="3.5.0", direct=False, file="uv.lock", line=40)]
    assert summary(run(training_package_in_serving.RULE, [], serving)) == [
        ("DA101", "leftover", "optuna", "medium", "", "3.5.0")
    ]


def test_da101_matches_extras_entries_but_not_plain_ray() -> None:
    plain = [pkg("ray", specifier=">=2.9", extras=("serve",))]
    tune = [pkg("ray", specifier=">=2.9", extras=("tune",))]
    assert run(training_package_in_serving.RULE, [], plain) == []
    assert [f.item for f in run(training_package_in_serving.RULE, [], tune)] == ["ray"]


# ------------------------------------------------------------------------------ DA102


def test_da102_inference_package_drift_is_medium_and_says_how_far_apart() -> None:
    training = [
        pkg("scikit-learn", specifier="==1.3.2", version="1.3.2", file="requirements-train.txt")
    ]
    serving = [
        pkg("scikit-learn", specifier=">=1.2", file="serving/requirements.txt", line=4),
        pkg("scikit-learn", version="1.2.0", direct=False, file="serving/poetry.lock", line=88),
    ]
    found = run(pinned_version_drift.RULE, training, serving)
    assert summary(found) == [("DA102", "drift", "scikit-learn", "medium", "1.3.2", "1.2.0")]
    assert "minor version apart" in found[0].message
    # points at the serving declaration (the place to fix), not the lock entry
    assert (found[0].file, found[0].line) == ("serving/requirements.txt", 4)


def test_da102_other_packages_are_low_and_equal_versions_are_not_drift() -> None:
    training = [pkg("httpx", version="0.27.0"), pkg("requests", version="2.31")]
    serving = [pkg("httpx", version="0.26.1"), pkg("requests", version="2.31.0")]
    found = run(pinned_version_drift.RULE, training, serving)
    assert summary(found) == [("DA102", "drift", "httpx", "low", "0.27.0", "0.26.1")]
    assert "minor version apart" in found[0].message


def test_da102_lock_version_beats_requirements_pin_on_the_same_side() -> None:
    training = [pkg("numpy", version="1.26.4")]
    serving = [
        pkg("numpy", version="1.26.0", file="requirements.txt"),
        pkg("numpy", version="1.26.4", file="poetry.lock", direct=False),
    ]
    assert run(pinned_version_drift.RULE, training, serving) == []


def test_version_distance() -> None:
    assert version_distance("2.0.0", "1.9.9") == "major"
    assert version_distance("1.3", "1.2.9") == "minor"
    assert version_distance("1.2.3", "1.2.4") == "patch"
    assert version_distance("1.2.3", "1.2.3.post1") == "build"
    assert version_distance("not-a-version", "1.0") == ""


# ------------------------------------------------------------------------------ DA103


@pytest.mark.parametrize(
    ("left", "right", "common"),
    [
        ("<1.2", ">=1.3", False),
        (">=1.2", "<2", True),
        (">1.2", "<1.2.1", True),  # 1.2.0.1 and 1.2.0.post... exist between
        ("==1.4.*", "!=1.4.0,!=1.4.1", True),
        ("~=1.4.2", ">=1.5", False),
        ("~=1.4", ">=1.9,<2", True),
        ("==2.0", "!=2.0", False),
        (">=3", "", True),
        ("not a spec", "<1", True),  # unparsable never claims drift
        (">1.0,<1.0.0.1", "", True),
        (">=2,<1", "", False),
    ],
)
def test_have_common_version(left: str, right: str, common: bool) -> None:
    assert have_common_version(left, right) is common


def test_da103_ranges_and_pin_outside_range() -> None:
    training = [pkg("pandas", specifier="<2.0"), pkg("torch", specifier="==2.1.0", version="2.1.0")]
    serving = [pkg("pandas", specifier=">=2.1", line=3), pkg("torch", specifier=">=2.2", line=5)]
    found = run(incompatible_specifiers.RULE, training, serving)
    assert summary(found) == [
        ("DA103", "drift", "pandas", "medium", "<2.0", ">=2.1"),
        ("DA103", "drift", "torch", "medium", "2.1.0", ">=2.2"),
    ]


def test_da103_leaves_two_pins_to_da102_and_compatible_ranges_alone() -> None:
    training = [pkg("pandas", version="2.0.0"), pkg("numpy", specifier=">=1.24")]
    serving = [pkg("pandas", version="2.1.0"), pkg("numpy", specifier="<2")]
    assert run(incompatible_specifiers.RULE, training, serving) == []


def test_specifiers_from_several_files_are_intersected() -> None:
    # serving: >=1.0 in pyproject and <1.5 in requirements -> <1.5,>=1.0 vs training >=1.6
    training = [pkg("xgboost", specifier=">=1.6")]
    serving = [
        pkg("xgboost", specifier=">=1.0", file="pyproject.toml"),
        pkg("xgboost", specifier="<1.5", file="requirements.txt"),
    ]
    found = run(incompatible_specifiers.RULE, training, serving)
    assert summary(found) == [("DA103", "drift", "xgboost", "medium", ">=1.6", "<1.5,>=1.0")]


def test_constraint_entries_only_constrain_and_are_ignored() -> None:
    training = [pkg("scipy", specifier=">=1.11")]
    serving = [pkg("scipy", specifier="<1.10", group="constraints", file="constraints.txt")]
    assert run(incompatible_specifiers.RULE, training, serving) == []
    assert run(one_sided_package.RULE, training, serving)[0].status == "training_only"


# ------------------------------------------------------------------------------ DA104 / DA105


def test_da104_same_pin_same_range_and_compatible_ranges() -> None:
    training = [
        pkg("numpy", version="1.26.4"),
        pkg("pydantic", specifier=">=2,<3"),
        pkg("joblib", specifier=">=1.2"),
    ]
    serving = [
        pkg("numpy", version="1.26.4"),
        pkg("pydantic", specifier="<3,>=2"),
        pkg("joblib", specifier="<2"),
    ]
    found = run(shared_package.RULE, training, serving)
    assert summary(found) == [
        ("DA104", "shared", "joblib", "info", ">=1.2", "<2"),
        ("DA104", "shared", "numpy", "info", "1.26.4", "1.26.4"),
        ("DA104", "shared", "pydantic", "info", "<3,>=2", "<3,>=2"),
    ]
    assert "compatible" in found[0].message and "same version" in found[1].message


def test_da104_skips_drift() -> None:
    training = [pkg("numpy", version="1.26.4"), pkg("pandas", specifier="<2")]
    serving = [pkg("numpy", version="1.26.3"), pkg("pandas", specifier=">=2")]
    assert run(shared_package.RULE, training, serving) == []


def test_da105_one_sided_direct_packages_without_duplicating_da101() -> None:
    training = [
        pkg("optuna", specifier=">=3"),
        pkg("lightgbm", specifier=">=4"),
        pkg("colorama", version="0.4.6", direct=False, file="poetry.lock"),
    ]
    serving = [
        pkg("lightgbm", specifier=">=4"),
        pkg("fastapi"),
        pkg("wandb"),  # a leftover: DA101 reports it, DA105 stays quiet
        pkg("anyio", version="4.2.0", direct=False, file="poetry.lock"),
    ]
    assert summary(run(one_sided_package.RULE, training, serving)) == [
        ("DA105", "training_only", "optuna", "info", ">=3", ""),
        ("DA105", "serving_only", "fastapi", "info", "", "*"),
    ]
    allowed = run(one_sided_package.RULE, training, serving, {"DA101": ("wandb",)})
    assert ("serving_only", "wandb") in [(f.status, f.item) for f in allowed]


def test_names_are_canonicalised_across_sides() -> None:
    training = [pkg("Scikit_Learn", version="1.4.0")]
    serving = [pkg("scikit-learn", version="1.4.0")]
    assert [f.item for f in run(shared_package.RULE, training, serving)] == ["scikit-learn"]


def test_da104_a_training_only_package_on_both_sides_is_a_leftover_not_shared() -> None:
    both = [pkg("wandb"), pkg("Ray", extras=("tune",), specifier=">=2")]
    assert run(shared_package.RULE, both, both) == []
    # allowed in serving, it is tolerated, not good news: nothing is said of it
    assert run(shared_package.RULE, both, both, {"DA101": ("WandB",)}) == []


def test_a_leftover_pinned_apart_is_one_row_not_also_drift() -> None:
    """mlflow 2.9.2 in training, 2.8.0 in serving: it should leave serving (DA101); its
    version drift (DA102) or excluding ranges (DA103) would be a second row for it."""
    training = [pkg("mlflow", specifier="==2.9.2", version="2.9.2", file="training/req.txt")]
    serving = [pkg("mlflow", specifier="==2.8.0", version="2.8.0", file="serving/req.txt")]
    assert [f.rule for f in run(training_package_in_serving.RULE, training, serving)] == ["DA101"]
    assert run(pinned_version_drift.RULE, training, serving) == []
    ranges_t = [pkg("mlflow", specifier=">=2.9", file="training/req.txt")]
    ranges_s = [pkg("mlflow", specifier="<2.9", file="serving/req.txt")]
    assert run(incompatible_specifiers.RULE, ranges_t, ranges_s) == []
    # a package that is not a leftover still drifts
    torch_t = [pkg("torch", specifier="==2.1.0", version="2.1.0", file="training/req.txt")]
    torch_s = [pkg("torch", specifier="==2.0.1", version="2.0.1", file="serving/req.txt")]
    assert [f.item for f in run(pinned_version_drift.RULE, torch_t, torch_s)] == ["torch"]
