"""Every deploy example parses, and every ``depaudit ...`` command in it is a real CLI call.

Commands are parsed by the real Typer command (its click ``make_context``; Typer 0.29
vendors click, so the classes are Typer's own), so a renamed or misspelt flag in an
example fails here instead of in someone's cron at 2 am.
"""

from __future__ import annotations

import configparser
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml

from depaudit.app.scheduler import REPO_KEYS, ReposFileError, parse_repos_toml
from depaudit.app.shards import Shard, ShardError, resolve_shard
from depaudit.cli import app

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
CLI: Any = typer.main.get_command(app)


def parse_depaudit(words: list[str]) -> Any:
    """Parse ``depaudit SUB ARGS...`` with the real command; raises on unknown flags."""
    assert words[0].endswith("depaudit"), words
    sub = CLI.commands[words[1]]
    return sub.make_context(words[1], list(words[2:]), resilient_parsing=False)


def shell_commands(text: str) -> list[list[str]]:
    """``depaudit ...`` command lines in shell-ish text (cron lines, run: steps)."""
    found = []
    for line in text.splitlines():
        match = re.search(
            r"(?:^|\s)((?:/\S*/)?depaudit\s+(?:collect|check|live|report|dashboard)\b.*)", line
        )
        if match and not line.lstrip().startswith("#"):
            command = match.group(1).split(">>")[0].split("|")[0]
            command = re.sub(r"\$\{\{[^}]*\}\}", "X", command)  # GitHub expressions
            found.append(shlex.split(command))
    return found


def test_crontab() -> None:
    text = (DEPLOY / "crontab").read_text("utf-8")
    jobs = [
        ln
        for ln in text.splitlines()
        if ln.strip() and not ln.startswith("#") and "=" not in ln.split()[0]
    ]
    assert jobs
    for line in jobs:
        fields = line.split(None, 5)
        assert len(fields) == 6  # five time fields and the command
        for value in fields[:5]:
            assert re.fullmatch(r"[\d*,/-]+", value), value
    commands = shell_commands(text)
    assert len(commands) == len(jobs)
    for words in commands:
        ctx = parse_depaudit(words)
        assert ctx.params["repos"] is not None


@pytest.mark.parametrize("name", ["depaudit-collect.service", "depaudit-collect.timer"])
def test_systemd_units(name: str) -> None:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((DEPLOY / "systemd" / name).read_text("utf-8"))
    assert "Unit" in parser and "Install" in parser
    if name.endswith(".service"):
        service = parser["Service"]
        assert service["Type"] == "oneshot"
        assert service["User"] != "root"
        ctx = parse_depaudit(shlex.split(service["ExecStart"]))
        assert ctx.params["log_format"] == "json"
    else:
        timer = parser["Timer"]
        assert timer["Unit"] == "depaudit-collect.service"
        assert timer["OnCalendar"]


def test_kubernetes_cronjob() -> None:
    doc: dict[str, Any] = yaml.safe_load(
        (DEPLOY / "kubernetes" / "cronjob.yaml").read_text("utf-8")
    )
    assert doc["kind"] == "CronJob" and doc["apiVersion"] == "batch/v1"
    assert len(doc["spec"]["schedule"].split()) == 5
    pod = doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    db = next(e for e in container["env"] if e["name"] == "DEPAUDIT_DB")
    assert set(db["valueFrom"]["secretKeyRef"]) == {"name", "key"}
    # a read-only root needs writable mounts for the mirrors and /tmp
    mounts = {m["mountPath"] for m in container["volumeMounts"] if not m.get("readOnly")}
    assert {"/var/cache/depaudit", "/tmp"} <= mounts
    words = [*container["command"], *container["args"]]
    ctx = parse_depaudit(words)
    # parsed, not converted: typer turns the string into a Path when it calls the command
    assert Path(ctx.params["cache_dir"]) == Path("/var/cache/depaudit/mirrors")


def kubernetes_documents() -> list[tuple[str, dict[str, Any]]]:
    """(file name, document) of every YAML document of every Kubernetes example."""
    return [
        (path.name, doc)
        for path in sorted((DEPLOY / "kubernetes").glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text("utf-8"))
        if doc is not None
    ]


def job_spec(doc: dict[str, Any]) -> dict[str, Any] | None:
    if doc["kind"] == "CronJob":
        return dict(doc["spec"]["jobTemplate"]["spec"])
    if doc["kind"] == "Job":
        return dict(doc["spec"])
    return None


def test_every_kubernetes_example_is_hardened_and_its_commands_are_real() -> None:
    documents = kubernetes_documents()
    assert {name for name, _ in documents} >= {"cronjob.yaml", "indexed-job.yaml"}
    jobs = 0
    for name, doc in documents:
        assert doc["apiVersion"] and doc["kind"], name
        spec = job_spec(doc)
        if spec is None:
            continue
        jobs += 1
        pod = spec["template"]["spec"]
        assert pod["restartPolicy"] == "Never", name
        assert pod["automountServiceAccountToken"] is False, name
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
        for container in pod["containers"]:
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, name
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["capabilities"]["drop"] == ["ALL"], name
            assert set(container["resources"]) == {"requests", "limits"}, name
            db = next(e for e in container["env"] if e["name"] == "DEPAUDIT_DB")
            assert set(db["valueFrom"]["secretKeyRef"]) == {"name", "key"}, name
            mounts = {m["mountPath"] for m in container["volumeMounts"] if not m.get("readOnly")}
            assert {"/var/cache/depaudit", "/tmp"} <= mounts, name
            parse_depaudit([*container["command"], *container["args"]])
    assert jobs >= 2


def test_kubernetes_indexed_job() -> None:
    documents = {
        doc["kind"]: doc for name, doc in kubernetes_documents() if name == "indexed-job.yaml"
    }
    spec = job_spec(documents["CronJob"])
    assert spec is not None
    assert documents["CronJob"]["spec"]["concurrencyPolicy"] == "Forbid"
    assert spec["completionMode"] == "Indexed"
    n = spec["completions"]
    assert n == spec["parallelism"] and n > 1
    assert spec["backoffLimitPerIndex"] >= 0 and "backoffLimit" not in spec
    (container,) = spec["template"]["spec"]["containers"]
    ctx = parse_depaudit([*container["command"], *container["args"]])
    assert ctx.params["repos"] is not None and ctx.params["shard"] is None
    assert not any(e["name"] == "JOB_COMPLETION_INDEX" for e in container["env"])
    count_env = {e["name"]: e.get("value") for e in container["env"]}.get("DEPAUDIT_SHARD_COUNT")
    count = ctx.params["shard_count"] or count_env
    # each index Kubernetes hands out is one shard; one more would be refused
    assert [resolve_shard(None, count, {"JOB_COMPLETION_INDEX": str(i)}) for i in range(n)] == [
        Shard(i + 1, n) for i in range(n)
    ]
    with pytest.raises(ShardError):
        resolve_shard(None, count, {"JOB_COMPLETION_INDEX": str(n)})
    # the shards go to different nodes when there are (on one node they share its cores)
    spread = spec["template"]["spec"]["topologySpreadConstraints"]
    assert any(c["topologyKey"] == "kubernetes.io/hostname" for c in spread)
    labels = spec["template"]["metadata"]["labels"]
    for constraint in spread:
        assert constraint["labelSelector"]["matchLabels"].items() <= labels.items()
    # the mirrors are one volume shared by the shards
    volumes = {v["name"]: v for v in spec["template"]["spec"]["volumes"]}
    mirrors = next(m for m in container["volumeMounts"] if m["mountPath"] == "/var/cache/depaudit")
    claim = volumes[mirrors["name"]]["persistentVolumeClaim"]["claimName"]
    pvc = documents["PersistentVolumeClaim"]
    assert pvc["metadata"]["name"] == claim
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]
    # parsed, not converted: typer turns the string into a Path when it calls the command
    assert Path(ctx.params["cache_dir"]) == Path("/var/cache/depaudit/mirrors")


def test_github_workflow() -> None:
    doc: dict[Any, Any] = yaml.safe_load((DEPLOY / "github" / "depaudit.yml").read_text("utf-8"))
    triggers = doc[True] if True in doc else doc["on"]  # YAML 1.1 reads `on` as True
    assert "pull_request" in triggers and triggers["schedule"][0]["cron"]
    steps = [s for job in doc["jobs"].values() for s in job["steps"]]
    commands = [words for s in steps if "run" in s for words in shell_commands(s["run"])]
    # the gate is depaudit's own action (action.yml; tests/deploy/test_integrations.py runs it)
    gate = next(s for s in steps if re.fullmatch(r"[\w.-]+/depaudit@\S+", s.get("uses", "")))
    action_inputs = yaml.safe_load((DEPLOY.parent / "action.yml").read_text("utf-8"))["inputs"]
    assert set(gate["with"]) <= set(action_inputs)
    assert (gate["with"]["fail-on"], gate["with"]["baseline"]) == ("high", "origin/main")
    upload = next(
        s for s in steps if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif")
    )
    assert upload["with"]["sarif_file"] == gate["with"]["sarif-file"]
    assert doc["jobs"]["gate"]["permissions"]["security-events"] == "write"
    assert any(c[1] == "collect" for c in commands)
    for words in commands:
        parse_depaudit(words)


def test_repos_example(tmp_path: Path) -> None:
    text = (DEPLOY / "repos.example.toml").read_text("utf-8")
    data = tomllib.loads(text)
    assert {k for entry in data["repos"] for k in entry} <= set(REPO_KEYS)
    # the scheduler's own strict reader accepts it (given the config file it names)
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "recsys.depaudit.toml").write_text("", "utf-8")
    specs = parse_repos_toml(text, tmp_path / "repos.toml")
    assert [s.name for s in specs] == ["fraud-api", "ranker", "recsys"]


def test_readme_commands_are_real() -> None:
    text = (DEPLOY / "README.md").read_text("utf-8")
    commands = shell_commands(text)
    assert len(commands) >= 4
    for words in commands:
        parse_depaudit(words)


def test_a_wrong_flag_is_caught() -> None:
    # the check itself must be able to fail
    with pytest.raises(Exception, match="--jobz") as info:
        parse_depaudit(["depaudit", "collect", "--repos", "r.toml", "--jobz", "2"])
    assert type(info.value).__name__ == "NoSuchOption"
    with pytest.raises(ReposFileError):
        parse_repos_toml('[[repos]]\nname = "x"\npath = "."\nbranche = "main"\n', Path("r.toml"))
