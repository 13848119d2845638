from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from depaudit.collectors.sources.pyproject import SOURCE, poetry_specifier
from depaudit.model import Entrypoint, Package, ParseError, Runtime

PATH = "serving/pyproject.toml"

PEP621 = """\
[build-system]
requires = ["hatchling>=1.18"]
build-backend = "hatchling.build"

[project]
name = "churn-api"
version = "0.3.0"
requires-python = ">=3.10, <3.13"
dependencies = [
    "fastapi>=0.110",
    "scikit-learn==1.4.2",
    "pydantic[email]>=2 ; python_version >= '3.10'",
    "feature-store @ git+https://bot:ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/acme/fs.git@v1",
]

[project.optional-dependencies]
gpu = ["torch==2.2.1", "onnxruntime-gpu>=1.17"]
train = [
    "optuna>=3.5",
    "wandb",
]

[dependency-groups]
test = ["pytest>=8", "hypothesis>=6.100"]
lint = ["ruff"]
dev = [{include-group = "test"}, {include-group = "lint"}, "ipython"]
"""


def test_pep621_and_dependency_groups() -> None:
    result = SOURCE.parse(PEP621, PATH)
    assert [f for f in result if isinstance(f, ParseError)] == []
    assert [f for f in result if isinstance(f, Runtime)] == [
        Runtime("python", ">=3.10,<3.13", PATH, 8, detail="project.requires-python")
    ]
    got = [
        (f.name, f.group, f.specifier, f.version, f.line) for f in result if isinstance(f, Package)
    ]
    assert got == [
        ("fastapi", "", ">=0.110", "", 10),
        ("scikit-learn", "", "==1.4.2", "1.4.2", 11),
        ("pydantic", "", ">=2", "", 12),
        ("feature-store", "", "", "", 13),
        ("torch", "gpu", "==2.2.1", "2.2.1", 17),
        ("onnxruntime-gpu", "gpu", ">=1.17", "", 17),
        ("optuna", "train", ">=3.5", "", 19),
        ("wandb", "train", "", "", 20),
        ("pytest", "test", ">=8", "", 24),
        ("hypothesis", "test", ">=6.100", "", 24),
        ("ruff", "lint", "", "", 25),
        ("pytest", "dev", ">=8", "", 24),
        ("hypothesis", "dev", ">=6.100", "", 24),
        ("ruff", "dev", "", "", 25),
        ("ipython", "dev", "", "", 26),
    ]
    pydantic = next(f for f in result if isinstance(f, Package) and f.name == "pydantic")
    assert pydantic.extras == ("email",) and pydantic.marker == 'python_version >= "3.10"'
    assert "ghp_abcdef" not in repr(result)
    assert next(f for f in result if isinstance(f, Package) and f.name == "feature-store").url == (
        "git+https://github.com/acme/fs.git@v1"
    )


POETRY = """\
[tool.poetry]
name = "churn-model"
version = "0.1.0"

[tool.poetry.dependencies]
python = "^3.10"
pandas = "~2.1"
numpy = "^1.26.4"
"ruamel.yaml" = "*"
requests = { version = "^2.31", extras = ["socks"] }
torch = [
    { version = "2.2.1", markers = "sys_platform == 'linux'" },
    { version = "2.2.0", markers = "sys_platform == 'darwin'" },
]
internal-utils = { git = "https://github.com/acme/internal-utils.git", tag = "v0.4.0" }

[tool.poetry.group.train.dependencies]
optuna = "^3.5.0"
mlflow = ">=2.10,<3"

[tool.poetry.group.test]
optional = true

[tool.poetry.group.test.dependencies]
pytest = "^8.0"

[tool.poetry.dev-dependencies]
black = "24.2.0"
"""


def test_poetry_dependencies_groups_and_python() -> None:
    result = SOURCE.parse(POETRY, PATH)
    assert [f for f in result if isinstance(f, ParseError)] == []
    assert [f for f in result if isinstance(f, Runtime)] == [
        Runtime("python", ">=3.10,<4.0", PATH, 6, detail="tool.poetry.dependencies.python")
    ]
    got = [
        (f.name, f.group, f.specifier, f.version, f.line, f.marker)
        for f in result
        if isinstance(f, Package)
    ]
    assert got == [
        ("pandas", "", ">=2.1,<2.2", "", 7, ""),
        ("numpy", "", ">=1.26.4,<2.0.0", "", 8, ""),
        ("ruamel-yaml", "", "", "", 9, ""),
        ("requests", "", ">=2.31,<3.0", "", 10, ""),
        ("torch", "", "==2.2.1", "2.2.1", 11, 'sys_platform == "linux"'),
        ("torch", "", "==2.2.0", "2.2.0", 11, 'sys_platform == "darwin"'),
        ("internal-utils", "", "", "", 15, ""),
        ("black", "dev", "==24.2.0", "24.2.0", 28, ""),
        ("optuna", "train", ">=3.5.0,<4.0.0", "", 18, ""),
        ("mlflow", "train", ">=2.10,<3", "", 19, ""),
        ("pytest", "test", ">=8.0,<9.0", "", 25, ""),
    ]
    assert all(f.manager == "poetry" for f in result if isinstance(f, Package))
    utils = next(f for f in result if isinstance(f, Package) and f.name == "internal-utils")
    assert utils.url == "git+https://github.com/acme/internal-utils.git@v0.4.0"
    requests = next(f for f in result if isinstance(f, Package) and f.name == "requests")
    assert requests.extras == ("socks",)


@pytest.mark.parametrize(
    ("poetry", "pep440"),
    [
        ("^1.2.3", ">=1.2.3,<2.0.0"),
        ("^1.2", ">=1.2,<2.0"),
        ("^0.2.3", ">=0.2.3,<0.3.0"),
        ("^0.0.3", ">=0.0.3,<0.0.4"),
        ("^0", ">=0,<1"),
        ("~1.2.3", ">=1.2.3,<1.3.0"),
        ("~1.2", ">=1.2,<1.3"),
        ("~1", ">=1,<2"),
        ("~=1.4", "~=1.4"),
        ("*", ""),
        ("1.2.3", "==1.2.3"),
        ("1.2.*", "==1.2.*"),
        (">= 1.2, < 2.0", ">=1.2,<2.0"),
        (">=1.2 <2.0", ">=1.2,<2.0"),
        (">=1.2,!=1.5", ">=1.2,!=1.5"),
        ("^1.0 || ^2.0", ""),
    ],
)
def test_poetry_constraints_become_pep440(poetry: str, pep440: str) -> None:
    assert poetry_specifier(poetry) == pep440


def test_poetry2_does_not_duplicate_project_entries() -> None:
    text = '[project]\nname = "x"\ndependencies = ["numpy>=1.26"]\n\n[tool.poetry.dependencies]\nnumpy = { source = "corp" }\nscipy = "^1.12"\n'
    result = SOURCE.parse(text, PATH)
    assert [(f.name, f.manager) for f in result if isinstance(f, Package)] == [
        ("numpy", "pip"),
        ("scipy", "poetry"),
    ]


def test_truncated_toml_names_the_line() -> None:
    result = SOURCE.parse(PEP621[:260], PATH)
    assert len(result.facts) == 1
    error = result.facts[0]
    assert isinstance(error, ParseError) and error.message.startswith("invalid TOML")
    assert error.line > 0 and "\n" not in error.message


def test_wrong_types_are_errors_and_other_tables_still_read() -> None:
    text = (
        '[project]\nname = "x"\ndependencies = 5\nrequires-python = 3.10\n\n'
        '[project.optional-dependencies]\ngpu = "torch"\nok = ["numpy"]\n\n'
        '[dependency-groups]\ndev = [{include-group = "missing"}, 7]\n\n'
        '[tool.poetry.dependencies]\nbad = 42\nfine = "^1"\n'
    )
    result = SOURCE.parse(text, PATH)
    errors = [(f.message, f.line) for f in result if isinstance(f, ParseError)]
    assert errors == [
        ("project.dependencies must be a list of strings", 3),
        ("project.optional-dependencies.gpu must be a list of strings", 7),
        ("project.requires-python must be a string", 4),
        ("dependency-groups.dev: unknown entry {'include-group': 'missing'}", 11),
        ("dependency-groups.dev: unknown entry 7", 11),
        ("poetry dependency bad must be a string or a table", 14),
    ]
    assert [f.name for f in result if isinstance(f, Package)] == ["numpy", "fine"]


def test_include_group_cycle_is_an_error_not_a_hang() -> None:
    text = '[dependency-groups]\na = [{include-group = "b"}, "x"]\nb = [{include-group = "a"}]\n'
    result = SOURCE.parse(text, PATH)
    assert any(isinstance(f, ParseError) and "cycle" in f.message for f in result)
    assert {(f.name, f.group) for f in result if isinstance(f, Package)} == {("x", "a"), ("x", "b")}


@pytest.mark.parametrize(
    "text",
    [
        "\x00\x01binary",
        "a = " + "[" * 5000 + "]" * 5000,
        "[project]\ndependencies = ['" + "x" * 300_000 + " >>> 1']\n",
        'x = "' + "y" * 11_000_000 + '"',
    ],
    ids=["binary", "deep", "huge-requirement", "too-large"],
)
def test_broken_input_gives_errors_not_exceptions(text: str) -> None:
    result = SOURCE.parse(text, PATH)
    assert result.facts and all(isinstance(f, ParseError) for f in result)
    assert all(len(f.message) <= 300 for f in result if isinstance(f, ParseError))


def test_undecodable_bytes_from_the_builder_do_not_break_parsing() -> None:
    text = b"[project]\nname = '\xff\xfe'\ndependencies = ['numpy']\n".decode(
        "utf-8", "surrogateescape"
    )
    result = SOURCE.parse(text, PATH)
    assert [(f.name, f.line) for f in result if isinstance(f, Package)] == [("numpy", 3)]


def test_not_matching_other_toml() -> None:
    assert SOURCE.matches("pyproject.toml") and SOURCE.matches("serving/pyproject.toml")
    assert not SOURCE.matches("config/settings.toml") and not SOURCE.matches("pyproject.toml.bak")


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="[]=\" \n'{}.,abcdep^~*0123456789-<>", max_size=200))
def test_never_raises(text: str) -> None:
    SOURCE.parse("[project]\ndependencies = " + text, PATH)
    SOURCE.parse("[tool.poetry.dependencies]\n" + text, PATH)


def test_console_scripts_are_serving_entrypoints() -> None:
    text = (
        '[project]\nname = "fraud-api"\nversion = "1.0"\n\n'
        '[project.scripts]\nfraud-serve = "fraud_api.main:run"\nfraud-admin = "fraud_api.admin:cli"\n\n'
        '[tool.poetry.scripts]\nlegacy = { reference = "fraud_api.legacy:main", type = "console" }\n'
        "broken = 3\n"
    )
    facts = SOURCE.parse(text, "serving/pyproject.toml").facts
    entrypoints = sorted((f.module, f.line) for f in facts if isinstance(f, Entrypoint))
    assert entrypoints == [("fraud_api.admin", 7), ("fraud_api.legacy", 10), ("fraud_api.main", 6)]
    errors = [f for f in facts if isinstance(f, ParseError)]
    assert [e.message for e in errors] == [
        "tool.poetry.scripts.broken must be a string like 'pkg.module:function'"
    ]
