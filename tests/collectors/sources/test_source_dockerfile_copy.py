"""``COPY --from=<builder>`` ships the builder's Python packages only if it copies where
the builder installed them (field test 2026-12-04, item 23).

``COPY --from=build /opt /opt`` after a plain ``pip install wandb`` in the builder made
wandb a serving leftover, although it lives in the builder's system site-packages.
Each case is a real multi-stage pattern: what the builder installs where, what the final
stage copies, and which packages the shipped image therefore holds.
"""

from __future__ import annotations

import pytest

from depaudit.collectors.sources.dockerfile import SOURCE
from depaudit.model import Include, NetworkTarget, Package, ParseError

F = "api/Dockerfile"


def shipped(text: str) -> set[str]:
    facts = list(SOURCE.parse(text, F))
    assert not [f for f in facts if isinstance(f, ParseError)]
    return {f.name for f in facts if isinstance(f, Package)}


def two_stage(builder: str, final: str, base: str = "python:3.11") -> str:
    return f"FROM {base} AS build\n{builder}\nFROM python:3.11-slim\n{final}\n"


SYSTEM_INSTALL = "RUN pip install --no-cache-dir wandb==0.16.0 scikit-learn==1.4.2"


@pytest.mark.parametrize(
    "copy",
    [
        "COPY --from=build /opt /opt",
        "COPY --from=build /srv/app /srv/app",
        "COPY --from=build /app/model.pkl /app/",
        "COPY --from=build --chown=app:app /home/app /home/app",
        "COPY --from=build /usr/local/bin/uvicorn /usr/local/bin/",
        'COPY --from=build ["/opt/models", "/opt/models"]',
    ],
)
def test_copying_other_paths_does_not_ship_system_installed_packages(copy: str) -> None:
    assert shipped(two_stage(SYSTEM_INSTALL, copy)) == set()


@pytest.mark.parametrize(
    "copy",
    [
        "COPY --from=build /usr/local/lib/python3.11/site-packages /usr/local/lib/python3.11/site-packages",
        "COPY --from=build /usr/local /usr/local",
        "COPY --from=build / /",
        "COPY --from=build /usr/lib/python3/dist-packages /usr/lib/python3/dist-packages",
    ],
)
def test_copying_the_system_site_packages_ships_them(copy: str) -> None:
    assert shipped(two_stage(SYSTEM_INSTALL, copy)) == {"wandb", "scikit-learn"}


@pytest.mark.parametrize(
    ("builder", "copy", "expected"),
    [
        # a virtualenv, made active by PATH, copied whole or with its parent
        (
            "RUN python -m venv /opt/venv\nENV PATH=/opt/venv/bin:$PATH\nRUN pip install optuna==3.6.1",
            "COPY --from=build /opt/venv /opt/venv",
            {"optuna"},
        ),
        (
            "RUN python3 -m venv /opt/venv && /opt/venv/bin/pip install optuna==3.6.1",
            "COPY --from=build /opt /opt",
            {"optuna"},
        ),
        # the same venv, but the final stage copies something else
        (
            "RUN python -m venv /opt/venv\nENV PATH=/opt/venv/bin:$PATH\nRUN pip install optuna==3.6.1",
            "COPY --from=build /usr/local /usr/local",
            set(),
        ),
        # uv's venv in the workdir, activated in the same RUN
        (
            "WORKDIR /app\nRUN uv venv && . .venv/bin/activate && uv pip install mlflow==2.11.1",
            "COPY --from=build /app/.venv /app/.venv",
            {"mlflow"},
        ),
        # VIRTUAL_ENV names the environment
        (
            "ENV VIRTUAL_ENV=/venv\nRUN python -m venv $VIRTUAL_ENV && pip install mlflow==2.11.1",
            "COPY --from=build /venv /venv",
            {"mlflow"},
        ),
        # --prefix / --target / --user
        (
            "RUN pip install --prefix=/install fastapi==0.110.0",
            "COPY --from=build /install /usr/local",
            {"fastapi"},
        ),
        (
            "RUN pip install --prefix=/install fastapi==0.110.0",
            "COPY --from=build /root/.local /root/.local",
            set(),
        ),
        (
            "RUN pip install --target /deps fastapi==0.110.0",
            "COPY --from=build /deps /app/deps",
            {"fastapi"},
        ),
        (
            "RUN pip install --user fastapi==0.110.0",
            "COPY --from=build /root/.local /root/.local",
            {"fastapi"},
        ),
        (
            "RUN pip install --user fastapi==0.110.0",
            "COPY --from=build /install /usr/local",
            set(),
        ),
        # wheels built in the builder and installed from the copied directory
        (
            "RUN pip wheel --wheel-dir /wheels torch==2.2.0",
            "COPY --from=build /wheels /wheels\nRUN pip install --no-index /wheels/*.whl",
            {"torch"},
        ),
        (
            "RUN pip wheel --wheel-dir /wheels torch==2.2.0",
            "COPY --from=build /opt /opt",
            set(),
        ),
        # a prefix the build decides: only a conventional place counts
        (
            "ARG PREFIX\nRUN pip install --prefix=${PREFIX} fastapi==0.110.0",
            "COPY --from=build /install /usr/local",
            {"fastapi"},
        ),
        (
            "ARG PREFIX\nRUN pip install --prefix=${PREFIX} fastapi==0.110.0",
            "COPY --from=build /etc/app /etc/app",
            set(),
        ),
    ],
)
def test_builder_packages_ship_where_the_copy_carries_them(
    builder: str, copy: str, expected: set[str]
) -> None:
    assert shipped(two_stage(builder, copy)) == expected


def test_conda_prefix_of_a_builder_ships_with_it() -> None:
    builder = "RUN conda install -y -c conda-forge xgboost=2.0 && conda clean -afy"
    text = two_stage(builder, "COPY --from=build /opt/conda /opt/conda", "continuumio/miniconda3")
    assert shipped(text) == {"xgboost"}
    assert shipped(two_stage(builder, "COPY --from=build /opt/app /opt/app")) == set()


def test_venv_made_in_a_base_stage_is_where_the_builder_installs() -> None:
    text = (
        "FROM python:3.11 AS base\n"
        "RUN python -m venv /venv\n"
        "ENV PATH=/venv/bin:$PATH\n"
        "FROM base AS build\n"
        "RUN pip install lightgbm==4.3.0\n"
        "FROM python:3.11-slim\n"
        "COPY --from=build /venv /venv\n"
    )
    assert shipped(text) == {"lightgbm"}
    assert (
        shipped(text.replace("COPY --from=build /venv /venv", "COPY --from=build /opt /opt"))
        == set()
    )


def test_requirement_files_and_indexes_of_a_builder_follow_the_same_rule() -> None:
    builder = (
        "COPY requirements.txt /tmp/requirements.txt\n"
        "RUN pip install --prefix=/install --index-url https://pypi.internal.example.com/simple "
        "-r /tmp/requirements.txt"
    )
    carried = list(SOURCE.parse(two_stage(builder, "COPY --from=build /install /usr/local"), F))
    assert Include("requirements.txt", F, 3, kind="requirements") in carried
    assert NetworkTarget("https://pypi.internal.example.com/simple", "index", F, 3) in carried
    not_carried = list(SOURCE.parse(two_stage(builder, "COPY --from=build /srv /srv"), F))
    assert not any(isinstance(f, (Include, NetworkTarget)) for f in not_carried if f.line == 3)


def test_pip_wheel_in_the_shipped_stage_installs_nothing() -> None:
    text = (
        "FROM python:3.11-slim\nRUN pip wheel -w /tmp/wheels optuna==3.6.1 && pip install fastapi\n"
    )
    assert shipped(text) == {"fastapi"}
