from __future__ import annotations

import pytest

from depaudit.collectors.sources.setup_cfg import SOURCE
from depaudit.model import Include, Package, ParseError, Runtime

PATH = "training/setup.cfg"

SETUP_CFG = """\
[metadata]
name = churn-trainer
version = attr: churn.__version__

[options]
packages = find:
python_requires = >=3.9
install_requires =
    numpy>=1.24
    # the model needs this exact version
    scikit-learn==1.4.2
    importlib-metadata; python_version<"3.10"

[options.extras_require]
train =
    optuna>=3
    wandb[media]
test = pytest>=8; hypothesis

[flake8]
max-line-length = 100
"""


def test_install_requires_extras_and_python_requires() -> None:
    result = SOURCE.parse(SETUP_CFG, PATH)
    assert [f for f in result if isinstance(f, ParseError)] == []
    assert [f for f in result if isinstance(f, Runtime)] == [
        Runtime("python", ">=3.9", PATH, 7, detail="python_requires")
    ]
    got = [
        (f.name, f.specifier, f.version, f.group, f.line, f.marker)
        for f in result
        if isinstance(f, Package)
    ]
    assert got == [
        ("numpy", ">=1.24", "", "", 9, ""),
        ("scikit-learn", "==1.4.2", "1.4.2", "", 11, ""),
        ("importlib-metadata", "", "", "", 12, 'python_version < "3.10"'),
        ("optuna", ">=3", "", "train", 16, ""),
        ("wandb", "", "", "train", 17, ""),
        ("pytest", ">=8", "", "test", 18, ""),
        ("hypothesis", "", "", "test", 18, ""),
    ]


def test_file_directive_becomes_an_include() -> None:
    text = "[options]\ninstall_requires = file: requirements/base.txt\n"
    assert SOURCE.parse(text, PATH).facts == (Include("requirements/base.txt", PATH, 2),)


def test_invalid_requirement_and_python_requires_are_errors() -> None:
    text = "[options]\npython_requires = 3.9+\ninstall_requires =\n    numpy>=1\n    scikit learn\n"
    result = SOURCE.parse(text, PATH)
    assert [f.line for f in result if isinstance(f, ParseError)] == [5, 2]
    assert [f.name for f in result if isinstance(f, Package)] == ["numpy"]


@pytest.mark.parametrize(
    "text",
    ["no section header\ninstall_requires = numpy\n", "\x00\x00", "[options\ninstall_requires = x"],
)
def test_broken_setup_cfg_is_one_error(text: str) -> None:
    result = SOURCE.parse(text, PATH)
    assert len(result.facts) == 1 and isinstance(result.facts[0], ParseError)
    assert "\n" not in result.facts[0].message


def test_matches_only_setup_cfg() -> None:
    assert SOURCE.matches("setup.cfg") and SOURCE.matches("pkg/setup.cfg")
    assert not SOURCE.matches("setup.py") and not SOURCE.matches("tox.ini")
