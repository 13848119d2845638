"""Runtime, resource and system-package rules: DA501-DA507, DA601-DA602."""

from __future__ import annotations

from depaudit.knowledge import builtin
from depaudit.model import Fact, Finding, Resource, Runtime, SystemPackage
from depaudit.rules import (
    base_image_drift,
    build_toolchain_in_serving,
    gpu_requested_in_serving,
    gpu_toolchain_in_serving,
    os_drift,
    oversized_serving_resources,
    python_version_drift,
    shared_runtime,
    shared_system_packages,
)
from depaudit.rules.view import PairView
from tests.depaudit.rules.rulekit import env, run

GiB = 1024**3


def image(ref: str, os: str, python: str, file: str, line: int = 1) -> list[Runtime]:
    """What the Dockerfile source emits for a FROM line."""
    return [
        Runtime("base_image", ref, file, line),
        Runtime("os", os, file, line, detail="inferred from image tag"),
        Runtime("python", python, file, line, detail="inferred from image tag"),
    ]


def summary(findings: list[Finding]) -> list[tuple[str, str, str, str, str, str]]:
    return [(f.rule, f.status, f.item, f.severity, f.training, f.serving) for f in findings]


TRAIN_IMAGE = image("python:3.11-slim-bookworm", "debian 12", "3.11", "training/Dockerfile")


def test_da501_python_minor_drift_from_images() -> None:
    serving = image("python:3.10-slim-bookworm", "debian 12", "3.10", "serving/Dockerfile")
    found = run(python_version_drift.RULE, TRAIN_IMAGE, serving)
    assert summary(found) == [("DA501", "drift", "python", "medium", "3.11", "3.10")]
    assert found[0].file == "serving/Dockerfile"


def test_da501_patch_difference_and_containing_specifier_are_not_drift() -> None:
    training = [Runtime("python", "3.11.4", ".python-version", 1)]
    serving = [Runtime("python", ">=3.10", "serving/pyproject.toml", 5, detail="requires-python")]
    assert run(python_version_drift.RULE, training, serving) == []
    assert (
        run(
            python_version_drift.RULE,
            training,
            [Runtime("python", "3.11.9", "s/.python-version", 1)],
        )
        == []
    )
    outside = [Runtime("python", ">=3.12", "serving/pyproject.toml", 5)]
    assert summary(run(python_version_drift.RULE, training, outside)) == [
        ("DA501", "drift", "python", "medium", "3.11.4", ">=3.12")
    ]


def test_da501_the_image_wins_over_requires_python() -> None:
    serving = [
        Runtime("python", "3.12", "serving/.python-version", 1),
        *image("python:3.11-slim", "debian 12", "3.11", "serving/Dockerfile"),
    ]
    assert run(python_version_drift.RULE, TRAIN_IMAGE, serving) == []


def test_da502_os_drift_and_da503_base_image_drift_only_on_the_same_os() -> None:
    ubuntu = image(
        "nvidia/cuda:12.1.0-runtime-ubuntu22.04", "ubuntu 22.04", "3.11", "serving/Dockerfile"
    )
    assert summary(run(os_drift.RULE, TRAIN_IMAGE, ubuntu)) == [
        ("DA502", "drift", "os", "medium", "debian 12", "ubuntu 22.04")
    ]
    assert run(base_image_drift.RULE, TRAIN_IMAGE, ubuntu) == []  # DA502 already says it
    slim = image("python:3.11-bookworm", "Debian 12", "3.11", "serving/Dockerfile")
    assert run(os_drift.RULE, TRAIN_IMAGE, slim) == []
    assert summary(run(base_image_drift.RULE, TRAIN_IMAGE, slim)) == [
        ("DA503", "drift", "base_image", "low", "python:3.11-slim-bookworm", "python:3.11-bookworm")
    ]


def test_da503_digests_compare_only_when_both_sides_pin_one() -> None:
    a = [Runtime("base_image", "python:3.11-slim@sha256:aaa", "t/Dockerfile", 1)]
    b = [Runtime("base_image", "python:3.11-slim@sha256:bbb", "s/Dockerfile", 1)]
    c = [Runtime("base_image", "docker.io/library/python:3.11-slim", "s/Dockerfile", 1)]
    assert "different digests" in run(base_image_drift.RULE, a, b)[0].message
    assert run(base_image_drift.RULE, a, c) == []


def test_da507_shared_python_os_and_image() -> None:
    serving = image("python:3.11-slim-bookworm", "debian 12", "3.11", "serving/Dockerfile")
    assert [f.item for f in run(shared_runtime.RULE, TRAIN_IMAGE, serving)] == [
        "python",
        "os",
        "base_image",
    ]
    assert run(shared_runtime.RULE, TRAIN_IMAGE, []) == []


def test_da504_cuda_devel_and_training_images_in_the_final_stage_only() -> None:
    devel = [
        Runtime("base_image", "nvidia/cuda:12.1.0-devel-ubuntu22.04", "serving/Dockerfile", 1),
        Runtime("cuda", "12.1.0", "serving/Dockerfile", 1, detail="devel"),
    ]
    found = run(gpu_toolchain_in_serving.RULE, [], devel)
    assert summary(found) == [("DA504", "leftover", "cuda", "medium", "", "12.1.0")]
    jupyter = [Runtime("base_image", "jupyter/scipy-notebook:2024-01-15", "serving/Dockerfile", 3)]
    assert summary(run(gpu_toolchain_in_serving.RULE, [], jupyter)) == [
        ("DA504", "leftover", "base_image", "medium", "", "jupyter/scipy-notebook:2024-01-15")
    ]
    runtime = [
        Runtime("base_image", "nvidia/cuda:12.1.0-runtime-ubuntu22.04", "serving/Dockerfile", 9),
        Runtime("cuda", "12.1.0", "serving/Dockerfile", 9, detail="runtime"),
    ]
    assert run(gpu_toolchain_in_serving.RULE, devel, runtime) == []
    # a devel fact from an earlier (builder) stage of the same file does not ship
    assert run(gpu_toolchain_in_serving.RULE, [], devel + runtime) == []
    assert run(gpu_toolchain_in_serving.RULE, [], devel, {"DA504": ("cuda",)}) == []


def test_da505_gpu_request_in_serving() -> None:
    serving = [
        Resource("gpu", 1, "1", "k8s/serving.yaml", 30, bound="limit", scope="api"),
        Resource("cpu", 2, "2", "k8s/serving.yaml", 28),
    ]
    training = [Resource("gpu", 8, "8", "k8s/training.yaml", 20, bound="limit")]
    found = run(gpu_requested_in_serving.RULE, training, serving)
    assert summary(found) == [("DA505", "leftover", "gpu", "medium", "8", "1")]
    assert "k8s/serving.yaml:30 limit 1 (api)" in found[0].evidence
    assert (
        run(gpu_requested_in_serving.RULE, training, [Resource("gpu", 0, "0", "k.yaml", 1)]) == []
    )


def test_da506_cpu_and_memory_above_the_ceiling() -> None:
    serving = [
        Resource("cpu", 16, "16", "k8s/serving.yaml", 10, bound="limit"),
        Resource("cpu", 4, "4", "k8s/serving.yaml", 9),
        Resource("memory", 64 * GiB, "64Gi", "k8s/serving.yaml", 11, bound="limit"),
    ]
    found = run(oversized_serving_resources.RULE, [], serving)
    assert summary(found) == [
        ("DA506", "leftover", "cpu", "medium", "", "16"),
        ("DA506", "leftover", "memory", "medium", "", "64Gi"),
    ]
    assert "8 cores" in found[0].message and "32 GiB" in found[1].message
    small = [Resource("memory", 2 * GiB, "2Gi", "k8s/serving.yaml", 11)]
    assert run(oversized_serving_resources.RULE, [], small) == []
    ctx = PairView.of(
        env("t", []),
        env("s", serving),
        builtin().with_overrides({"max_cpu": 32, "max_memory": 128 * GiB}),
    )
    assert list(oversized_serving_resources.RULE.check(ctx)) == []


def test_da601_toolchain_packages_in_the_final_stage() -> None:
    serving: list[Fact] = [
        Runtime("base_image", "python:3.11-slim", "serving/Dockerfile", 12),
        SystemPackage("build-essential", "serving/Dockerfile", 14),
        SystemPackage("libgomp1", "serving/Dockerfile", 14),
        SystemPackage("cuda-toolkit-12-1", "serving/Dockerfile", 15),
        SystemPackage("gcc", "serving/Dockerfile", 4),  # builder stage, does not ship
    ]
    found = run(build_toolchain_in_serving.RULE, [], serving)
    assert summary(found) == [
        ("DA601", "leftover", "build-essential", "low", "", "installed"),
        ("DA601", "leftover", "cuda-toolkit-12-1", "medium", "", "installed"),
    ]
    assert (
        run(
            build_toolchain_in_serving.RULE,
            [],
            serving,
            {"DA601": ("build-essential", "cuda-toolkit-12-1")},
        )
        == []
    )


def test_da602_shared_and_drifting_system_packages() -> None:
    training = [
        SystemPackage("libgomp1", "training/Dockerfile", 3),
        SystemPackage("libpq5", "training/Dockerfile", 3, version="15.5-0+deb12u1"),
        SystemPackage("git", "training/Dockerfile", 3),
    ]
    serving = [
        SystemPackage("libgomp1", "serving/Dockerfile", 5),
        SystemPackage("libpq5", "serving/Dockerfile", 5, version="15.3-0+deb12u1"),
    ]
    assert summary(run(shared_system_packages.RULE, training, serving)) == [
        ("DA602", "shared", "libgomp1", "info", "installed", "installed"),
        ("DA602", "drift", "libpq5", "low", "15.5-0+deb12u1", "15.3-0+deb12u1"),
    ]


def test_every_image_of_a_manifest_counts_not_only_the_last() -> None:
    """Stages exist only in Dockerfiles: a manifest with two workloads runs both images."""
    serving = [
        Runtime("base_image", "nvidia/cuda:12.1.0-devel-ubuntu22.04", "k8s/serving.yaml", 9),
        Runtime("cuda", "12.1.0", "k8s/serving.yaml", 9, scope="api", detail="devel"),
        Runtime("base_image", "redis:7-alpine", "k8s/serving.yaml", 40, scope="cache"),
    ]
    assert [f.item for f in run(gpu_toolchain_in_serving.RULE, [], serving)] == ["cuda"]
