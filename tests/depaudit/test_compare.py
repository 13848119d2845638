"""compare_pairs: pairs, repo rule settings and unreadable files."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from depaudit.collectors.sources.dockerfile import SOURCE as DOCKERFILE
from depaudit.collectors.sources.python_code import SOURCE as PYTHON
from depaudit.collectors.sources.requirements import SOURCE as REQUIREMENTS
from depaudit.compare import compare_pairs, every_pair, kind_of_file
from depaudit.config import RulesConfig
from depaudit.knowledge import Knowledge, builtin
from depaudit.model import (
    ConfigEntry,
    EnvironmentSnapshot,
    Fact,
    Finding,
    NetworkTarget,
    Package,
    Pair,
    ParseError,
    Resource,
    Runtime,
    SystemPackage,
    sort_findings,
)


def compare_all(
    environments: list[EnvironmentSnapshot], *, rules: RulesConfig, knowledge: Knowledge
) -> list[Finding]:
    """Every training x serving pair, as a tree without project information is compared."""
    return compare_pairs(environments, every_pair(environments), rules=rules, knowledge=knowledge)


def diff_environments(
    training: EnvironmentSnapshot,
    serving: EnvironmentSnapshot,
    *,
    rules: RulesConfig,
    knowledge: Knowledge,
) -> list[Finding]:
    """One pair on its own."""
    return compare_pairs(
        [training, serving], [Pair(training.name, serving.name)], rules=rules, knowledge=knowledge
    )


def env(name: str, role: str, facts: Iterable[Fact], observed: bool = False) -> EnvironmentSnapshot:
    return EnvironmentSnapshot(
        name=name,
        role=role,  # type: ignore[arg-type]
        origin="convention",
        facts=tuple(facts),
        observed=observed,
    )


def by_rule(findings: list[Finding], rule: str) -> list[Finding]:
    return [f for f in findings if f.rule == rule]


TRAINING = env(
    "training",
    "training",
    [
        Package("scikit-learn", "requirements-train.txt", 1, "==1.3.2", "1.3.2"),
        Package("optuna", "requirements-train.txt", 2, ">=3"),
        Runtime("python", "3.11", "training/Dockerfile", 1),
    ],
)
SERVING = env(
    "serving",
    "serving",
    [
        Package("scikit-learn", "serving/requirements.txt", 1, "==1.2.0", "1.2.0"),
        Package("wandb", "serving/requirements.txt", 2, ">=0.16"),
        Package("pytest", "serving/requirements.txt", 3),
        Runtime("python", "3.10", "serving/Dockerfile", 1),
    ],
)


def test_diff_environments_sets_pair_names_and_sorts() -> None:
    found = diff_environments(TRAINING, SERVING, rules=RulesConfig(), knowledge=builtin())
    assert found == sort_findings(found)
    assert {(f.training_env, f.serving_env) for f in found} == {("training", "serving")}
    assert [
        (f.rule, f.status, f.item, f.severity) for f in found if f.status != "training_only"
    ] == [
        ("DA101", "leftover", "wandb", "medium"),
        ("DA101", "leftover", "pytest", "low"),
        ("DA102", "drift", "scikit-learn", "medium"),
        ("DA501", "drift", "python", "medium"),
    ]


def test_ignore_severity_and_allow_are_honoured() -> None:
    rules = RulesConfig(
        ignore=("DA105", "da501"),
        severity={"DA102": "high", "DA101": "not-a-severity"},
        allow={"DA101": ("PyTest",)},
    )
    found = diff_environments(TRAINING, SERVING, rules=rules, knowledge=builtin())
    assert [(f.rule, f.item, f.severity) for f in found] == [
        ("DA101", "wandb", "medium"),  # leftovers sort before drift
        ("DA102", "scikit-learn", "high"),
    ]


def test_compare_all_runs_every_training_serving_pair_and_skips_observed() -> None:
    batch = env("batch", "serving", [Package("wandb", "batch/requirements.txt", 1)])
    live = env(
        "live-serving", "serving", [Package("wandb", "pip", 0, origin="installed")], observed=True
    )
    found = compare_all([TRAINING, SERVING, batch, live], rules=RulesConfig(), knowledge=builtin())
    pairs = {(f.training_env, f.serving_env) for f in found}
    assert pairs == {("training", "serving"), ("training", "batch")}
    assert [f.serving_env for f in by_rule(found, "DA101") if f.item == "wandb"] == [
        "batch",
        "serving",
    ]
    assert compare_all([TRAINING], rules=RulesConfig(), knowledge=builtin()) == []


def test_parse_errors_become_da900_once_per_file_and_hide_nothing() -> None:
    broken = ParseError("serving/requirements.txt", "binary file (contains NUL bytes)")
    shared_broken = ParseError(
        "common/config.yaml", "YAML: mapping values are not allowed here", line=3
    )
    training = env("training", "training", [*TRAINING.facts, shared_broken])
    serving = env("serving", "serving", [*SERVING.facts, broken, broken, shared_broken])
    found = compare_all([training, serving], rules=RulesConfig(), knowledge=builtin())
    errors = by_rule(found, "DA900")
    assert [(f.status, f.kind, f.item, f.severity, f.line) for f in errors] == [
        ("error", "config", "common/config.yaml", "low", 3),
        ("error", "package", "serving/requirements.txt", "low", 0),
    ]
    assert errors[1].message == "binary file (contains NUL bytes)"
    assert errors[0].training and errors[0].serving and not errors[1].training
    assert by_rule(found, "DA101") and by_rule(found, "DA102")  # still there
    assert (
        by_rule(
            compare_all(
                [training, serving], rules=RulesConfig(ignore=("DA900",)), knowledge=builtin()
            ),
            "DA900",
        )
        == []
    )


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("serving/requirements.txt", "package"),
        ("requirements/base.in", "package"),
        ("constraints.txt", "package"),
        ("pyproject.toml", "package"),
        ("poetry.lock", "package"),
        ("environment.yml", "package"),
        ("Dockerfile", "runtime"),
        ("docker/Dockerfile.serve", "runtime"),
        ("serve.dockerfile", "runtime"),
        (".python-version", "runtime"),
        ("serving/app.py", "code"),
        ("k8s/serving.yaml", "config"),
        ("docker-compose.yml", "config"),
        ("serving/.env", "config"),
    ],
)
def test_kind_of_unreadable_file(path: str, kind: str) -> None:
    assert kind_of_file(path) == kind


def test_real_dockerfile_and_requirements() -> None:
    """Facts from the real sources: multi-stage build, ENV secret, constraints, binary file."""
    dockerfile = """\
ARG PY=3.11
FROM nvidia/cuda:12.1.0-devel-ubuntu22.04 AS build
RUN apt-get update && apt-get install -y build-essential git
RUN pip wheel -r requirements.txt -w /wheels
FROM python:${PY}-slim-bookworm
ENV WANDB_API_KEY=abcdefabcdefabcdefabcdef MODEL_DIR=/models
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 gcc \\
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir "scikit-learn==1.3.2"
CMD ["uvicorn", "serving.app:app"]
"""
    serving_facts = [
        *DOCKERFILE.parse(dockerfile, "serving/Dockerfile"),
        *REQUIREMENTS.parse("fastapi>=0.110\nwandb>=0.16\n", "serving/requirements.txt"),
        *REQUIREMENTS.parse("numpy\x00\x01", "serving/requirements-extra.txt"),
    ]
    training_facts = [
        *DOCKERFILE.parse(
            "FROM python:3.11-slim-bookworm\nENV MODEL_DIR=/models\n", "training/Dockerfile"
        ),
        *REQUIREMENTS.parse(
            "scikit-learn==1.3.2\nwandb>=0.16\noptuna>=3\n", "training/requirements.txt"
        ),
    ]
    found = compare_all(
        [env("training", "training", training_facts), env("serving", "serving", serving_facts)],
        rules=RulesConfig(),
        knowledge=builtin(),
    )
    got = {(f.rule, f.status, f.item) for f in found}
    assert {
        ("DA101", "leftover", "wandb"),
        ("DA301", "leftover", "WANDB_API_KEY"),
        ("DA601", "leftover", "gcc"),
        ("DA104", "shared", "scikit-learn"),
        ("DA304", "shared", "MODEL_DIR"),
        ("DA507", "shared", "python"),
        ("DA507", "shared", "os"),
        ("DA507", "shared", "base_image"),
        ("DA105", "training_only", "optuna"),
        ("DA105", "serving_only", "fastapi"),
        ("DA900", "error", "serving/requirements-extra.txt"),
    } <= got
    # the builder stage's devel image and build-essential do not ship
    assert not {("DA504", "leftover", "cuda"), ("DA601", "leftover", "build-essential")} & got
    secret = next(f for f in found if f.rule == "DA301")
    assert "abcdefabcdef" not in secret.serving and secret.file == "serving/Dockerfile"


_text = st.text(max_size=40)


@settings(max_examples=150, deadline=None)
@given(
    spec=_text,
    version=_text,
    python=_text,
    key=_text,
    value=_text,
    target=_text,
    image=_text,
    amount=st.floats(allow_nan=True, allow_infinity=True),
)
def test_rules_never_raise_on_malformed_fact_values(
    spec: str,
    version: str,
    python: str,
    key: str,
    value: str,
    target: str,
    image: str,
    amount: float,
) -> None:
    """Sources pass through whatever a file says; no rule may crash on it."""
    facts: list[Fact] = [
        Package("numpy", "requirements.txt", 1, spec, version),
        Runtime("python", python, "Dockerfile", 1),
        Runtime("base_image", image, "Dockerfile", 1),
        Runtime("cuda", version, "Dockerfile", 1, detail=value),
        ConfigEntry(key, value, "config.yaml", 1),
        NetworkTarget(target, "url", "config.yaml", 2),
        NetworkTarget(target, "bucket", "config.yaml", 3),
        Resource("cpu", amount, value, "k8s.yaml", 4),
        SystemPackage(key, "Dockerfile", 2, version=version),
    ]
    other: list[Fact] = [
        Package("numpy", "requirements.txt", 1, "<1.0" if spec else spec, "1.0"),
        Runtime("python", "3.11", "Dockerfile", 1),
        ConfigEntry(key, "x", "config.yaml", 1),
        NetworkTarget(target, "host", "config.yaml", 2),
    ]
    found = compare_all(
        [env("t", "training", other), env("s", "serving", facts)],
        rules=RulesConfig(),
        knowledge=builtin(),
    )
    assert all(f.training_env == "t" and f.serving_env == "s" for f in found)


def test_a_leftover_of_one_pair_is_not_shared_drift_or_unused_in_the_others() -> None:
    """Two training sides, one serving side (issue 11, Made-With-ML shaped): cleanlab is
    imported by the notebooks only; the package's training side pins another version."""
    from depaudit.model import Entrypoint

    def code(path: str, text: str) -> list[Fact]:
        return list(PYTHON.parse(text, path).facts)

    def pin(name: str, version: str, file: str) -> Package:
        return Package(name=name, file=file, line=1, specifier=f"=={version}", version=version)

    notebooks = env(
        "notebooks", "training", [*code("nb/explore.py", "import cleanlab\n"),
                                  pin("cleanlab", "2.3.1", "requirements.txt")],
    )  # fmt: skip
    package = env(
        "training", "training", [*code("pkg/train.py", "import torch\n"),
                                 pin("cleanlab", "2.5.0", "pkg/requirements.txt")],
    )  # fmt: skip
    serving = env(
        "deploy", "serving",
        [*code("deploy/app.py", "from fastapi import FastAPI\napp = FastAPI()\n"),
         pin("cleanlab", "2.3.1", "requirements.txt"), pin("fastapi", "0.110.0", "requirements.txt"),
         Entrypoint("uvicorn deploy.app:app", "deploy/Dockerfile", 5)],
    )  # fmt: skip
    found = compare_all([notebooks, package, serving], rules=RulesConfig(), knowledge=builtin())
    about = sorted((f.training_env, f.rule) for f in found if f.item == "cleanlab")
    assert about == [("notebooks", "DA106")]


def test_an_unused_serving_package_is_one_row_and_installers_are_none() -> None:
    """A Dockerfile's ``pip install -U pip pipenv`` then ``pipenv install``: the installers
    are neither one-sided nor unused; a package no serving code imports is DA205 alone,
    not also DA105 "declared for serving only"."""
    dockerfile = DOCKERFILE.parse(
        "FROM python:3.9-slim\nRUN pip install -U pip pipenv\nRUN pip install flask boto3\n",
        "api/Dockerfile",
    ).facts
    app = PYTHON.parse("from flask import Flask\napp = Flask('x')\n", "api/app.py").facts
    training = env(
        "training", "training", REQUIREMENTS.parse("pandas==2.0\n", "requirements.txt").facts
    )
    serving = env("serving", "serving", [*dockerfile, *app])
    found = diff_environments(training, serving, rules=RulesConfig(), knowledge=builtin())
    rows = sorted((f.rule, f.item) for f in found if f.kind == "package" or f.rule == "DA205")
    assert rows == [("DA105", "flask"), ("DA105", "pandas"), ("DA205", "boto3")]
