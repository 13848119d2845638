"""``-r`` / ``-c`` includes: followed whatever the target is called, cycles and gaps reported.

pip resolves ``-r base.txt`` relative to the including file and reads it as a
requirements file whatever its name; ``pip install -r`` in a Dockerfile does the same
through the build context. Field test 2026-12-04, item 2: targets were followed only
when their name looked like a requirements file, so ``-r base.txt`` lost its packages
and claimed the file was "not in this tree".
"""

from __future__ import annotations

import csv
import hashlib
import io
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from depaudit.collectors.snapshot import MAX_INCLUDE_DEPTH, snapshot_tree
from depaudit.collectors.tree import TreeEntry
from depaudit.model import EnvironmentSnapshot, Package, ParseError

DEPAUDIT = str(Path(sys.executable).parent / "depaudit")


class MemoryTree:
    """A tree held in memory: the snapshot builder only lists entries and reads blobs."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = {
            path: textwrap.dedent(text).lstrip("\n").encode() for path, text in files.items()
        }

    def entries(self) -> list[TreeEntry]:
        return [
            TreeEntry(path, hashlib.sha1(data).hexdigest(), len(data))
            for path, data in sorted(self.files.items())
        ]

    def read(self, entry: TreeEntry) -> bytes:
        return self.files[entry.path]


def environment(files: dict[str, str], name: str) -> EnvironmentSnapshot:
    snap = snapshot_tree(MemoryTree(files))
    return next(e for e in snap.environments if e.name == name)


def packages(env: EnvironmentSnapshot) -> dict[str, Package]:
    return {f.name: f for f in env.facts if isinstance(f, Package)}


def errors(env: EnvironmentSnapshot) -> list[ParseError]:
    return [f for f in env.facts if isinstance(f, ParseError)]


TRAINING = {"training/requirements.txt": "scikit-learn==1.3.2\n"}


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("base.txt", "serving/base.txt"),
        ("common.txt", "serving/common.txt"),
        ("prod", "serving/prod"),
        ("deps/shared.pip", "serving/deps/shared.pip"),
        ("../shared/core.lst", "shared/core.lst"),
        ("./pins.in.txt", "serving/pins.in.txt"),
    ],
)
def test_include_of_any_name_is_read_as_requirements(written: str, stored: str) -> None:
    env = environment(
        {
            **TRAINING,
            "serving/requirements.txt": f"-r {written}\nfastapi==0.110.0\n",
            stored: "# shared pins\nwandb==0.16.0\nscikit-learn==1.3.2 ; python_version >= '3.9'\n",
        },
        "serving",
    )
    found = packages(env)
    assert found["wandb"] == Package("wandb", stored, 2, specifier="==0.16.0", version="0.16.0")
    assert found["scikit-learn"].file == stored and found["scikit-learn"].line == 3
    assert found["fastapi"].file == "serving/requirements.txt"
    assert errors(env) == []


def test_include_relative_to_the_including_file_wins_over_the_root() -> None:
    env = environment(
        {
            **TRAINING,
            "serving/requirements.txt": "-r base.txt\n",
            "serving/base.txt": "torch==2.2.0\n",
            "base.txt": "torch==1.13.1\n",
        },
        "serving",
    )
    assert packages(env)["torch"].version == "2.2.0"


def test_constraints_file_pins_without_installing_and_its_r_lines_install() -> None:
    env = environment(
        {
            **TRAINING,
            "serving/requirements.txt": "-c common.txt\nnumpy\n",
            "serving/common.txt": "numpy==1.26.4\npandas==2.2.1\n-r extra.txt\n",
            "serving/extra.txt": "pyarrow==15.0.0\n",
        },
        "serving",
    )
    found = {(f.name, f.group) for f in env.facts if isinstance(f, Package)}
    assert found == {
        ("numpy", ""),
        ("numpy", "constraints"),
        ("pandas", "constraints"),
        ("pyarrow", ""),  # pip installs what a constraints file's -r names
    }


def test_dockerfile_pip_install_r_follows_the_copied_file_of_any_name() -> None:
    env = environment(
        {
            **TRAINING,
            "serving/Dockerfile": """
                FROM python:3.11-slim
                COPY serving/deps.lst /tmp/deps
                RUN pip install -r /tmp/deps
            """,
            "serving/deps.lst": "optuna==3.6.1\n",
        },
        "serving",
    )
    assert packages(env)["optuna"].file == "serving/deps.lst"
    assert errors(env) == []


@pytest.mark.parametrize(
    ("files", "cycle"),
    [
        (
            {
                "serving/requirements.txt": "-r a.txt\n",
                "serving/a.txt": "-r b\nx==1\n",
                "serving/b": "-r a.txt\ny==1\n",
            },
            "serving/a.txt -> serving/b -> serving/a.txt",
        ),
        (
            {"serving/requirements.txt": "-r common\n", "serving/common": "-c common\nz==1\n"},
            "serving/common -> serving/common",
        ),
        (
            {"serving/requirements.txt": "-r requirements.txt\nz==1\n"},
            "serving/requirements.txt -> serving/requirements.txt",
        ),
    ],
)
def test_include_cycle_is_one_error_and_every_package_is_kept(
    files: dict[str, str], cycle: str
) -> None:
    env = environment({**TRAINING, **files}, "serving")
    found = errors(env)
    assert len(found) == 1
    assert found[0].message == f"include cycle: {cycle}; not read again"
    expected = {
        line.split("==")[0] for text in files.values() for line in text.splitlines() if "==" in line
    }
    assert set(packages(env)) == expected


def test_missing_include_target_is_one_error_naming_it() -> None:
    env = environment(
        {**TRAINING, "serving/requirements.txt": "-r base.txt\n-r base.txt\nfastapi\n"},
        "serving",
    )
    assert errors(env) == [
        ParseError("serving/requirements.txt", "includes 'base.txt', which is not in this tree", 1),
        ParseError("serving/requirements.txt", "includes 'base.txt', which is not in this tree", 2),
    ]
    assert set(packages(env)) == {"fastapi"}


def test_include_chain_deeper_than_the_limit_is_cut_with_one_error() -> None:
    depth = MAX_INCLUDE_DEPTH + 2
    chain = {f"serving/level{i}": f"-r level{i + 1}\npkg{i}==1.0\n" for i in range(depth)}
    env = environment({**TRAINING, "serving/requirements.txt": "-r level0\n", **chain}, "serving")
    (error,) = errors(env)
    assert error.message.startswith(f"includes nested deeper than {MAX_INCLUDE_DEPTH}")
    assert len(packages(env)) == MAX_INCLUDE_DEPTH


def test_check_reports_the_included_training_package_as_a_leftover(tmp_path: Path) -> None:
    # the field test's reproduction, with other names
    files = {
        "trainer/requirements.txt": "xgboost==2.0.3\n",
        "api/requirements.txt": "-r common.txt\nflask==3.0.2\n",
        "api/common.txt": "mlflow==2.11.1\nxgboost==2.0.3\n",
    }
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    done = subprocess.run(
        [DEPAUDIT, "check", str(tmp_path), "-q", "--format", "csv", "--fail-on", "never"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = {
        (r["status"], r["rule"], r["item"], r["file"])
        for r in csv.DictReader(io.StringIO(done.stdout))
    }
    assert ("leftover", "DA101", "mlflow", "api/common.txt") in rows
    assert ("shared", "DA104", "xgboost", "api/common.txt") in rows
    assert not any(rule == "DA900" for _, rule, _, _ in rows)
