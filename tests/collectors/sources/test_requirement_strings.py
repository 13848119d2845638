"""One requirement string, the same fact in every source (``pep508.requirement_fact``).

``RUN pip install "Ray[Tune]>=2.9,<3"`` in a Dockerfile and the same line in
requirements.txt gave different facts (extras not normalised, specifiers in another
order, bad strings silently dropped), because four sources each turned strings into
packages their own way. Each string below is written into every source that reads
requirement strings, the way that format writes it, and the facts must be identical
once the file and line (which differ by construction) are set aside.
"""

from __future__ import annotations

import dataclasses
import json
import shlex
from collections.abc import Callable

import pytest

from depaudit.collectors.sources import source_for
from depaudit.model import Fact, Package, ParseError, SystemPackage


def requirements_txt(requirement: str) -> tuple[str, str]:
    return "svc/requirements.txt", f"# pinned for the API\n{requirement}\n"


def dockerfile(requirement: str) -> tuple[str, str]:
    return (
        "svc/Dockerfile",
        "FROM python:3.11-slim\nWORKDIR /app\n"
        f"RUN pip install --no-cache-dir {shlex.quote(requirement)}\n",
    )


def conda_pip(requirement: str) -> tuple[str, str]:
    return (
        "svc/environment.yml",
        "name: svc\nchannels: [conda-forge]\ndependencies:\n  - python=3.11\n  - pip\n"
        f"  - pip:\n    - {json.dumps(requirement)}\n",
    )


def pyproject(requirement: str) -> tuple[str, str]:
    return (
        "svc/pyproject.toml",
        f'[project]\nname = "svc"\nversion = "0.1.0"\ndependencies = [\n  {json.dumps(requirement)},\n]\n',
    )


def setup_cfg(requirement: str) -> tuple[str, str]:
    return (
        "svc/setup.cfg",
        f"[metadata]\nname = svc\n\n[options]\ninstall_requires =\n    {requirement}\n",
    )


PIP_SYNTAX = {"requirements": requirements_txt, "dockerfile": dockerfile, "conda": conda_pip}
METADATA = {"pyproject": pyproject, "setup_cfg": setup_cfg}  # PEP 508 only
EVERY_SOURCE = {**PIP_SYNTAX, **METADATA}

TOKEN = "glpat-Abcdefghij0123456789"
PASSWORD = "s3cretT0ken-deploy"

# valid PEP 508: every source must read the same Package
PEP508 = [
    "Ray[Tune]>=2.9,<3",
    "ray[Default,TUNE] <3, >=2.9",
    "Scikit_Learn==1.4.2",
    "numpy==1.26.*",
    "legacy.pkg===1.0-custom",
    "torch>=2.1 ; platform_machine == 'x86_64' and python_version < '3.12'",
    f"private_lib @ https://deploy:{PASSWORD}@pkgs.example.com/private_lib-1.2.0.tar.gz",
    f"feature-store @ git+https://ci:{TOKEN}@gitlab.example.com/ml/feature-store.git@v1.3.0",
    "tokenizers @ https://files.example.com/tokenizers-0.15.2.tar.gz ; sys_platform == 'linux'",
    "Foo.Bar_Baz~=2.0,!=2.0.3",
    "requests[SOCKS,Security]",
]
# invalid everywhere: one ParseError each, with the same message in every source
INVALID = [
    "scikit-learn = 1.4",
    "ray[tune>=2.9",
    "pandas==2.2[performance]",
    "numpy>=",
    "torch>=2 ; python_version ~ '3'",
]
# valid for pip (requirements files, pip install) but not as package metadata
PIP_ONLY = [
    f"git+https://ci:{TOKEN}@gitlab.example.com/ml/feature-store.git@v1.3.0#egg=feature_store",
    "https://github.com/acme/unnamed-pkg/archive/refs/tags/unnamed-pkg-1.2.0.zip",
    "https://github.com/acme/model-utils/archive/refs/heads/main.zip",
    "./wheels/onnxruntime-1.17.1-cp311-cp311-manylinux_2_28_x86_64.whl",
]


def read(write: Callable[[str], tuple[str, str]], requirement: str) -> list[Fact]:
    path, text = write(requirement)
    source = source_for(path)
    assert source is not None, path
    return [
        dataclasses.replace(f, file="", line=0)
        for f in source.parse(text, path)
        if isinstance(f, (Package, ParseError)) and getattr(f, "name", "") != "pip"
    ]


def facts_by_source(requirement: str, sources: dict[str, Callable[[str], tuple[str, str]]]):
    return {name: read(write, requirement) for name, write in sources.items()}


@pytest.mark.parametrize("requirement", PEP508)
def test_valid_requirement_is_the_same_package_in_every_source(requirement: str) -> None:
    found = facts_by_source(requirement, EVERY_SOURCE)
    first = found["requirements"]
    assert len(first) == 1 and isinstance(first[0], Package), first
    assert found == dict.fromkeys(EVERY_SOURCE, first)
    assert PASSWORD not in repr(first) and TOKEN not in repr(first)


def test_case_spacing_and_order_do_not_make_another_package() -> None:
    one = read(dockerfile, "Ray[Tune]>=2.9,<3")
    other = read(requirements_txt, "ray[tune] < 3 , >= 2.9")
    assert one == other == [Package("ray", "", 0, specifier=">=2.9,<3", extras=("tune",))]


@pytest.mark.parametrize(
    ("requirement", "expected"),
    [
        ("numpy==1.26.*", Package("numpy", "", 0, specifier="==1.26.*")),
        (
            "legacy.pkg===1.0-custom",
            Package("legacy-pkg", "", 0, specifier="===1.0-custom", version="1.0-custom"),
        ),
        (
            "torch>=2.1 ; platform_machine == 'x86_64' and python_version < '3.12'",
            Package(
                "torch",
                "",
                0,
                specifier=">=2.1",
                marker='platform_machine == "x86_64" and python_version < "3.12"',
            ),
        ),
        (
            f"feature-store @ git+https://ci:{TOKEN}@gitlab.example.com/ml/feature-store.git@v1.3.0",
            Package(
                "feature-store",
                "",
                0,
                url="git+https://gitlab.example.com/ml/feature-store.git@v1.3.0",
            ),
        ),
    ],
)
def test_what_the_one_fact_holds(requirement: str, expected: Package) -> None:
    for write in EVERY_SOURCE.values():
        assert read(write, requirement) == [expected]


@pytest.mark.parametrize("requirement", INVALID)
def test_invalid_requirement_is_the_same_one_error_in_every_source(requirement: str) -> None:
    found = facts_by_source(requirement, EVERY_SOURCE)
    first = found["requirements"]
    assert len(first) == 1 and isinstance(first[0], ParseError), first
    assert first[0].message.startswith(f"invalid requirement {requirement!r}: ")
    assert "\n" not in first[0].message
    assert found == dict.fromkeys(EVERY_SOURCE, first)


LONG_TOKEN = "ghp_" + "A1b2C3d4E5f6" * 8  # longer than the part of a requirement an error quotes


@pytest.mark.parametrize(
    "requirement",
    [
        f"private_lib @ https://deploy:{LONG_TOKEN}@pkgs.example.com/p.tar.gz ; python_version ~ '3'",
        f"private lib @ https://deploy:{LONG_TOKEN}@pkgs.example.com/p.tar.gz",
        f"private_lib @ https://{LONG_TOKEN}@pkgs.example.com/p.tar.gz ; os_name = 'posix'",
    ],
)
def test_an_error_never_quotes_credentials(requirement: str) -> None:
    for name, errors in facts_by_source(requirement, EVERY_SOURCE).items():
        assert len(errors) == 1 and isinstance(errors[0], ParseError), name
        assert "A1b2C3d4" not in errors[0].message, name
        assert "pkgs.example.com" in errors[0].message, name


def test_an_assignment_instead_of_a_pin_says_so() -> None:
    (error,) = read(dockerfile, "xgboost = 2.0.3")
    assert isinstance(error, ParseError)
    assert "'=' is not a version operator, did you mean '=='?" in error.message


@pytest.mark.parametrize("requirement", PIP_ONLY)
def test_pip_forms_are_the_same_package_wherever_pip_reads_them(requirement: str) -> None:
    found = facts_by_source(requirement, PIP_SYNTAX)
    first = found["requirements"]
    assert len(first) == 1 and isinstance(first[0], Package), first
    assert found == dict.fromkeys(PIP_SYNTAX, first)
    assert TOKEN not in repr(first)
    for name, write in METADATA.items():  # not valid package metadata: one clear error
        (error,) = read(write, requirement)
        assert isinstance(error, ParseError), name
        assert error.message.startswith("invalid requirement ")
        assert TOKEN not in error.message


@pytest.mark.parametrize("local", [".", "./libs/shared", ".[serve]"])
def test_a_local_project_is_the_repository_own_code_in_every_pip_source(local: str) -> None:
    assert facts_by_source(local, PIP_SYNTAX) == {name: [] for name in PIP_SYNTAX}


def test_editable_vcs_install_is_the_same_package_in_requirements_and_dockerfile() -> None:
    url = "git+https://github.com/acme/model-utils.git@0b1c2d3#egg=Model_Utils"
    from_requirements = read(lambda r: ("requirements.txt", f"-e {r}\n"), url)
    from_dockerfile = read(
        lambda r: ("Dockerfile", f"FROM python:3.11\nRUN pip install -e {r}\n"), url
    )
    assert (
        from_requirements
        == from_dockerfile
        == [Package("model-utils", "", 0, url=url, editable=True)]
    )


def test_pipfile_table_is_the_package_its_requirement_string_is() -> None:
    pipfile = (
        '[packages]\nRay = {version = ">=2.9,<3", extras = ["Tune"], '
        "markers = \"python_version < '3.12'\"}\n"
    )
    source = source_for("Pipfile")
    assert source is not None
    (from_pipfile,) = source.parse(pipfile, "Pipfile")
    (from_requirements,) = read(requirements_txt, "ray[tune]>=2.9,<3 ; python_version < '3.12'")
    assert isinstance(from_pipfile, Package)
    assert dataclasses.replace(from_pipfile, file="", line=0, manager="pip") == from_requirements


def test_unresolved_build_variable_in_the_version_keeps_the_name() -> None:
    text = (
        "FROM python:3.11\nARG TORCH\nRUN pip install torch==${TORCH} ${EXTRA_PKG} /wheels/*.whl\n"
    )
    source = source_for("Dockerfile")
    assert source is not None
    packages = [f for f in source.parse(text, "Dockerfile") if isinstance(f, (Package, ParseError))]
    assert packages == [Package("torch", "Dockerfile", 3)]


def conda_environment(spec: str) -> tuple[str, str]:
    return "envs/environment.yml", f"name: svc\ndependencies:\n  - {json.dumps(spec)}\n"


def dockerfile_conda(spec: str) -> tuple[str, str]:
    return "Dockerfile", f"FROM continuumio/miniconda3\nRUN conda install -y {shlex.quote(spec)}\n"


@pytest.mark.parametrize(
    "spec",
    [
        "pytorch=2.2.0",
        "numpy==1.26.4",
        "conda-forge::xgboost>=2.0",
        "scikit-learn 1.4.*",
        "libgomp=13.2",
        "tensorflow-gpu",
    ],
)
def test_conda_spec_is_the_same_fact_in_environment_yml_and_conda_install(spec: str) -> None:
    wanted = (Package, SystemPackage, ParseError)
    from_env = [f for f in read_any(conda_environment, spec) if isinstance(f, wanted)]
    from_docker = [f for f in read_any(dockerfile_conda, spec) if isinstance(f, wanted)]
    assert from_env == from_docker and from_env


def read_any(write: Callable[[str], tuple[str, str]], text: str) -> list[Fact]:
    path, content = write(text)
    source = source_for(path)
    assert source is not None, path
    return [dataclasses.replace(f, file="", line=0) for f in source.parse(content, path)]
