"""Observe a live (running) serving environment and compare it with what the repo declares.

The declared side is the environment of the repository's last collected commit in the
store (``depaudit collect`` first); the observed side is pipdeptree's view of an
interpreter on this machine or a JSON file captured on a server. The observation and its
findings are stored, so ``report`` and the dashboard show them like any other finding.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from depaudit.collectors.git import RepositoryError, open_tree
from depaudit.collectors.live import LiveError as ObserveError
from depaudit.collectors.live import observe_interpreter, observe_pipdeptree_file
from depaudit.collectors.snapshot import read_config
from depaudit.compare import compare_live
from depaudit.config import AuditConfig
from depaudit.knowledge import builtin
from depaudit.model import EnvironmentSnapshot, Finding
from depaudit.store import schema
from depaudit.store.engine import StoreError
from depaudit.store.live_snapshots import save_observation
from depaudit.store.reader import StoreReader


class LiveError(Exception):
    """A live comparison that cannot be made; the message is one line for the user."""


@dataclass(frozen=True, slots=True)
class LiveResult:
    repo: str
    declared: EnvironmentSnapshot
    observed: EnvironmentSnapshot
    commit_sha: str
    source: str  # the interpreter path or the captured file
    findings: tuple[Finding, ...]


def pick_environment(envs: list[EnvironmentSnapshot], wanted: str) -> EnvironmentSnapshot:
    """``wanted`` is an environment name, or a role that exactly one environment has."""
    declared = [e for e in envs if not e.observed]
    by_name = [e for e in declared if e.name == wanted]
    if by_name:
        return by_name[0]
    by_role = [e for e in declared if e.role == wanted]
    if len(by_role) == 1:
        return by_role[0]
    names = ", ".join(f"{e.name} ({e.role})" for e in declared) or "none"
    if len(by_role) > 1:
        raise LiveError(
            f"--env {wanted}: several environments have role {wanted}; name one of: {names}"
        )
    raise LiveError(
        f"--env {wanted}: no such environment or role at the collected head (have: {names})"
    )


def repo_config(path: str, sha: str) -> AuditConfig | None:
    """The repository's config at ``sha`` when its clone is still on disk, else None."""
    if not path or not Path(path).is_dir():
        return None
    try:
        tree = open_tree(path, sha).tree
        config, errors = read_config(tree, {e.path: e for e in tree.entries()})
    except (RepositoryError, OSError):
        return None
    return None if errors else config


def compare_live_environment(
    engine: Engine,
    *,
    repo: str,
    env: str,
    python: Path | None = None,
    pipdeptree_json: Path | None = None,
    os_release: Path | None = None,
    timeout: float = 60.0,
) -> LiveResult:
    """Observe, compare with the declared environment at the stored head, and store."""
    try:
        schema.migrate(engine)  # an older store gains the live_snapshots table
        reader = StoreReader(engine)
        info = reader.repo(repo)
        head = reader.head(info.name)
        if head is None:
            raise LiveError(
                f"repository {repo!r} has no collected commit yet (run `depaudit collect`)"
            )
        environments = reader.environments_at(info.name, head.sha)
        pairs = reader.pairs_at(info.name, head.sha)
    except (StoreError, schema.SchemaError) as exc:
        raise LiveError(str(exc)) from None

    declared = pick_environment(environments, env)
    if declared.role != "serving":
        raise LiveError(
            f"--env {env}: environment {declared.name} is a {declared.role} environment, not serving"
        )
    observed_name = f"{declared.name}@live"
    try:
        if python is not None:
            observed = observe_interpreter(python, name=observed_name, timeout=timeout)
            source = str(python)
        elif pipdeptree_json is not None:
            observed = observe_pipdeptree_file(
                pipdeptree_json, name=observed_name, os_release=os_release
            )
            source = str(pipdeptree_json)
        else:
            raise LiveError("give exactly one of --python PATH or --pipdeptree-json FILE")
    except ObserveError as exc:
        raise LiveError(str(exc)) from None

    config = repo_config(info.path, head.sha) or AuditConfig()
    knowledge = builtin().with_overrides(config.knowledge)
    # the training sides the declared environment is paired with (its project's), not
    # every training environment of a monorepo; a state stored before pairs: all of them
    partners = {p.training for p in pairs if p.serving == declared.name}
    training = [
        e
        for e in environments
        if e.role == "training" and not e.observed and (e.name in partners or not pairs)
    ]
    findings = compare_live(declared, observed, knowledge, training=training, rules=config.rules)
    try:
        save_observation(
            engine,
            repo=info.name,
            env_name=declared.name,
            commit_sha=head.sha,
            source=source,
            snapshot=observed,
            findings=findings,
        )
    except StoreError as exc:
        raise LiveError(str(exc)) from None
    return LiveResult(info.name, declared, observed, head.sha, source, tuple(findings))
