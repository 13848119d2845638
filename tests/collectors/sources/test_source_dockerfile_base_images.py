"""Dockerfile source: packages a framework base image installs, for the image that ships."""

from __future__ import annotations

from depaudit.collectors.sources.dockerfile import SOURCE
from depaudit.model import Package, Runtime
from depaudit.rules import pinned_version_drift, training_package_in_serving
from tests.depaudit.rules.rulekit import run

F = "serving/Dockerfile"


def image_packages(text: str) -> list[tuple[str, str, str, int, bool]]:
    return [
        (p.name, p.version, p.specifier, p.line, p.direct)
        for p in SOURCE.parse(text, F).facts
        if isinstance(p, Package) and p.manager == "image"
    ]


def test_single_stage_framework_image_gives_its_packages_at_the_from_line() -> None:
    text = """\
# syntax=docker/dockerfile:1
FROM pytorch/pytorch:2.1.0-cuda12.1-cudnn8-runtime
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
CMD ["python", "-m", "serving.app"]
"""
    assert image_packages(text) == [
        ("torch", "2.1.0", "", 2, True),
        ("torchvision", "0.16.0", "", 2, False),
        ("torchaudio", "2.1.0", "", 2, False),
    ]


def test_multi_stage_only_the_final_chain_counts_not_the_builder() -> None:
    text = """\
FROM nvcr.io/nvidia/pytorch:23.10-py3 AS builder
RUN pip wheel --wheel-dir /wheels -r requirements.txt

FROM python:3.11-slim AS runtime
COPY --from=builder /wheels /wheels
RUN pip install --no-index /wheels/*.whl
CMD ["uvicorn", "serving.app:app"]
"""
    assert image_packages(text) == []


def test_final_stage_built_from_a_framework_stage_inherits_its_image() -> None:
    text = """\
ARG BASE=tensorflow/tensorflow:2.13.0-gpu
FROM ${BASE} AS base
RUN pip install --no-cache-dir fastapi==0.110.0

FROM python:3.11-slim AS docs
RUN pip install mkdocs

FROM base AS serve
COPY serving/ /app/serving
CMD ["python", "-m", "serving.app"]
"""
    assert image_packages(text) == [("tensorflow", "2.13.0", "", 2, True)]


def test_unresolved_base_implies_nothing_and_unknown_tag_implies_no_version() -> None:
    assert image_packages("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN pip install x\n") == []
    text = "ARG TAG\nFROM --platform=$BUILDPLATFORM pytorch/pytorch:${TAG}\nCMD python app.py\n"
    assert image_packages(text) == [("torch", "", "", 2, True)]


def test_plain_python_images_imply_nothing_and_runtime_facts_are_unchanged() -> None:
    text = "FROM python:3.11-slim\nRUN pip install torch==2.1.0\n"
    facts = SOURCE.parse(text, F).facts
    assert image_packages(text) == []
    assert [f.value for f in facts if isinstance(f, Runtime) and f.item == "base_image"] == [
        "python:3.11-slim"
    ]


def test_jupyter_base_image_in_serving_is_a_training_leftover() -> None:
    serving = SOURCE.parse(
        "FROM jupyter/scipy-notebook:2023-10-20\nCOPY app.py .\nCMD python app.py\n", F
    ).facts
    found = run(training_package_in_serving.RULE, [], serving)
    assert [(f.rule, f.item, f.file, f.line) for f in found] == [("DA101", "jupyterlab", F, 1)]


def test_framework_image_versions_drift_against_training_pins() -> None:
    serving = SOURCE.parse("FROM nvcr.io/nvidia/pytorch:24.01-py3\nCMD python serve.py\n", F).facts
    training = [Package("torch", "training/requirements.txt", 3, "==2.1.0", "2.1.0")]
    (drift,) = run(pinned_version_drift.RULE, training, serving)
    assert (drift.item, drift.training, drift.serving, drift.file, drift.line) == (
        "torch",
        "2.1.0",
        "2.2.0a0+81ea7a4",
        F,
        1,
    )


def test_a_later_pin_in_the_same_image_overrides_the_base_image_version() -> None:
    serving = SOURCE.parse(
        "FROM pytorch/pytorch:2.1.0-cuda12.1-cudnn8-runtime\nRUN pip install torch==2.2.0\n", F
    ).facts
    training = [Package("torch", "training/requirements.txt", 3, "==2.2.0", "2.2.0")]
    assert run(pinned_version_drift.RULE, training, serving) == []
    # and with no pin of its own, the image's version is what serving runs
    serving = SOURCE.parse("FROM pytorch/pytorch:2.1.0-cuda12.1-cudnn8-runtime\n", F).facts
    (drift,) = run(pinned_version_drift.RULE, training, serving)
    assert (drift.training, drift.serving) == ("2.2.0", "2.1.0")
