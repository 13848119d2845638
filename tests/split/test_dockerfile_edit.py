"""Dockerfile edits: package words of pip installs, the devel base image, repointed files.

Each result is also read back with depaudit's Dockerfile collector: what the image
installs changes only as intended.
"""

from __future__ import annotations

import pytest

from depaudit.collectors.sources.dockerfile import SOURCE
from depaudit.model import Include, Package, Runtime
from depaudit.split.dockerfile_edit import DockerOp, edit_dockerfile


def installed(text: str) -> set[str]:
    facts = SOURCE.parse(text, "serving/Dockerfile").facts
    return {f.name for f in facts if isinstance(f, Package) and f.manager != "image"}


@pytest.mark.parametrize(
    ("before", "ops", "after"),
    [
        (  # one word of a one-line install
            "FROM python:3.11-slim\nRUN pip install --no-cache-dir fastapi==0.110.0 wandb==0.16.3 uvicorn\n",
            [DockerOp("remove", "wandb", 2)],
            "FROM python:3.11-slim\nRUN pip install --no-cache-dir fastapi==0.110.0 uvicorn\n",
        ),
        (  # a word alone on a continued line: the line goes
            'FROM python:3.11-slim\nRUN pip install \\\n    fastapi \\\n    optuna \\\n    uvicorn\nCMD ["uvicorn", "app:app"]\n',
            [DockerOp("remove", "optuna", 4)],
            'FROM python:3.11-slim\nRUN pip install \\\n    fastapi \\\n    uvicorn\nCMD ["uvicorn", "app:app"]\n',
        ),
        (  # the last continued line: the new last line loses its backslash
            'FROM python:3.11-slim\nRUN pip install \\\n    fastapi \\\n    wandb\nCMD ["uvicorn", "app:app"]\n',
            [DockerOp("remove", "wandb", 4)],
            'FROM python:3.11-slim\nRUN pip install \\\n    fastapi\nCMD ["uvicorn", "app:app"]\n',
        ),
        (  # nothing left to install: the command goes, the chain stays
            "FROM python:3.11-slim\nRUN pip install -r requirements.txt && \\\n    pip install optuna wandb\n",
            [DockerOp("remove", "wandb", 3), DockerOp("remove", "optuna", 3)],
            "FROM python:3.11-slim\nRUN pip install -r requirements.txt\n",
        ),
        (  # ... first in the chain
            "FROM python:3.11-slim\nRUN pip install jupyter && apt-get clean\n",
            [DockerOp("remove", "jupyter", 2)],
            "FROM python:3.11-slim\nRUN apt-get clean\n",
        ),
        (  # nothing left in the RUN: the instruction goes, comments stay
            "FROM python:3.11-slim\n# experiment tracking\nRUN pip install wandb\nCOPY . .\n",
            [DockerOp("remove", "wandb", 3)],
            "FROM python:3.11-slim\n# experiment tracking\nCOPY . .\n",
        ),
        (  # pins keep the quoting
            "FROM python:3.11-slim\nRUN pip install 'scikit-learn>=1.2' torch\n",
            [DockerOp("pin", "scikit-learn", 2, "==1.3.2"), DockerOp("pin", "torch", 2, "==2.1.0")],
            "FROM python:3.11-slim\nRUN pip install 'scikit-learn==1.3.2' torch==2.1.0\n",
        ),
        (  # python -m pip and uv pip
            "FROM python:3.11-slim\nRUN python -m pip install optuna fastapi && uv pip install --system wandb numpy\n",
            [DockerOp("remove", "optuna", 2), DockerOp("remove", "wandb", 2)],
            "FROM python:3.11-slim\nRUN python -m pip install fastapi && uv pip install --system numpy\n",
        ),
    ],
)
def test_run_edits(before: str, ops: list[DockerOp], after: str) -> None:
    result = edit_dockerfile(before, "serving/Dockerfile", ops)
    assert result.flags == []
    assert result.text == after
    removed = {op.name for op in ops if op.kind == "remove"}
    assert installed(after) == installed(before) - removed


def test_devel_image_becomes_the_runtime_image_of_the_same_cuda() -> None:
    before = "ARG X=1\nFROM nvidia/cuda:12.1.0-cudnn8-devel-ubuntu22.04\nRUN echo\n"
    result = edit_dockerfile(before, "api/Dockerfile", [DockerOp("runtime", "cuda", 2)])
    assert result.text == before.replace("-devel-", "-runtime-")
    cuda = [
        f
        for f in SOURCE.parse(result.text, "api/Dockerfile").facts
        if isinstance(f, Runtime) and f.item == "cuda"
    ]
    assert cuda and "devel" not in cuda[0].detail
    assert result.changes[0].after == "nvidia/cuda:12.1.0-cudnn8-runtime-ubuntu22.04"


@pytest.mark.parametrize(
    ("before", "op"),
    [
        (
            "FROM python:3.11\nRUN pip install $(cat extra.txt) wandb\n",
            DockerOp("remove", "wandb", 2),
        ),
        ("FROM python:3.11\nRUN pip install wandb || true\n", DockerOp("remove", "wandb", 2)),
        ('FROM python:3.11\nRUN ["pip", "install", "wandb"]\n', DockerOp("remove", "wandb", 2)),
        ("FROM python:3.11\nRUN <<EOF\npip install wandb\nEOF\n", DockerOp("remove", "wandb", 2)),
        ("# escape=`\nFROM python:3.11\nRUN pip install wandb\n", DockerOp("remove", "wandb", 3)),
        ("FROM nvcr.io/nvidia/pytorch:23.10-py3\n", DockerOp("runtime", "cuda", 1)),
    ],
)
def test_shell_it_does_not_read_is_flagged_and_left_alone(before: str, op: DockerOp) -> None:
    result = edit_dockerfile(before, "serving/Dockerfile", [op])
    assert result.text == before
    assert [f.reason for f in result.flags] == ["not_safe"]


def test_repoint_follows_copy_into_a_folder_but_not_a_renamed_copy() -> None:
    into_folder = "FROM python:3.11\nCOPY requirements/base.txt ./\nRUN pip install -r base.txt\n"
    result = edit_dockerfile(
        into_folder,
        "Dockerfile.serve",
        [DockerOp("repoint", old="requirements/base.txt", new="requirements/base-serving.txt")],
    )
    assert result.text == into_folder.replace("base.txt", "base-serving.txt")
    # a file destination of the same name takes the new name: the image keeps the
    # repository's names, so a `-r base.txt` inside another copied file still resolves
    same_name = "FROM python:3.11\nCOPY requirements/base.txt /app/base.txt\nRUN pip install -r /app/base.txt\n"
    result = edit_dockerfile(
        same_name,
        "Dockerfile.serve",
        [DockerOp("repoint", old="requirements/base.txt", new="requirements/base-serving.txt")],
    )
    assert result.text == same_name.replace("base.txt", "base-serving.txt")
    renamed = "FROM python:3.11\nCOPY requirements/base.txt /app/reqs.txt\nRUN pip install -r /app/reqs.txt\n"
    result = edit_dockerfile(
        renamed,
        "Dockerfile.serve",
        [DockerOp("repoint", old="requirements/base.txt", new="requirements/base-serving.txt")],
    )
    assert result.text == renamed.replace(
        "COPY requirements/base.txt", "COPY requirements/base-serving.txt"
    )
    includes = {
        f.target
        for f in SOURCE.parse(result.text, "Dockerfile.serve").facts
        if isinstance(f, Include)
    }
    assert includes == {"requirements/base-serving.txt"}


def test_repoint_follows_the_workdir_to_the_file_it_copied() -> None:
    before = (
        "FROM python:3.11-slim\n"
        "WORKDIR /srv\n"
        "COPY requirements.txt .\n"
        "COPY api/requirements.txt api/\n"
        "RUN pip install -r /srv/requirements.txt -r api/requirements.txt\n"
    )
    result = edit_dockerfile(
        before,
        "api/Dockerfile",
        [DockerOp("repoint", old="requirements.txt", new="requirements-api.txt")],
    )
    # api/requirements.txt has the same name but is another file: it keeps its name
    assert result.text == before.replace(
        "COPY requirements.txt .", "COPY requirements-api.txt ."
    ).replace("-r /srv/requirements.txt", "-r /srv/requirements-api.txt")
    assert [(c.line, c.before, c.after) for c in result.changes] == [
        (3, "requirements.txt", "requirements-api.txt"),
        (5, "/srv/requirements.txt", "/srv/requirements-api.txt"),
    ]


def test_programs_run_by_the_image() -> None:
    from depaudit.split.dockerfile_edit import programs_run

    text = (
        "FROM python:3.11-slim\n"
        'RUN pip install "dvc[gdrive]" && \\\n'
        "    DVC_NO_ANALYTICS=1 sudo dvc pull model.dvc\n"
        "RUN python -m mlflow.models --help; echo $(date)\n"
        'CMD ["uvicorn", "app:app"]\n'
    )
    assert programs_run(text) == [
        (2, "pip"),
        (2, "dvc"),
        (4, "python"),
        (4, "mlflow"),
        (4, "echo"),
        (5, "uvicorn"),
    ]
