"""Compose source: services as scopes, build paths, env, GPU/CPU/memory, commands."""

from __future__ import annotations

import pytest

from depaudit.collectors.sources.compose import SOURCE, parse_compose_memory
from depaudit.model import (
    ConfigEntry,
    Entrypoint,
    ImageBuild,
    NetworkTarget,
    ParseError,
    Resource,
    Runtime,
    Scope,
)

WANDB_KEY = "abcdef1234567890wandb"
ETL_PASSWORD = "pa55word-etl-2024"

COMPOSE = f"""\
x-common: &common
  environment:
    LOG_LEVEL: info
services:
  trainer:
    build:
      context: ../training
      dockerfile: Dockerfile.train
    image: acme/trainer:latest
    environment:
      - WANDB_API_KEY={WANDB_KEY}
      - BIGQUERY_PROJECT=acme-analytics
      - DATABASE_URL=postgresql://etl:{ETL_PASSWORD}@warehouse.internal:5432/dwh
    deploy:
      resources:
        limits:
          cpus: "16"
          memory: 64g
        reservations:
          memory: 512m
          devices:
            - driver: nvidia
              count: 2
              capabilities: [gpu]
    command: python -m training.train --epochs 10
  api:
    <<: *common
    build: ./serving
    runtime: nvidia
    entrypoint: ["uvicorn", "serving.app:app"]
  redis:
    image: redis:7-alpine
"""
F = "deploy/docker-compose.yml"


@pytest.fixture(scope="module")
def facts() -> list[object]:
    return list(SOURCE.parse(COMPOSE, F))


def test_services_are_scopes_with_repo_relative_build_paths(facts: list[object]) -> None:
    scopes = [f for f in facts if isinstance(f, Scope)]
    assert scopes == [
        Scope("trainer", F, 5, build_path="training/Dockerfile.train", image="acme/trainer:latest"),
        Scope("api", F, 26, build_path="deploy/serving"),
        Scope("redis", F, 31, image="redis:7-alpine"),
    ]


def test_image_of_a_built_service_is_not_a_base_image(facts: list[object]) -> None:
    bases = [f for f in facts if isinstance(f, Runtime) and f.item == "base_image"]
    assert bases == [Runtime("base_image", "redis:7-alpine", F, 32, scope="redis")]


def test_environment_list_and_merged_map(facts: list[object]) -> None:
    config = {(f.scope, f.key): f for f in facts if isinstance(f, ConfigEntry)}
    assert config["trainer", "environment.WANDB_API_KEY"].secret
    assert config["trainer", "environment.WANDB_API_KEY"].line == 11
    assert config["trainer", "environment.BIGQUERY_PROJECT"] == ConfigEntry(
        "environment.BIGQUERY_PROJECT", "acme-analytics", F, 12, scope="trainer"
    )
    # from the YAML merge key (<<: *common)
    assert config["api", "environment.LOG_LEVEL"] == ConfigEntry(
        "environment.LOG_LEVEL", "info", F, 3, scope="api"
    )


def test_network_targets_from_env(facts: list[object]) -> None:
    targets = [f for f in facts if isinstance(f, NetworkTarget)]
    assert targets == [
        NetworkTarget(
            "bigquery:acme-analytics", "warehouse", F, 12, key="BIGQUERY_PROJECT", scope="trainer"
        ),
        NetworkTarget(
            "postgresql://warehouse.internal:5432/dwh",
            "dsn",
            F,
            13,
            key="DATABASE_URL",
            scope="trainer",
        ),
    ]


def test_resources(facts: list[object]) -> None:
    resources = [f for f in facts if isinstance(f, Resource)]
    assert Resource("gpu", 2.0, "2", F, 22, bound="request", scope="trainer") in resources
    assert (
        Resource("memory", 512 * 2**20, "512m", F, 20, bound="request", scope="trainer")
        in resources
    )
    assert Resource("cpu", 16.0, "16", F, 17, bound="limit", scope="trainer") in resources
    assert Resource("memory", 64 * 2**30, "64g", F, 18, bound="limit", scope="trainer") in resources
    assert Resource("gpu", 1.0, "runtime: nvidia", F, 29, scope="api") in resources
    assert not any(r.scope == "redis" for r in resources)


def test_commands(facts: list[object]) -> None:
    entries = [f for f in facts if isinstance(f, Entrypoint)]
    assert entries == [
        Entrypoint(
            "python -m training.train --epochs 10", F, 25, module="training.train", scope="trainer"
        ),
        Entrypoint("uvicorn serving.app:app", F, 30, module="serving.app", scope="api"),
    ]


def test_planted_secrets_absent() -> None:
    text = repr(SOURCE.parse(COMPOSE, F))
    assert WANDB_KEY not in text
    assert ETL_PASSWORD not in text


def test_gpu_count_all_and_capabilities_only() -> None:
    text = (
        "services:\n  t:\n    image: x\n    deploy:\n      resources:\n        reservations:\n"
        "          devices:\n            - capabilities: [gpu]\n              count: all\n"
    )
    gpus = [f for f in SOURCE.parse(text, "compose.yaml") if isinstance(f, Resource)]
    assert gpus == [Resource("gpu", 1.0, "all", "compose.yaml", 8, scope="t")]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("512m", 512 * 2**20),
        ("2g", 2 * 2**30),
        ("1.5gb", 1.5 * 2**30),
        ("1024", 1024.0),
        ("lots", None),
    ],
)
def test_memory_units(raw: str, expected: float | None) -> None:
    assert parse_compose_memory(raw) == expected


@pytest.mark.parametrize(
    "path", ["docker-compose.yml", "compose.yaml", "x/docker-compose.prod.yml", "compose.gpu.yaml"]
)
def test_matches(path: str) -> None:
    assert SOURCE.matches(path)


def test_does_not_match_other_yaml() -> None:
    assert not SOURCE.matches("k8s/deployment.yaml")
    assert not SOURCE.matches("composer.yaml")


@pytest.mark.parametrize(
    "text",
    [
        "services: [unclosed\n",
        "\x00\x01\x02",
        "- just\n- a list\n",
        "a: &a [*a]\n",
        "services:\n" + "  " * 0 + "x:" + " [" * 100 + " ]" * 100 + "\n",
    ],
)
def test_broken_compose_is_a_parse_error(text: str) -> None:
    result = list(SOURCE.parse(text, "compose.yaml"))
    assert len(result) == 1 and isinstance(result[0], ParseError)


def test_empty_file_has_no_facts() -> None:
    assert list(SOURCE.parse("", "compose.yaml")) == []
    assert list(SOURCE.parse("services:\n", "compose.yaml")) == []


@pytest.mark.parametrize(
    "command",
    [
        '["sh", "-c", "curl -fsS -u admin:{pw} http://registry.internal/ready && uvicorn app:app"]',
        "sh -c 'curl --user admin:{pw} http://x/ && uvicorn app:app'",
        '["sh", "-c", "curl --user=\\"svc:{pw}\\" http://x/; uvicorn app:app"]',
        '["sh", "-c", "wget --user=svc --password={pw} http://x/ && uvicorn app:app"]',
        '["sh", "-c", "http -a svc:{pw} GET http://x/ && uvicorn app:app"]',
        '["sh", "-c", "curl --proxy-user proxy:{pw} -x http://proxy:3128 http://x/"]',
    ],
)
@pytest.mark.parametrize("password", ["Curl-Pw-Plain-81", "Curl&Pw#Punct-82", "Curl:Colon-Pw-83"])
def test_http_client_credentials_in_commands_are_masked(command: str, password: str) -> None:
    text = (
        f"services:\n  api:\n    image: python:3.11\n    command: {command.format(pw=password)}\n"
    )
    (entry,) = [f for f in SOURCE.parse(text, F) if isinstance(f, Entrypoint)]
    assert "***masked:" in entry.command
    for piece in password.replace("&", " ").replace("#", " ").replace(":", " ").split():
        assert piece not in entry.command, entry.command
    assert "svc" in entry.command or "admin" in entry.command or "proxy" in entry.command


def test_user_ids_in_commands_stay_readable() -> None:
    text = (
        "services:\n  api:\n    image: python:3.11\n"
        '    command: ["sh", "-c", "chown -R 1000:1000 /data && su -u app:app uvicorn app:app"]\n'
    )
    (entry,) = [f for f in SOURCE.parse(text, F) if isinstance(f, Entrypoint)]
    assert entry.command == "sh -c chown -R 1000:1000 /data && su -u app:app uvicorn app:app"


def test_a_local_build_is_an_image_build_with_its_tag_dockerfile_and_args(
    facts: list[object],
) -> None:
    builds = {f.scope: f for f in facts if isinstance(f, ImageBuild)}
    assert builds["trainer"] == ImageBuild(
        tag="acme/trainer:latest",
        dockerfile="training/Dockerfile.train",
        context="training",
        file=F,
        line=6,
        scope="trainer",
    )
    # ``build: ./serving`` builds serving/Dockerfile, untagged
    assert (builds["api"].tag, builds["api"].dockerfile, builds["api"].context) == (
        "",
        "deploy/serving/Dockerfile",
        "deploy/serving",
    )
    assert "redis" not in builds  # pulled, not built


BUILD_ARGS = """\
services:
  api:
    image: search/api:1
    build:
      context: .
      dockerfile: api/Dockerfile
      args:
        FROM_IMAGE: search/base:1
        PIP_INDEX_TOKEN: tok-7f3a9c2e1b5d4a6f
  worker:
    build:
      context: .
      args: ["FROM_IMAGE=search/base:1", "NO_VALUE"]
  remote:
    build: https://github.com/acme/images.git#main
"""


def test_build_args_are_kept_and_secret_ones_masked() -> None:
    builds = {
        f.scope: f
        for f in SOURCE.parse(BUILD_ARGS, "docker-compose.yml")
        if isinstance(f, ImageBuild)
    }
    api = builds["api"]
    assert api.dockerfile == "api/Dockerfile" and api.context == ""
    assert api.args[0] == "FROM_IMAGE=search/base:1"
    assert api.args[1].startswith("PIP_INDEX_TOKEN=") and "tok-7f3a9c2e1b5d4a6f" not in api.args[1]
    assert builds["worker"].args == ("FROM_IMAGE=search/base:1",)
    assert "remote" not in builds  # a remote context: nothing in this tree builds it
