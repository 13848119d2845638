"""AzureML specs: v2 job / deployment / environment YAML and v1 ``inference_config``.

In an AzureML project the specs, not folder names, say what each side installs and runs:
a command job names its code folder and its environment (by name, ``azureml:NAME@latest``,
or inline); an online or batch deployment names its code folder, its scoring script and
its environment; an environment names its conda file and base image. Read as plain
configuration, a spec gave only noise (``instance_type`` compared between a job and a
deployment) and its files stayed where folder names put them. Here each spec gives:

- ``Include(kind="code")``: the code folder the job (or each step of a pipeline job) or
  deployment runs (``code``, ``code_configuration.code``, v1 ``sourceDirectory``), and an
  environment's Docker build context (``build.path``) — the snapshot gives those files to
  the spec's environment; nothing is read through it;
- ``Include(kind="requirements")``: its conda file (``conda_file`` / v1 ``condaFile``),
  read like ``-r``;
- ``Include(kind="environment", target="azureml:NAME")``: an environment used by name, and
  ``Include(kind="defines", target="azureml:NAME")`` in the file that defines it;
- ``Entrypoint``: the scoring / entry script (with its module) or the job's command;
- ``Runtime``: what the base ``image`` implies (OS, Python, CUDA);
- ``ConfigEntry``: ``environment_variables``, masked like every config value.

Endpoint, compute and other AzureML documents give no facts. SageMaker and Vertex specs
are not read yet.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from typing import Any

from depaudit.collectors.sources.images import runtime_facts
from depaudit.collectors.sources.python_code import module_name
from depaudit.model import ConfigEntry, Entrypoint, Fact, Include
from depaudit.secrets import mask_value

_REFERENCE = re.compile(r"^azureml:(?P<name>[A-Za-z0-9][A-Za-z0-9_.\-]*)")
_MAX_VALUE = 200


def spec_kind(doc: Any) -> str | None:
    """``job``, ``deployment``, ``environment``, ``inference_config``, ``other`` (an
    AzureML document that gives no facts) or None (not an AzureML spec)."""
    if not isinstance(doc, dict):
        return None
    schema = str(doc.get("$schema", "")).lower()
    if "azureml" in schema:
        if "deployment" in schema:
            return "deployment"
        if "environment" in schema:
            return "environment"
        if "job" in schema or "component" in schema:
            return "job"
        return "other"
    if isinstance(doc.get("code_configuration"), dict):
        return "deployment"
    if "entryScript" in doc and ("condaFile" in doc or "sourceDirectory" in doc):
        return "inference_config"
    return None


def spec_facts(docs: list[Any], path: str) -> tuple[list[Fact], list[Any]]:
    """(facts of the AzureML documents, the documents that are not AzureML specs)."""
    facts: list[Fact] = []
    others: list[Any] = []
    for doc in docs:
        kind = spec_kind(doc)
        if kind is None:
            others.append(doc)
        elif kind == "deployment":
            facts.extend(_deployment(doc, path))
        elif kind == "job":
            facts.extend(_job(doc, path))
        elif kind == "environment":
            facts.extend(_environment(doc, path))
        elif kind == "inference_config":
            facts.extend(_inference_config(doc, path))
    return facts, others


def _line(doc: Any, key: str) -> int:
    """Where ``key`` is written (the safe YAML loader's mappings know; 0 otherwise)."""
    return int(doc.line_of(key)) if hasattr(doc, "line_of") else 0


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _code(doc: Any, key: str, path: str, folder: str) -> list[Fact]:
    return [Include(folder, path, _line(doc, key), kind="code")] if folder else []


def _script(path: str, folder: str, script: str, line: int, command: str) -> Entrypoint:
    """The entry script as an Entrypoint whose module is the script's file in the tree."""
    where = posixpath.normpath(posixpath.join(posixpath.dirname(path), folder or ".", script))
    return Entrypoint(command, path, line, module=module_name(where) or "")


def _environment(doc: Any, path: str) -> list[Fact]:
    """An environment, inline or a document of its own: conda file, base image, name."""
    out: list[Fact] = []
    name = _text(doc.get("name"))
    if name and spec_kind(doc) == "environment":
        out.append(Include(f"azureml:{name}", path, _line(doc, "name"), kind="defines"))
    conda = _text(doc.get("conda_file"))
    if conda:
        out.append(Include(conda, path, _line(doc, "conda_file")))
    build = doc.get("build")
    context = _text(build.get("path")) if isinstance(build, dict) else ""
    if context:  # a Docker build context: its Dockerfile and requirements are the environment
        out.append(Include(context, path, _line(build, "path"), kind="code"))
    image = _text(doc.get("image"))
    if image:
        out.extend(runtime_facts(image, file=path, line=_line(doc, "image")))
    return out


def _uses_environment(doc: Any, path: str) -> list[Fact]:
    env = doc.get("environment")
    if isinstance(env, dict):
        return _environment(env, path)
    match = _REFERENCE.match(_text(env))
    if match:
        return [Include(f"azureml:{match['name']}", path, _line(doc, "environment"), "environment")]
    return []


def _variables(doc: Any, path: str) -> list[Fact]:
    variables = doc.get("environment_variables")
    if not isinstance(variables, dict):
        return []
    out: list[Fact] = []
    for key, value in variables.items():
        shown, secret = mask_value(str(key), "" if value is None else str(value))
        line = _line(variables, key)
        out.append(ConfigEntry(f"ENV.{key}", shown[:_MAX_VALUE], path, line, secret=secret))
    return out


def _deployment(doc: Any, path: str) -> list[Fact]:
    config = doc.get("code_configuration")
    config = config if isinstance(config, dict) else {}
    folder = _text(config.get("code"))
    out = _code(config, "code", path, folder)
    script = _text(config.get("scoring_script"))
    if script:
        line = _line(config, "scoring_script")
        out.append(_script(path, folder, script, line, f"azmlinfsrv --entry_script {script}"))
    return [*out, *_uses_environment(doc, path), *_variables(doc, path)]


def _job(doc: Any, path: str) -> list[Fact]:
    """A command job, or a pipeline job and each of its ``jobs`` (steps)."""
    out = _one_job(doc, path)
    steps = doc.get("jobs")
    for step in steps.values() if isinstance(steps, dict) else ():
        if isinstance(step, dict):
            out.extend(_one_job(step, path))
    return out


def _one_job(doc: Any, path: str) -> list[Fact]:
    folder = _text(doc.get("code"))
    out = _code(doc, "code", path, folder)
    command = " ".join(_text(doc.get("command")).split())
    if command:
        try:
            words = shlex.split(command)
        except ValueError:
            words = command.split()
        script = next((w for w in words if w.endswith(".py")), "")
        line = _line(doc, "command")
        out.append(
            _script(path, folder, script, line, command)
            if script
            else Entrypoint(command, path, line)
        )
    return [*out, *_uses_environment(doc, path), *_variables(doc, path)]


def _inference_config(doc: Any, path: str) -> list[Fact]:
    """v1 (azureml-core) ``InferenceConfig`` file: entry script, source folder, conda file."""
    folder = _text(doc.get("sourceDirectory")) or "."
    out = _code(doc, "sourceDirectory", path, folder)
    script = _text(doc.get("entryScript"))
    if script:
        line = _line(doc, "entryScript")
        out.append(_script(path, folder, script, line, f"azmlinfsrv --entry_script {script}"))
    conda = _text(doc.get("condaFile"))
    if conda:
        out.append(Include(conda, path, _line(doc, "condaFile")))
    image = _text(doc.get("baseImage"))
    if image:
        out.extend(runtime_facts(image, file=path, line=_line(doc, "baseImage")))
    return out


__all__ = ["spec_facts", "spec_kind"]
