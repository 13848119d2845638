from __future__ import annotations

import pytest

from depaudit.collectors.sources.pipfile import SOURCE
from depaudit.model import NetworkTarget, Package, ParseError, Runtime

PATH = "api/Pipfile"

PIPFILE = """\
[[source]]
url = "https://pypi.org/simple"
verify_ssl = true
name = "pypi"

[[source]]
url = "https://ml-bot:pipfile-src-token@pypi.corp.example/simple"
verify_ssl = true
name = "corp"

[packages]
fastapi = "*"
numpy = "==1.26.4"
scikit-learn = ">=1.4,<1.5"
uvicorn = {extras = ["standard"], version = ">=0.29"}
Feature_Store = {git = "https://github.com/acme/feature-store.git", ref = "v1.3.0", editable = true}
torch = {version = "==2.2.1", index = "corp", markers = "sys_platform == 'linux'"}

[dev-packages]
pytest = ">=8"
jupyterlab = "*"

[docs]
mkdocs = "1.5.3"

[requires]
python_version = "3.11"

[scripts]
serve = "uvicorn api.app:app"
"""


def test_pipfile_packages_dev_packages_and_python() -> None:
    result = SOURCE.parse(PIPFILE, PATH)
    assert [f for f in result if isinstance(f, ParseError)] == []
    assert [f for f in result if isinstance(f, Runtime)] == [
        Runtime("python", "3.11", PATH, 27, detail="requires.python_version")
    ]
    got = [
        (f.name, f.specifier, f.version, f.group, f.line) for f in result if isinstance(f, Package)
    ]
    assert got == [
        ("fastapi", "", "", "", 12),
        ("numpy", "==1.26.4", "1.26.4", "", 13),
        ("scikit-learn", ">=1.4,<1.5", "", "", 14),
        ("uvicorn", ">=0.29", "", "", 15),
        ("feature-store", "", "", "", 16),
        ("torch", "==2.2.1", "2.2.1", "", 17),
        ("pytest", ">=8", "", "dev", 20),
        ("jupyterlab", "", "", "dev", 21),
        ("mkdocs", "==1.5.3", "1.5.3", "docs", 24),
    ]
    by_name = {f.name: f for f in result if isinstance(f, Package)}
    assert by_name["uvicorn"].extras == ("standard",)
    assert by_name["feature-store"].url == "git+https://github.com/acme/feature-store.git@v1.3.0"
    assert by_name["feature-store"].editable
    assert by_name["torch"].marker == 'sys_platform == "linux"'  # as packaging writes it
    assert all(f.manager == "pipenv" for f in by_name.values())
    assert [f for f in result if isinstance(f, NetworkTarget)] == [
        NetworkTarget("https://pypi.org/simple", "index", PATH, 2, key="source.url"),
        NetworkTarget("https://pypi.corp.example/simple", "index", PATH, 7, key="source.url"),
    ]
    assert "pipfile-src-token" not in repr(result)


def test_bad_entries_are_errors_and_the_rest_is_kept() -> None:
    text = '[packages]\nnumpy = 5\npandas = "=>2"\nrequests = "*"\n\n[dev-packages]\n'
    result = SOURCE.parse(text, PATH)
    assert [(f.line, f.message.split(":")[0]) for f in result if isinstance(f, ParseError)] == [
        (2, "numpy"),
        (3, "pandas"),
    ]
    assert [f.name for f in result if isinstance(f, Package)] == ["requests"]


def test_packages_of_the_wrong_type_is_an_error() -> None:
    result = SOURCE.parse('packages = ["numpy"]\n', PATH)
    assert result.facts == (ParseError(PATH, "packages must be a table", 1),)


@pytest.mark.parametrize(
    "text", ["[packages\nnumpy = '*'", "\x00PK\x03\x04", "[packages]\nnumpy = '"]
)
def test_broken_pipfile_is_one_error(text: str) -> None:
    result = SOURCE.parse(text, PATH)
    assert len(result.facts) == 1 and isinstance(result.facts[0], ParseError)


def test_matches_only_pipfile() -> None:
    assert SOURCE.matches("Pipfile") and SOURCE.matches("svc/Pipfile")
    assert not SOURCE.matches("Pipfile.lock") and not SOURCE.matches("pipfile.txt")
