"""pyproject.toml and Pipfile edits through tomlkit: the rest of the file stays as written."""

from __future__ import annotations

from depaudit.collectors.sources.pipfile import SOURCE as PIPFILE
from depaudit.collectors.sources.pyproject import SOURCE as PYPROJECT
from depaudit.model import Package
from depaudit.split.toml_edit import TomlOp, edit_toml

POETRY = """\
[tool.poetry]
name = "churn-online"
version = "0.2.0"

[tool.poetry.dependencies]
python = "^3.10"
falcon = "^3.1"          # the WSGI app
lightgbm = { version = "^4.0", extras = ["pandas"] }
scipy = '<1.12'
wandb = "^0.16"

[tool.poetry.group.experiments.dependencies]
optuna = "^3.4"

[tool.poetry.group.dev.dependencies]
pytest = "^7.4"
optuna = "^3.4"
"""


def facts(text: str, path: str = "realtime/pyproject.toml") -> list[Package]:
    return [f for f in PYPROJECT.parse(text, path).facts if isinstance(f, Package)]


def test_poetry_tables_keep_comments_quotes_and_other_groups() -> None:
    result = edit_toml(
        POETRY,
        "realtime/pyproject.toml",
        [
            TomlOp("remove", "wandb", 10, "", "poetry"),
            TomlOp("remove", "optuna", 13, "experiments", "poetry"),
            TomlOp("pin", "scipy", 9, "", "poetry", "==1.12.0"),
            TomlOp("pin", "lightgbm", 8, "", "poetry", "==4.2.0"),
        ],
    )
    assert result.flags == []
    assert result.text == (
        POETRY.replace('wandb = "^0.16"\n', "")
        .replace(
            '[tool.poetry.group.experiments.dependencies]\noptuna = "^3.4"\n',
            "[tool.poetry.group.experiments.dependencies]\n",
        )
        .replace("scipy = '<1.12'", "scipy = '1.12.0'")
        .replace('version = "^4.0"', 'version = "4.2.0"')
    )
    read = {(f.name, f.group): f for f in facts(result.text)}
    assert read[("scipy", "")].version == "1.12.0"
    assert read[("lightgbm", "")].extras == ("pandas",)
    assert ("optuna", "dev") in read  # a dev group is not what serving installs: untouched


PEP621 = """\
[project]
name = "fraud-api"
dependencies = [
    "fastapi>=0.110",  # web
    "scikit-learn==1.3.0",
    "mlflow>=2.9",
]

[project.optional-dependencies]
monitoring = ["evidently", "wandb"]

[dependency-groups]
train = ["optuna>=3"]
"""


def test_pep621_lists_extras_and_dependency_groups() -> None:
    result = edit_toml(
        PEP621,
        "api/pyproject.toml",
        [
            TomlOp("remove", "mlflow", 6),
            TomlOp("pin", "scikit-learn", 5, spec="==1.3.2"),
            TomlOp("remove", "wandb", 10, "monitoring"),
            TomlOp("remove", "optuna", 13, "train"),
            TomlOp("add", "pyyaml", spec="==6.0.1"),
        ],
    )
    assert result.flags == []
    assert result.text == (
        PEP621.replace('    "mlflow>=2.9",\n', '    "pyyaml==6.0.1",\n')
        .replace("scikit-learn==1.3.0", "scikit-learn==1.3.2")
        .replace('["evidently", "wandb"]', '["evidently"]')
        .replace('["optuna>=3"]', "[]")
    )
    names = {(f.name, f.group) for f in facts(result.text, "api/pyproject.toml")}
    assert names == {
        ("fastapi", ""),
        ("scikit-learn", ""),
        ("pyyaml", ""),
        ("evidently", "monitoring"),
    }


def test_pipfile() -> None:
    text = '[packages]\nfastapi = "*"\nwandb = "==0.16.3"\nnumpy = {version = "==1.26.0"}\n\n[dev-packages]\npytest = "*"\n'
    result = edit_toml(
        text,
        "serving/Pipfile",
        [TomlOp("remove", "wandb", 3), TomlOp("pin", "numpy", 4, spec="==1.26.4")],
        pipfile=True,
    )
    assert result.text == text.replace('wandb = "==0.16.3"\n', "").replace("==1.26.0", "==1.26.4")
    read = {
        f.name: f
        for f in PIPFILE.parse(result.text, "serving/Pipfile").facts
        if isinstance(f, Package)
    }
    assert set(read) == {"fastapi", "numpy", "pytest"}
    assert read["numpy"].version == "1.26.4"


def test_what_cannot_be_pinned_is_flagged() -> None:
    text = '[tool.poetry.dependencies]\nmylib = { git = "https://github.com/acme/mylib.git" }\n'
    result = edit_toml(text, "pyproject.toml", [TomlOp("pin", "mylib", 2, "", "poetry", "==1.0")])
    assert result.text == text
    assert [f.reason for f in result.flags] == ["url"]


def test_an_unreadable_file_is_left_untouched_and_named() -> None:
    text = '[project]\ndependencies = ["wandb",\n'
    result = edit_toml(text, "api/pyproject.toml", [TomlOp("remove", "wandb", 2)])
    assert result.text == text
    assert [(f.reason, f.file) for f in result.flags] == [("unparseable", "api/pyproject.toml")]
