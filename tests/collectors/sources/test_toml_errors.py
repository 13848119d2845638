"""Every error from a TOML file names its line (field test 2026-12-04, item 25).

``[x`` on line 1 of a ``.toml`` config gave ``DA900 ... invalid TOML: Expected ']' ...
(at line 1, column 3)`` with an empty ``line`` column and no SARIF region. Each broken
document below is written into every source that reads TOML (pyproject.toml, uv.lock,
poetry.lock, Pipfile, a .toml config), after a few valid lines, and the error must
carry the line where the file breaks.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from depaudit.collectors.sources import source_for
from depaudit.model import ParseError

DEPAUDIT = str(Path(sys.executable).parent / "depaudit")

TOML_PATHS = ["svc/pyproject.toml", "uv.lock", "svc/poetry.lock", "Pipfile", "conf/serving.toml"]

# (name, document, line of the error); every document starts with three valid lines
HEAD = '# generated\nversion = 1\nrequires-python = ">=3.10"\n'
BROKEN = [
    ("unclosed header", HEAD + "[tool\nname = 1\n", 4),
    ("value missing", HEAD + "answer =\nother = 2\n", 4),
    ("table twice", HEAD + "[t]\na = 1\n[t]\nb = 2\n", 6),
    ("key twice", HEAD + "[t]\na = 1\na = 2\n", 6),
    ("unterminated string at the end", HEAD + 'name = "svc\n', 4),
    ("input ends inside an array", HEAD + "deps = [\n  'a',\n", 5),
    ("nested far too deep", HEAD + "\nx = " + "[" * 1500 + "]" * 1500 + "\n", 5),
    ("dotted key too long", HEAD + "a" + ".a" * 2100 + " = 1\n", 4),
]


@pytest.mark.parametrize("path", TOML_PATHS)
@pytest.mark.parametrize(("name", "text", "line"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_toml_error_names_the_line(path: str, name: str, text: str, line: int) -> None:
    source = source_for(path)
    assert source is not None
    errors = [f for f in source.parse(text, path) if isinstance(f, ParseError)]
    assert len(errors) == 1, errors
    assert errors[0].message.startswith("invalid TOML: ")
    assert errors[0].line == line, errors[0]


@pytest.mark.parametrize(
    ("path", "text", "line"),
    [
        ("svc/pyproject.toml", "# svc\n\nproject = 3\n[tool.black]\nline-length = 100\n", 3),
        ("svc/pyproject.toml", "[project]\nname = 'svc'\n\n[dependency-groups]\n\n", 0),
        ("svc/pyproject.toml", "# svc\ndependency-groups = 1\n[project]\nname = 'svc'\n", 2),
        ("uv.lock", "version = 1\nrequires-python = '>=3.10'\n[package]\nname = 'x'\n", 3),
        ("svc/poetry.lock", "# poetry\n\npackage = 'x'\n", 3),
    ],
)
def test_wrong_shapes_name_their_line(path: str, text: str, line: int) -> None:
    source = source_for(path)
    assert source is not None
    errors = [f for f in source.parse(text, path) if isinstance(f, ParseError)]
    if line == 0:
        assert errors == []  # an empty table is fine
    else:
        assert [e.line for e in errors] == [line], errors


def test_config_bounds_name_their_line() -> None:
    source = source_for("conf/serving.toml")
    assert source is not None
    deep = "a = 1\n\n[" + ".".join(f"t{i}" for i in range(70)) + "]\nk = 1\n"
    (error,) = source.parse(deep, "conf/serving.toml")
    assert isinstance(error, ParseError) and error.line == 3
    assert error.message == "nested deeper than 64 levels"
    many = "".join(f"feature_{i} = {i}\n" for i in range(5003))
    (error,) = source.parse(many, "conf/serving.toml")
    assert isinstance(error, ParseError) and error.line == 5001
    assert error.message == "more than 5000 keys: a data file, not configuration"


def test_check_reports_the_line_in_csv_and_sarif(tmp_path: Path) -> None:
    files = {
        "trainer/requirements.txt": "lightgbm==4.3.0\n",
        "api/requirements.txt": "lightgbm==4.3.0\n",
        "api/settings.toml": "[server]\nport = 8080\n\n[db\nhost = 'x'\n",
    }
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)

    def check(fmt: str) -> str:
        done = subprocess.run(
            [DEPAUDIT, "check", str(tmp_path), "-q", "--format", fmt, "--fail-on", "never"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    rows = [r for r in csv.DictReader(io.StringIO(check("csv"))) if r["rule"] == "DA900"]
    assert [(r["file"], r["line"]) for r in rows] == [("api/settings.toml", "4")]
    sarif = json.loads(check("sarif"))
    results = [r for run in sarif["runs"] for r in run["results"] if r["ruleId"] == "DA900"]
    regions = [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results]
    assert regions == [4]
