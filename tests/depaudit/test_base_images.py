"""What well-known ML base images install: real-world references -> exact implied packages."""

from __future__ import annotations

import re
import tomllib
from importlib import resources

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from depaudit.base_images import (
    BaseImageTableError,
    ImpliedPackage,
    implied_packages,
    load_table,
    parse_reference,
)

# (name, detail, direct) per implied package, in the table's order
Expected = list[tuple[str, str, bool]]
UNKNOWN = "unknown version"

CASES: list[tuple[str, Expected]] = [
    # official PyTorch: the tag is torch; torchvision / torchaudio from the release table
    (
        "pytorch/pytorch:2.1.0-cuda12.1-cudnn8-runtime",
        [
            ("torch", "2.1.0", True),
            ("torchvision", "0.16.0", False),
            ("torchaudio", "2.1.0", False),
        ],
    ),
    (
        "pytorch/pytorch:2.0.1-cuda11.7-cudnn8-devel",
        [
            ("torch", "2.0.1", True),
            ("torchvision", "0.15.2", False),
            ("torchaudio", "2.0.2", False),
        ],
    ),
    (
        "docker.io/pytorch/pytorch:2.4.0-cuda12.4-cudnn9-runtime",
        [
            ("torch", "2.4.0", True),
            ("torchvision", "0.19.0", False),
            ("torchaudio", "2.4.0", False),
        ],
    ),
    # an old tag: torch known, companions not documented for it -> left out, not guessed
    ("pytorch/pytorch:1.4-cuda10.1-cudnn7-runtime", [("torch", "1.4", True)]),
    ("pytorch/pytorch:latest", [("torch", UNKNOWN, True)]),
    ("pytorch/pytorch", [("torch", UNKNOWN, True)]),
    ("pytorch/pytorch:nightly", [("torch", UNKNOWN, True)]),
    # digests: with a tag the tag still speaks; a digest alone says no version
    (
        "pytorch/pytorch:2.2.1-cuda12.1-cudnn8-runtime@sha256:" + "a" * 64,
        [
            ("torch", "2.2.1", True),
            ("torchvision", "0.17.1", False),
            ("torchaudio", "2.2.1", False),
        ],
    ),
    ("pytorch/pytorch@sha256:" + "b" * 64, [("torch", UNKNOWN, True)]),
    # registry mirrors / pull-through caches / platform flag / unsubstituted ARGs
    (
        "harbor.corp.example.com/dockerhub-proxy/pytorch/pytorch:2.1.2-cuda12.1-cudnn8-runtime",
        [
            ("torch", "2.1.2", True),
            ("torchvision", "0.16.2", False),
            ("torchaudio", "2.1.2", False),
        ],
    ),
    (
        "--platform=linux/amd64 pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime",
        [
            ("torch", "2.3.1", True),
            ("torchvision", "0.18.1", False),
            ("torchaudio", "2.3.1", False),
        ],
    ),
    (
        "${REGISTRY}/pytorch/pytorch:${TORCH_VERSION}-cuda12.1-cudnn8-runtime",
        [("torch", UNKNOWN, True)],
    ),
    ("${BASE_IMAGE}", []),
    ("$BASE", []),
    ("ghcr.io/${OWNER}/serving-base:1.2.0", []),
    # NVIDIA NGC: the release decides the build
    ("nvcr.io/nvidia/pytorch:23.10-py3", [("torch", "2.1.0a0+32f93b1", True)]),
    ("nvcr.io/nvidia/pytorch:24.01-py3", [("torch", "2.2.0a0+81ea7a4", True)]),
    ("nvcr.io/nvidia/pytorch:24.12-py3", [("torch", "2.6.0a0+df5bbc09d1.nv24.12", True)]),
    ("nvcr.io/nvidia/pytorch:23.05-py3", [("torch", "2.0.0", True)]),
    ("nvcr.io/nvidia/pytorch:19.10-py3", [("torch", UNKNOWN, True)]),  # not in the table
    ("nvcr.io/nvidia/pytorch:${NGC_VERSION}-py3", [("torch", UNKNOWN, True)]),
    ("nvcr.io/nvidia/tensorflow:23.05-tf2-py3", [("tensorflow", "2.12.0", True)]),
    ("nvcr.io/nvidia/tensorflow:23.03-tf1-py3", [("tensorflow", UNKNOWN, True)]),
    ("nvcr.io/nvidia/tritonserver:23.10-py3", []),  # Triton: no Python framework
    # TensorFlow
    ("tensorflow/tensorflow:2.13.0-gpu", [("tensorflow", "2.13.0", True)]),
    ("tensorflow/tensorflow:2.13.0", [("tensorflow", "2.13.0", True)]),
    (
        "tensorflow/tensorflow:2.15.0-gpu-jupyter",
        [("tensorflow", "2.15.0", True), ("jupyter", UNKNOWN, True)],
    ),
    ("tensorflow/tensorflow:latest-gpu", [("tensorflow", UNKNOWN, True)]),
    ("tensorflow/tensorflow:devel-gpu", []),  # build toolchain, no TensorFlow installed
    ("tensorflow/tensorflow:nightly", [("tf-nightly", UNKNOWN, True)]),
    ("tensorflow/serving:2.13.0-gpu", []),  # TF Serving is a C++ server, no Python package
    # Hugging Face
    ("huggingface/transformers-pytorch-gpu:4.41.2", [("transformers", "4.41.2", True)]),
    ("huggingface/transformers-pytorch-gpu:latest", [("transformers", UNKNOWN, True)]),
    # Jupyter docker-stacks (Docker Hub and quay.io)
    (
        "jupyter/scipy-notebook:latest",
        [
            ("jupyterlab", UNKNOWN, True),
            ("notebook", UNKNOWN, False),
            ("jupyterhub", UNKNOWN, False),
        ],
    ),
    (
        "quay.io/jupyter/minimal-notebook:lab-4.0.7",
        [
            ("jupyterlab", "4.0.7", True),
            ("notebook", UNKNOWN, False),
            ("jupyterhub", UNKNOWN, False),
        ],
    ),
    (
        "quay.io/jupyter/base-notebook:x86_64-notebook-7.0.6",
        [
            ("jupyterlab", UNKNOWN, True),
            ("notebook", "7.0.6", False),
            ("jupyterhub", UNKNOWN, False),
        ],
    ),
    (
        "quay.io/jupyter/pytorch-notebook:cuda12-pytorch-2.1.0",
        [
            ("torch", "2.1.0", True),
            ("jupyterlab", UNKNOWN, True),
            ("notebook", UNKNOWN, False),
            ("jupyterhub", UNKNOWN, False),
        ],
    ),
    (
        "jupyter/tensorflow-notebook:2023-10-20",
        [
            ("jupyterlab", UNKNOWN, True),
            ("notebook", UNKNOWN, False),
            ("jupyterhub", UNKNOWN, False),
            ("tensorflow", UNKNOWN, False),
        ],
    ),
    # AWS Deep Learning Containers (any region's account, China partition included)
    (
        "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.1.0-gpu-py310-cu118-ubuntu20.04-sagemaker",
        [("torch", "2.1.0", True)],
    ),
    (
        "763104351884.dkr.ecr.eu-west-1.amazonaws.com/huggingface-pytorch-inference:2.1.0-transformers4.37.0-gpu-py310-cu118-ubuntu20.04",
        [("torch", "2.1.0", True), ("transformers", "4.37.0", True)],
    ),
    (
        "727897471807.dkr.ecr.cn-north-1.amazonaws.com.cn/tensorflow-inference:2.13.0-cpu-py310-ubuntu20.04-ec2",
        [("tensorflow", "2.13.0", True)],
    ),
    (
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
        [("scikit-learn", "1.2.* series", True)],
    ),
    ("myteam/pytorch-inference:2.1.0-gpu", []),  # same name, not an ECR host: not the DLC
    # Google: Vertex prebuilt containers and Deep Learning Containers
    (
        "us-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-3:latest",
        [("scikit-learn", "1.3.* series", True)],
    ),
    (
        "europe-docker.pkg.dev/vertex-ai/prediction/xgboost-cpu.1-7:latest",
        [("xgboost", "1.7.* series", True)],
    ),
    (
        "us-docker.pkg.dev/vertex-ai/prediction/tf2-gpu.2-13:latest",
        [("tensorflow", "2.13.* series", True)],
    ),
    (
        "us-docker.pkg.dev/vertex-ai/training/pytorch-gpu.2-1.py310:latest",
        [("torch", "2.1.* series", True)],
    ),
    (
        "gcr.io/deeplearning-platform-release/pytorch-gpu.2-1.py310",
        [("torch", "2.1.* series", True), ("jupyterlab", UNKNOWN, True)],
    ),
    (
        "us-docker.pkg.dev/deeplearning-platform-release/gcr.io/tf2-cpu.2-15.py310",
        [("tensorflow", "2.15.* series", True), ("jupyterlab", UNKNOWN, True)],
    ),
    # Azure ML curated environments: the name carries the version, the tag is a revision
    (
        "mcr.microsoft.com/azureml/curated/acpt-pytorch-2.2-cuda12.1:10",
        [("torch", "2.2.* series", True)],
    ),
    ("mcr.microsoft.com/azureml/curated/sklearn-1.5:7", [("scikit-learn", "1.5.* series", True)]),
    ("mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest", []),
    # Ray, BentoML, vLLM, TorchServe
    ("rayproject/ray:2.9.0-py310-gpu", [("ray", "2.9.0", True)]),
    ("rayproject/ray-ml:2.6.3-py39", [("ray", "2.6.3", True)]),
    ("rayproject/ray:nightly", [("ray", UNKNOWN, True)]),
    ("bentoml/model-server:0.11.0-py37", [("bentoml", "0.11.0", True)]),
    ("bentoml/bento-server:1.0.0a1-python3.9-centos7-cudnn", [("bentoml", "1.0.0a1", True)]),
    ("vllm/vllm-openai:v0.4.0", [("vllm", "0.4.0", True)]),
    ("pytorch/torchserve:0.9.0-gpu", [("torchserve", "0.9.0", True), ("torch", UNKNOWN, False)]),
    # ordinary images imply nothing
    ("python:3.11-slim", []),
    ("nvidia/cuda:12.1.0-cudnn8-runtime-ubuntu22.04", []),
    ("ubuntu:22.04", []),
    ("gcr.io/distroless/python3-debian12", []),
    ("scratch", []),
    ("", []),
]


def shown(found: tuple[ImpliedPackage, ...]) -> Expected:
    return [(p.name, p.detail, p.direct) for p in found]


@pytest.mark.parametrize(("image", "expected"), CASES, ids=[c[0][:80] or "empty" for c in CASES])
def test_real_world_references_imply_exactly_these_packages(image: str, expected: Expected) -> None:
    assert shown(implied_packages(image)) == expected


def test_the_reference_table_is_large_enough_to_mean_something() -> None:
    assert len(CASES) >= 30
    assert sum(1 for _, e in CASES if not e) >= 8  # and says "nothing" often enough


def test_exact_and_series_versions_are_separate_fields() -> None:
    (torch,) = implied_packages("nvcr.io/nvidia/pytorch:23.10-py3")
    assert (torch.version, torch.specifier) == ("2.1.0a0+32f93b1", "")
    (sklearn,) = implied_packages("us-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-3:latest")
    assert (sklearn.version, sklearn.specifier) == ("", "==1.3.*")
    (latest,) = implied_packages("pytorch/pytorch:latest")
    assert (latest.version, latest.specifier, latest.detail) == ("", "", UNKNOWN)
    assert "installs torch" in latest.reason


def test_hostile_references_imply_nothing_quickly() -> None:
    for image in ["a" * 100_000, "pytorch/pytorch:" + "1." * 50_000, "/" * 5000, ":@:@", "\x00"]:
        assert implied_packages(image) == ()


def test_parse_reference_splits_registries_tags_and_digests() -> None:
    ref = parse_reference("localhost:5000/pytorch/pytorch:2.1.0-runtime@sha256:ab")
    assert ref is not None
    assert (ref.registry, ref.path, ref.tag, ref.digest) == (
        "localhost:5000",
        "pytorch/pytorch",
        "2.1.0-runtime",
        "sha256:ab",
    )
    ref = parse_reference("docker.io/library/python:3.11")
    assert ref is not None and (ref.registry, ref.path, ref.tag) == ("", "python", "3.11")
    assert parse_reference("${BASE}") is None
    assert parse_reference("") is None


# --------------------------------------------------------------------------- the data file


def raw_table() -> dict[str, object]:
    text = resources.files("depaudit").joinpath("data/base_images.toml").read_text("utf-8")
    return tomllib.loads(text)


def test_every_entry_says_why_and_where_its_numbers_come_from() -> None:
    data = raw_table()
    entries = data["image"]
    assert isinstance(entries, list) and len(entries) >= 20
    ids = [e["id"] for e in entries]
    assert len(ids) == len(set(ids))
    for entry in entries:
        assert len(entry["reason"]) > 30, entry["id"]
        assert len(entry["source"]) > 10, entry["id"]
        for package in entry.get("packages", []):
            assert canonicalize_name(package["name"]) == package["name"]


def test_version_tables_hold_valid_versions_only() -> None:
    tables = raw_table()["tables"]
    assert isinstance(tables, dict)
    for name, table in tables.items():
        for key, value in table.items():
            Version(value)  # raises on anything pip could not compare
            if name.startswith("ngc-"):
                assert re.fullmatch(r"\d\d\.\d\d(-tf[12])?", key), (name, key)
            else:
                Version(key)


def test_a_malformed_table_is_rejected_with_the_entry_named() -> None:
    good = raw_table()
    broken = dict(good, image=[{"id": "x", "repository": "(", "reason": "r" * 40, "source": "s"}])
    with pytest.raises(BaseImageTableError, match="'x'"):
        load_table(broken)
    no_reason = dict(good, image=[{"id": "y", "repository": "a/b", "source": "s"}])
    with pytest.raises(BaseImageTableError, match="reason and source"):
        load_table(no_reason)
    bad_table = dict(
        good,
        image=[
            {
                "id": "z",
                "repository": "a/b",
                "reason": "r",
                "source": "s",
                "packages": [{"name": "torch", "table": "nope"}],
            }
        ],
    )
    with pytest.raises(BaseImageTableError, match="nope"):
        load_table(bad_table)
