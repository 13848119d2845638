"""conda environment files (``environment.yml``, ``conda*.yml``, ``*environment*.yaml``).

Each ``dependencies`` entry is a conda match spec (``numpy=1.26``, ``pytorch::pytorch>=2``,
``cudatoolkit 11.8.* h4ba93d1_0``). Conda semantics are kept: ``=1.26`` is the fuzzy
``1.26.*`` (no pinned version), ``==1.26`` or a version plus a build string is an exact
pin. ``|`` alternatives have no PEP 440 form and give "" (unconstrained).

What becomes what:
- ``python`` -> ``Runtime(python)``;
- ``cudatoolkit`` / ``cuda-runtime`` / ``cuda-version`` -> ``Runtime(cuda, detail="runtime")``,
  ``cuda-toolkit`` / ``cuda-nvcc`` / ``cudatoolkit-dev`` -> ``Runtime(cuda, detail="devel")``;
- clearly non-Python system libraries and toolchains (compilers, CUDA / cuDNN / NCCL,
  ``lib*``, BLAS, ffmpeg, git, …) -> ``SystemPackage(manager="conda")``: comparing them with
  pip packages would only make noise, while DA601 judges toolchains;
- everything else -> ``Package(manager="conda")``, named by its PyPI name where conda's
  differs (``pytorch`` -> ``torch``);
- the nested ``- pip:`` list is read like a requirements file (``manager="pip"``);
- URL ``channels`` -> index network targets; ``variables`` -> masked config entries.

A file with such a name that is not a conda environment (no ``dependencies`` list) is
handed to the generic config reader, so this source never hides a YAML config file.
"""

from __future__ import annotations

import importlib
import posixpath
import re
from collections.abc import Mapping
from typing import Any

from packaging.specifiers import InvalidSpecifier
from packaging.utils import canonicalize_name

from depaudit.collectors.sources.base import error, guarded
from depaudit.collectors.sources.pep508 import (
    clean_url,
    normalize_specifier,
    pinned_version_of,
    safe_message,
)
from depaudit.collectors.sources.requirements import parse_requirements_text
from depaudit.collectors.sources.safe_yaml import SafeYamlError, line_of, load_all
from depaudit.model import (
    ConfigEntry,
    Fact,
    NetworkTarget,
    Package,
    ParseError,
    Runtime,
    SourceResult,
    SystemPackage,
)
from depaudit.secrets import mask, mask_value, split_url

# conda name -> PyPI name, where they differ for the same library
CONDA_TO_PYPI = {
    "pytorch": "torch",
    "pytorch-cpu": "torch",
    "pytorch-gpu": "torch",
    "py-xgboost": "xgboost",
    "py-xgboost-gpu": "xgboost",
    "py-opencv": "opencv-python",
    "msgpack-python": "msgpack",
    "tensorflow-gpu": "tensorflow",
}
CUDA_RUNTIME = {"cudatoolkit", "cuda-runtime", "cuda-version", "cuda-cudart"}
CUDA_DEVEL = {"cuda-toolkit", "cuda-nvcc", "cudatoolkit-dev", "cuda"}
_SYSTEM_NAMES = {
    "compilers", "c-compiler", "cxx-compiler", "fortran-compiler", "make", "cmake", "ninja",
    "pkg-config", "autoconf", "automake", "libtool", "git", "curl", "wget", "openssl",
    "ca-certificates", "ffmpeg", "mkl", "mkl-devel", "mkl-include", "openblas", "blas",
    "openmpi", "mpich", "nccl", "cudnn", "magma", "nodejs", "graphviz", "sqlite", "zlib",
    "xz", "bzip2", "readline", "ncurses", "tk", "openjdk", "unzip", "zstd", "cuda-nvcc",
    "cuda-toolkit", "cudatoolkit", "cudatoolkit-dev", "cuda",
}  # fmt: skip
_SYSTEM_PATTERN = re.compile(r"^(lib.+|cuda-.+|(gcc|gxx|gfortran|clang|clangxx)(_.+)?|r-base)$")
_SPEC = re.compile(r"^(?P<name>[A-Za-z0-9_.\-]+)\s*(?P<rest>.*)$")
_BRACKET_VERSION = re.compile(r"""version\s*=\s*["']?(?P<v>[^"',\]]+(?:,[^"',\]]+)*)["']?""")


class CondaEnvironmentSource:
    """conda ``environment.yml`` files."""

    name = "conda"

    def matches(self, path: str) -> bool:
        stem, ext = posixpath.splitext(posixpath.basename(path).lower())
        if ext not in (".yml", ".yaml"):
            return False
        # conda.yml, conda_dependencies.yml, environment.yml, and the role-named files of
        # AzureML and MLflow templates: train-conda.yml, infer-conda.yml, conda-gpu.yaml
        return "conda" in stem or "environment" in stem

    def parse(self, text: str, path: str) -> SourceResult:
        try:
            documents = load_all(text)  # the ParseError names the file already
        except SafeYamlError as exc:
            return error(path, str(exc), exc.line)
        document = next(
            (d for d in documents if isinstance(d, Mapping) and "dependencies" in d), None
        )
        if document is None:
            return _as_config_file(text, path)
        facts: list[Fact] = []
        dependencies = document["dependencies"]
        if not isinstance(dependencies, list):
            line = line_of(document, "dependencies", 1)
            return error(path, "dependencies must be a list", line)
        for index, entry in enumerate(dependencies):
            line = line_of(dependencies, index, 1)
            if isinstance(entry, str):
                facts.extend(conda_spec_facts(entry, path, line))
            elif isinstance(entry, Mapping) and "pip" in entry:
                facts.extend(_pip_section(entry["pip"], path, line))
            else:
                facts.append(ParseError(path, "dependency must be a string or a pip: list", line))
        channels = document.get("channels", [])
        for index, channel in enumerate(channels if isinstance(channels, list) else []):
            if isinstance(channel, str) and split_url(channel)[1]:
                line = line_of(channels, index, 1)
                facts.append(NetworkTarget(clean_url(channel), "index", path, line, key="channels"))
        variables = document.get("variables", {})
        for key, value in (variables if isinstance(variables, Mapping) else {}).items():
            text = "" if value is None else str(value)
            # a huge value is masked whole: the secret patterns would scan it for ever
            masked, secret = (mask(text), True) if len(text) > 4096 else mask_value(str(key), text)
            line = line_of(variables, key, 1)
            facts.append(ConfigEntry(f"variables.{key}", masked, path, line, secret=secret))
        return SourceResult(tuple(facts))


def _pip_section(entries: Any, path: str, line: int) -> list[Fact]:
    if not isinstance(entries, list):
        return [ParseError(path, "pip: must be a list of requirements", line)]
    facts: list[Fact] = []
    for index, entry in enumerate(entries):
        entry_line = line_of(entries, index, line)
        if not isinstance(entry, str):
            facts.append(ParseError(path, "pip: entries must be strings", entry_line))
            continue
        facts.extend(parse_requirements_text(entry, path, first_line=entry_line))
    return facts


def conda_spec_facts(entry: str, path: str, line: int) -> list[Fact]:
    """Facts of one conda match spec (``numpy=1.26``, ``pytorch::pytorch>=2``): the one
    reading of conda specs, also for ``conda install`` in a Dockerfile."""
    spec = entry.strip()
    if "::" in spec:
        spec = spec.split("::", 1)[1]  # channel prefix: pytorch::pytorch
    match = _SPEC.match(spec)
    if not match:
        return [ParseError(path, safe_message(f"invalid conda spec {entry!r}"), line)]
    name = canonicalize_name(match.group("name"))
    raw_version, exact = _conda_version(match.group("rest").strip())
    version_text = raw_version.lstrip("=")
    if name == "python":
        return [
            Runtime(
                "python",
                version_text.removesuffix(".*") if exact is False else version_text,
                path,
                line,
                detail="conda",
            )
        ]
    facts: list[Fact] = []
    if name in CUDA_RUNTIME | CUDA_DEVEL:
        detail = "devel" if name in CUDA_DEVEL else "runtime"
        facts.append(Runtime("cuda", version_text.removesuffix(".*"), path, line, detail=detail))
    if name in _SYSTEM_NAMES or _SYSTEM_PATTERN.match(name):
        facts.append(SystemPackage(name, path, line, manager="conda", version=version_text))
        return facts
    try:
        specifier = _pep440(raw_version, exact)
    except InvalidSpecifier:
        return [ParseError(path, safe_message(f"unsupported conda version in {entry!r}"), line)]
    facts.append(
        Package(
            name=CONDA_TO_PYPI.get(name, name),
            file=path,
            line=line,
            specifier=specifier,
            version=pinned_version_of(specifier),
            manager="conda",
        )
    )
    return facts


def _conda_version(rest: str) -> tuple[str, bool | None]:
    """(version as written, exact?) from what follows the name; None: an operator spec."""
    if rest.startswith("["):
        found = _BRACKET_VERSION.search(rest)
        rest = found.group("v") if found else ""
        return rest, None if rest[:1] in "<>=!~" else True
    words = rest.split()
    if len(words) >= 2:  # "1.26.* py310h_0": version and build string
        if not words[0][:1].isdigit():
            return words[0], None
        return words[0], not words[0].endswith("*")
    if rest.startswith("=") and not rest.startswith("=="):
        version, _, build = rest[1:].partition("=")
        return "=" + version, bool(build)  # =1.26 is fuzzy, =1.26=build exact
    if rest and rest[0].isdigit():
        return rest, not rest.endswith("*")  # "numpy 1.26": exact
    return rest, None


def _pep440(raw: str, exact: bool | None) -> str:
    if not raw or "|" in raw:
        return ""
    if exact is None:
        return normalize_specifier(raw)
    version = raw.lstrip("=").removesuffix("*").removesuffix(".")
    return normalize_specifier(f"=={version}" if exact else f"=={version}.*")


def _as_config_file(text: str, path: str) -> SourceResult:
    """A YAML file named like an environment but without ``dependencies``: generic config."""
    try:
        module = importlib.import_module("depaudit.collectors.sources.config_files")
    except ModuleNotFoundError:
        return SourceResult()
    result: SourceResult = module.SOURCE.parse(text, path)
    return result


SOURCE = guarded(CondaEnvironmentSource())
