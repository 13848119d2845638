"""Dockerfile source: stages, heredocs, ARG in FROM, installs, ENV/ARG, entrypoints, secrets."""

from __future__ import annotations

import pytest

from depaudit.collectors.sources.dockerfile import SOURCE, module_of_command
from depaudit.model import (
    ConfigEntry,
    Entrypoint,
    Include,
    NetworkTarget,
    Package,
    ParseError,
    Runtime,
    SystemPackage,
)

INDEX_TOKEN = "s3cr3tT0kenValue"
DB_PASSWORD = "hunter2hunter2"
WANDB_KEY = "abc123secretvalue0987"

MULTI_STAGE = f"""\
# syntax=docker/dockerfile:1.6
ARG BASE=python:3.11-slim
ARG PIP_TOKEN

FROM ${{BASE}} AS builder
WORKDIR /build
COPY requirements/serve.txt /tmp/req.txt
RUN --mount=type=cache,target=/root/.cache \\
    pip install --no-cache-dir \\
      --index-url https://ci:{INDEX_TOKEN}@pypi.internal.example.com/simple \\
      -r /tmp/req.txt \\
      "fastapi>=0.110,<1" uvicorn[standard]==0.29.0
RUN apt-get update && apt-get install -y --no-install-recommends build-essential=12.9 gcc \\
    && rm -rf /var/lib/apt/lists/*

FROM nvidia/cuda:12.1.0-cudnn8-devel-ubuntu22.04 AS unused
RUN pip install optuna

FROM ${{BASE}}
ENV MODEL_NAME=gpt2 \\
    WANDB_API_KEY={WANDB_KEY} \\
    DATABASE_URL=postgresql://app:{DB_PASSWORD}@db.internal:5432/features
ARG TORCH_VERSION=2.2.0
RUN <<EOF
set -e
pip install torch==${{TORCH_VERSION}}
apt-get install -y libgomp1
FROM evil:latest
EOF
COPY --from=builder /usr/local/lib/python3.11/site-packages /usr/local/lib/python3.11/site-packages
COPY requirements.txt serving/ /app/
EXPOSE 8000
ENTRYPOINT ["uvicorn"]
CMD ["serving.app:app", "--host", "0.0.0.0", "--port", "8000"]
"""
F = "docker/Dockerfile"


@pytest.fixture(scope="module")
def facts() -> list[object]:
    return list(SOURCE.parse(MULTI_STAGE, F))


def test_final_stage_base_image_resolved_from_global_arg(facts: list[object]) -> None:
    runtime = [f for f in facts if isinstance(f, Runtime)]
    assert runtime == [
        Runtime("base_image", "python:3.11-slim", F, 19),
        Runtime("os", "debian 12", F, 19, detail="inferred from image tag"),
        Runtime("python", "3.11", F, 19, detail="inferred from image tag"),
    ]


def test_unused_stage_does_not_count(facts: list[object]) -> None:
    names = {f.name for f in facts if isinstance(f, Package)}
    assert "optuna" not in names
    assert not any(isinstance(f, Runtime) and f.item == "cuda" for f in facts)


def test_builder_copied_from_counts_for_pip_only(facts: list[object]) -> None:
    packages = {f.name: f for f in facts if isinstance(f, Package)}
    assert packages["fastapi"] == Package("fastapi", F, 12, specifier=">=0.110,<1")
    assert packages["uvicorn"] == Package(
        "uvicorn", F, 12, specifier="==0.29.0", version="0.29.0", extras=("standard",)
    )
    # -r resolved back through the COPY to the build-context path
    assert Include("requirements/serve.txt", F, 11, kind="requirements") in facts
    assert NetworkTarget("https://pypi.internal.example.com/simple", "index", F, 10) in facts
    # the builder's apt packages do not ship
    assert "build-essential" not in {f.name for f in facts if isinstance(f, SystemPackage)}


def test_heredoc_run_is_read_as_script_and_not_as_instructions(facts: list[object]) -> None:
    assert Package("torch", F, 26, specifier="==2.2.0", version="2.2.0") in facts
    assert SystemPackage("libgomp1", F, 27) in facts
    # "FROM evil:latest" inside the heredoc is not a stage
    assert not any("evil" in repr(f) for f in facts)


def test_env_arg_expose_are_config_and_masked(facts: list[object]) -> None:
    config = {f.key: f for f in facts if isinstance(f, ConfigEntry)}
    assert config["ARG.BASE"] == ConfigEntry("ARG.BASE", "python:3.11-slim", F, 2)
    assert config["ARG.PIP_TOKEN"] == ConfigEntry("ARG.PIP_TOKEN", "", F, 3)
    assert config["ENV.MODEL_NAME"] == ConfigEntry("ENV.MODEL_NAME", "gpt2", F, 20)
    assert config["ENV.WANDB_API_KEY"].secret and config["ENV.WANDB_API_KEY"].line == 21
    assert config["ENV.DATABASE_URL"].value.startswith("postgresql://app:***masked:")
    assert config["ARG.TORCH_VERSION"] == ConfigEntry("ARG.TORCH_VERSION", "2.2.0", F, 23)
    assert config["EXPOSE"] == ConfigEntry("EXPOSE", "8000", F, 32)
    assert (
        NetworkTarget("postgresql://db.internal:5432/features", "dsn", F, 22, key="DATABASE_URL")
        in facts
    )


def test_copy_of_requirements_is_an_include(facts: list[object]) -> None:
    assert Include("requirements.txt", F, 31, kind="copy") in facts
    assert not any(isinstance(f, Include) and f.target == "serving/" for f in facts)


def test_entrypoint_plus_cmd(facts: list[object]) -> None:
    entry = [f for f in facts if isinstance(f, Entrypoint)]
    assert entry == [
        Entrypoint(
            "uvicorn serving.app:app --host 0.0.0.0 --port 8000", F, 33, module="serving.app"
        )
    ]


def test_no_planted_secret_in_result() -> None:
    text = repr(SOURCE.parse(MULTI_STAGE, F))
    for secret in (INDEX_TOKEN, DB_PASSWORD, WANDB_KEY):
        assert secret not in text


def test_cuda_devel_image_and_from_parent_stage_inherits() -> None:
    text = (
        "FROM nvidia/cuda:12.1.0-cudnn8-devel-ubuntu22.04 AS base\n"
        "RUN apt-get update && apt-get install -y python3.10 python3-pip cuda-toolkit-12-1\n"
        "ENV HF_TOKEN=hf_abcdefghijklmnopqrstuvwxyz012345\n"
        "FROM base\n"
        'RUN python3 -m pip install "transformers>=4.38" && conda install -y -c pytorch pytorch=2.2.0\n'
        "CMD python3 -m serving.main\n"
    )
    f = "Dockerfile.serve"
    facts = list(SOURCE.parse(text, f))
    assert Runtime("cuda", "12.1.0", f, 1, detail="devel") in facts
    assert Runtime("os", "ubuntu 22.04", f, 1, detail="inferred from image tag") in facts
    assert SystemPackage("cuda-toolkit-12-1", f, 2) in facts
    assert Package("transformers", f, 5, specifier=">=4.38") in facts
    # conda's "=2.2.0" is fuzzy (2.2.0.*), and conda's pytorch is PyPI's torch, as in environment.yml
    assert Package("torch", f, 5, specifier="==2.2.0.*", manager="conda") in facts
    assert Entrypoint("python3 -m serving.main", f, 6, module="serving.main") in facts
    assert "hf_abcdefghijklmnopqrstuvwxyz012345" not in repr(facts)
    # ENV of the parent stage ships with the child
    assert any(isinstance(x, ConfigEntry) and x.key == "ENV.HF_TOKEN" and x.secret for x in facts)


def test_pytorch_devel_image() -> None:
    facts = list(SOURCE.parse("FROM pytorch/pytorch:2.2.0-cuda12.1-cudnn8-devel\n", "Dockerfile"))
    assert Runtime("cuda", "12.1", "Dockerfile", 1, detail="devel") in facts


def test_alpine_apk_and_uv() -> None:
    text = (
        "FROM python:3.12-alpine3.19\n"
        "RUN apk add --no-cache --virtual .build gcc=13.2.1-r0 musl-dev\n"
        "RUN uv pip install --system -r requirements/prod.txt\n"
    )
    f = "api/Containerfile"
    facts = list(SOURCE.parse(text, f))
    assert Runtime("os", "alpine 3.19", f, 1, detail="inferred from image tag") in facts
    assert Runtime("python", "3.12", f, 1, detail="inferred from image tag") in facts
    assert SystemPackage("gcc", f, 2, manager="apk", version="13.2.1-r0") in facts
    assert SystemPackage("musl-dev", f, 2, manager="apk") in facts
    assert not any(isinstance(x, SystemPackage) and x.name == ".build" for x in facts)
    assert Include("requirements/prod.txt", f, 3, kind="requirements") in facts


def test_bullseye_and_digest() -> None:
    facts = list(SOURCE.parse("FROM python:3.10-slim-bullseye@sha256:abc123\n", "Dockerfile"))
    assert (
        Runtime("base_image", "python:3.10-slim-bullseye@sha256:abc123", "Dockerfile", 1) in facts
    )
    assert Runtime("os", "debian 11", "Dockerfile", 1, detail="inferred from image tag") in facts


@pytest.mark.parametrize(
    "path",
    [
        "Dockerfile",
        "serving/Dockerfile",
        "Dockerfile.train",
        "docker/api.Dockerfile",
        "x/Containerfile",
        "a.dockerfile",
    ],
)
def test_matches(path: str) -> None:
    assert SOURCE.matches(path)


@pytest.mark.parametrize("path", ["docs/dockerfiles.md", "dockerfile_utils.py", "README.md"])
def test_does_not_match(path: str) -> None:
    assert not SOURCE.matches(path)


@pytest.mark.parametrize(
    "text",
    [
        "\x00\x01ELF binary",
        "this is not a dockerfile at all\n",
        "",
        "RUN <<EOF\n" + "x\n" * 10,  # unterminated heredoc, no FROM
    ],
)
def test_broken_inputs_are_parse_errors(text: str) -> None:
    result = SOURCE.parse(text, "Dockerfile")
    assert [type(f) for f in result] == [ParseError]


@pytest.mark.parametrize(
    "text",
    [
        "FROM\n",
        "FROM ${UNSET}\nRUN pip install 'unbalanced\n",
        "FROM python:3.11\nRUN <<EOF\npip install x\n",  # unterminated heredoc
        "FROM a AS a\nFROM a AS b\nFROM b\nCOPY --from=b / /\n",  # self references
        "FROM python:3.11\n" + "RUN pip install x \\\n" * 2000 + "\n",
    ],
)
def test_odd_inputs_never_raise(text: str) -> None:
    assert isinstance(SOURCE.parse(text, "Dockerfile").facts, tuple)


def test_a_path_under_a_double_slash_root_is_read() -> None:
    """``WORKDIR /${PROJECT_DIR}`` with ``ENV PROJECT_DIR /mlflow/projects`` makes image paths
    start with ``//`` (POSIX keeps it: ``dirname("//")`` is ``//``); looking for the COPY above
    such a path looped forever on a public MLflow project layout."""
    text = (
        "FROM python:3.9-slim\n"
        "ENV PROJECT_DIR /mlflow/projects\n"
        "WORKDIR /${PROJECT_DIR}\n"
        "ADD requirements.txt /${PROJECT_DIR}/\n"
        "RUN pip install --no-cache-dir -r requirements.txt\n"
    )
    facts = SOURCE.parse(text, "train/Dockerfile").facts
    assert not [f for f in facts if isinstance(f, ParseError)]
    assert any(isinstance(f, Include) and f.target.endswith("requirements.txt") for f in facts)


def test_module_of_command() -> None:
    assert module_of_command(["gunicorn", "-w", "4", "pkg.wsgi:application"]) == "pkg.wsgi"
    assert module_of_command(["python", "serve/app.py"]) == "serve.app"
    assert module_of_command(["sh", "-c", "python -m api.main --reload"]) == "api.main"
    assert module_of_command(["./run.sh"]) == ""


@pytest.mark.parametrize(
    ("copy", "workdir", "install", "cmd", "target", "module"),
    [
        # a folder copied in whole: its files keep their place under the destination
        ("COPY ui /app", "/", "-r /app/requirements.txt", '["python", "/app/app.py"]',
         "ui/requirements.txt", "ui.app"),
        ("COPY . /srv/", "/srv", "-r requirements.txt", "python serve.py",
         "requirements.txt", "serve"),
        ("COPY web/api /opt/api", "/opt", "-r api/reqs/prod.txt", "python3 api/main.py",
         "web/api/reqs/prod.txt", "web.api.main"),
        # nothing copied there: the path is what the command says
        ("COPY model.pkl /models/", "/", "-r /extra/requirements.txt", "python -m svc.app",
         "/extra/requirements.txt", "svc.app"),
    ],
)  # fmt: skip
def test_copied_folder_paths_name_the_build_context_file(
    copy: str, workdir: str, install: str, cmd: str, target: str, module: str
) -> None:
    text = (
        f"FROM python:3.11-slim\n{copy}\nWORKDIR {workdir}\nRUN pip install {install}\nCMD {cmd}\n"
    )
    facts = SOURCE.parse(text, "svc/Dockerfile").facts
    assert [f.target for f in facts if isinstance(f, Include) and f.kind == "requirements"] == [
        target
    ]
    assert [f.module for f in facts if isinstance(f, Entrypoint)] == [module]
