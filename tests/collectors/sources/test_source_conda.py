from __future__ import annotations

import pytest

from depaudit.collectors.sources.conda import SOURCE
from depaudit.model import (
    ConfigEntry,
    Include,
    NetworkTarget,
    Package,
    ParseError,
    Runtime,
    SystemPackage,
)

PATH = "training/environment.yml"

ENVIRONMENT = """\
name: churn-train
channels:
  - pytorch
  - nvidia
  - conda-forge
  - https://ml:conda-channel-token@conda.corp.example/ml
dependencies:
  - python=3.10
  - numpy=1.26
  - pandas==2.1.4
  - pytorch::pytorch>=2.1
  - cudatoolkit=11.8
  - nvidia::cuda-nvcc 12.1.105 0
  - libgcc-ng>=12
  - scikit-learn 1.4.* py310h_0
  - py-xgboost=2.0.3=cuda118_py310
  - pip
  - pip:
      - --extra-index-url https://__token__:pip-section-token@pypi.corp.example/simple
      - -r requirements-train.txt
      - wandb==0.16.3
      - mlflow[extras]>=2.10
variables:
  WANDB_API_KEY: 0123456789abcdef0123456789abcdef
  OMP_NUM_THREADS: "8"
"""


def test_conda_environment_with_pip_section_and_cuda() -> None:
    result = SOURCE.parse(ENVIRONMENT, PATH)
    assert [f for f in result if isinstance(f, ParseError)] == []
    assert [f for f in result if isinstance(f, Runtime)] == [
        Runtime("python", "3.10", PATH, 8, detail="conda"),
        Runtime("cuda", "11.8", PATH, 12, detail="runtime"),
        Runtime("cuda", "12.1.105", PATH, 13, detail="devel"),
    ]
    assert [f for f in result if isinstance(f, SystemPackage)] == [
        SystemPackage("cudatoolkit", PATH, 12, manager="conda", version="11.8"),
        SystemPackage("cuda-nvcc", PATH, 13, manager="conda", version="12.1.105"),
        SystemPackage("libgcc-ng", PATH, 14, manager="conda", version=">=12"),
    ]
    got = [
        (f.name, f.specifier, f.version, f.manager, f.line)
        for f in result
        if isinstance(f, Package)
    ]
    assert got == [
        ("numpy", "==1.26.*", "", "conda", 9),  # conda "=1.26" is fuzzy: 1.26.*
        ("pandas", "==2.1.4", "2.1.4", "conda", 10),
        ("torch", ">=2.1", "", "conda", 11),  # conda's pytorch is PyPI's torch
        ("scikit-learn", "==1.4.*", "", "conda", 15),
        ("xgboost", "==2.0.3", "2.0.3", "conda", 16),  # a build string makes it exact
        ("pip", "", "", "conda", 17),
        ("wandb", "==0.16.3", "0.16.3", "pip", 21),
        ("mlflow", ">=2.10", "", "pip", 22),
    ]
    assert [f for f in result if isinstance(f, Include)] == [
        Include("requirements-train.txt", PATH, 20)
    ]
    assert [f for f in result if isinstance(f, NetworkTarget)] == [
        NetworkTarget(
            "https://pypi.corp.example/simple", "index", PATH, 19, key="--extra-index-url"
        ),
        NetworkTarget("https://conda.corp.example/ml", "index", PATH, 6, key="channels"),
    ]
    config = [f for f in result if isinstance(f, ConfigEntry)]
    assert [(c.key, c.secret, c.line) for c in config] == [
        ("variables.WANDB_API_KEY", True, 24),
        ("variables.OMP_NUM_THREADS", False, 25),
    ]
    shown = repr(result)
    for secret in ("conda-channel-token", "pip-section-token", "0123456789abcdef"):
        assert secret not in shown


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("environment.yml", True),
        ("envs/environment.yaml", True),
        ("conda-gpu.yml", True),
        ("training/train-environment.yml", True),
        ("k8s/deployment.yaml", False),
        ("config/serving.yaml", False),
        (".github/workflows/ci.yml", False),
        ("environment.txt", False),
    ],
)
def test_matches_only_environment_file_names(path: str, expected: bool) -> None:
    assert SOURCE.matches(path) is expected


def test_environment_named_yaml_without_dependencies_is_read_as_config() -> None:
    config_files = pytest.importorskip("depaudit.collectors.sources.config_files")
    text = "database:\n  host: db.internal\n  password: hunter2-not-conda\n"
    path = "config/environments.yaml"
    result = SOURCE.parse(text, path)
    assert result == config_files.SOURCE.parse(text, path)
    assert any(isinstance(f, ConfigEntry) and f.key == "database.host" for f in result)
    assert not any(isinstance(f, Package | ParseError | Runtime) for f in result)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("dependencies:\n  - numpy\n  - [oops\n", 4),  # PyYAML reports the end of the flow
        ("dependencies: 5\n", 1),
        ("dependencies:\n  - 7\n", 2),
        ("dependencies:\n  - pip: numpy\n", 2),
    ],
)
def test_bad_documents_are_errors(text: str, line: int) -> None:
    result = SOURCE.parse(text, PATH)
    errors = [f for f in result if isinstance(f, ParseError)]
    assert errors and errors[0].line == line and "\n" not in errors[0].message


def test_alias_bomb_is_rejected() -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        lines.append(f"{chr(97 + i)}: &{chr(97 + i)} [" + ",".join([f"*{chr(96 + i)}"] * 9) + "]")
    text = "\n".join(lines) + "\ndependencies:\n  - *i\n"
    result = SOURCE.parse(text, PATH)
    assert len(result.facts) == 1 and isinstance(result.facts[0], ParseError)


@pytest.mark.parametrize("text", ["\x00\x01", "dependencies:\n" + "  - numpy\n" * 1_100_000])
def test_binary_and_huge_files_are_errors(text: str) -> None:
    result = SOURCE.parse(text, PATH)
    assert len(result.facts) == 1 and isinstance(result.facts[0], ParseError)
