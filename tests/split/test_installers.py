"""Finding and editing a spec's ``pip install -r`` (compose, Kubernetes, SkyPilot, Anyscale,
CodeBuild): the commands the collectors read as config values and entrypoints."""

from __future__ import annotations

import pytest

from depaudit.model import ConfigEntry, Entrypoint, EnvironmentSnapshot
from depaudit.split.command_edit import CommandOp, edit_commands, repoint_all
from depaudit.split.installers import (
    CommandInstaller,
    command_installers,
    names_path,
    requirement_targets,
    spec_files,
)


@pytest.mark.parametrize(
    ("command", "targets"),
    [
        ("python3 -m pip install -r requirements.txt", ["requirements.txt"]),
        ("pip install --no-cache-dir --requirement=deploy/req.txt", ["deploy/req.txt"]),
        ("pip3 install -rrequirements.txt && uvicorn app:app", ["requirements.txt"]),
        ("uv pip install -r 'serving reqs.txt'", ["serving reqs.txt"]),
        ('echo "Begin setup."\npip install -r requirements.txt\n', ["requirements.txt"]),
        # a JSON / YAML list joined by spaces, as compose and Kubernetes commands are
        (
            '["sh", "-c", "pip install -r requirements.txt && python serve.py"]',
            ["requirements.txt"],
        ),
        ("conda env create -f environment.yml", []),  # not pip
        ("grep -r requirements.txt .", []),  # -r of another program
        ('pip install -r "unterminated', ["unterminated"]),  # shlex fails: words still read
    ],
)
def test_requirement_targets(command: str, targets: list[str]) -> None:
    assert requirement_targets(command) == targets


@pytest.mark.parametrize(
    ("target", "spec", "path", "expected"),
    [
        ("requirements.txt", "serving/sky.yaml", "requirements.txt", True),  # from the root
        ("requirements.txt", "gradio/serve.yaml", "gradio/requirements.txt", True),  # beside
        ("../requirements.txt", "k8s/api.yaml", "requirements.txt", True),
        (
            "$CODEBUILD_SRC_DIR/model/requirements.txt",
            "buildspec.yml",
            "model/requirements.txt",
            True,
        ),
        ("${SRC}/requirements.txt", "ci.yml", "requirements.txt", True),
        ("/app/requirements.txt", "k8s/api.yaml", "app/requirements.txt", False),  # image path
        ("$HOME/x/requirements.txt", "ci.yml", "x/requirements.txt", True),
        ("requirements-dev.txt", "ci.yml", "requirements.txt", False),
    ],
)
def test_names_path(target: str, spec: str, path: str, expected: bool) -> None:
    assert names_path(target, spec, path) is expected


def serving(*facts: object) -> EnvironmentSnapshot:
    return EnvironmentSnapshot("api", "serving", "convention", facts=tuple(facts))  # type: ignore[arg-type]


def test_command_installers_of_paths_and_urls() -> None:
    env = serving(
        ConfigEntry("setup", 'echo "go"\npip install -r requirements.txt\n', "api/sky.yaml", 5),
        ConfigEntry(
            "post_build_cmds[1]",
            "python3 -m pip install -r https://raw.githubusercontent.com/o/r/main/requirements.txt",
            "deploy/cluster_env.yaml",
            12,
        ),
        ConfigEntry(
            "post_build_cmds[2]",
            "pip install -r https://example.com/other/requirements-gpu.txt",
            "deploy/cluster_env.yaml",
            13,
        ),
        Entrypoint("sh -c pip install -r requirements.txt && uvicorn app:app", "k8s/api.yaml", 20),
        # code is not a spec: a string in Python is not a command serving runs
        ConfigEntry("CMD", "pip install -r requirements.txt", "api/tasks.py", 3),
        ConfigEntry("password", "pip install -r requirements.txt", "api/.env", 1, secret=True),
    )
    assert command_installers(env, "requirements.txt") == [
        CommandInstaller("api/sky.yaml", 5, 3, "requirements.txt", "path"),
        CommandInstaller(
            "deploy/cluster_env.yaml",
            12,
            1,
            "https://raw.githubusercontent.com/o/r/main/requirements.txt",
            "url",
        ),
        CommandInstaller("k8s/api.yaml", 20, 1, "requirements.txt", "path"),
    ]
    assert spec_files(env) == {"api/sky.yaml", "deploy/cluster_env.yaml", "k8s/api.yaml"}


SKY = """\
name: churn-api
workdir: .
setup: |
  echo "Begin setup."
  pip install -r requirements.txt  # pinned deps
run: |
  uvicorn serving.app:app --host 0.0.0.0 --port 8080
"""


def test_edit_commands_changes_one_word_of_one_line() -> None:
    result = edit_commands(
        SKY, "serving/sky.yaml", [CommandOp(3, 3, "requirements.txt", "requirements-api.txt")]
    )
    assert result.text == SKY.replace("-r requirements.txt  #", "-r requirements-api.txt  #")
    assert [(c.action, c.line, c.before, c.after) for c in result.changes] == [
        ("include", 5, "requirements.txt", "requirements-api.txt")
    ]
    assert result.flags == []


@pytest.mark.parametrize(
    ("text", "op"),
    [
        # twice in the value: which one serving runs is not the editor's guess
        (
            "setup: |\n  pip install -r requirements.txt\n  pip install -r requirements.txt\n",
            CommandOp(1, 3, "requirements.txt", "r2.txt"),
        ),
        # not in the value's lines
        (
            "setup: echo hi\nrun: pip install -r requirements.txt\n",
            CommandOp(1, 1, "requirements.txt", "r2.txt"),
        ),
        # a longer name that only starts like it
        (
            "setup: pip install -r requirements.txt.bak\n",
            CommandOp(1, 1, "requirements.txt", "r2.txt"),
        ),
    ],
)
def test_edit_commands_flags_what_is_not_exactly_one_include(text: str, op: CommandOp) -> None:
    result = edit_commands(text, "sky.yaml", [op])
    assert result.text == text
    assert [f.reason for f in result.flags] == ["not_safe"]


def test_repoint_all_is_what_a_reader_of_the_edited_spec_sees() -> None:
    value = "pip install -r requirements.txt -c constraints.txt; cat requirements.txt"
    assert (
        repoint_all(value, "requirements.txt", "requirements-api.txt")
        == "pip install -r requirements-api.txt -c constraints.txt; cat requirements.txt"
    )
