"""``depaudit live``: compare a real (running) serving environment with what the repo declares.

The declared side is the environment of the repository's last collected commit in the
store (``depaudit collect`` first); the observed side is pipdeptree's view of an
interpreter on this machine (``--python``) or a JSON file captured on a server
(``--pipdeptree-json``). The observation and its findings are stored, and printed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from depaudit.cli.app import EXIT_FINDINGS, EXIT_OK, app, fail, log, normalize_db_url
from depaudit.model import EnvironmentSnapshot

if TYPE_CHECKING:
    from depaudit.config import AuditConfig

LIVE_FORMATS = ("table", "csv", "json", "markdown", "sarif")
FAIL_ON = ("high", "medium", "low", "never")


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
        fail(f"--env {wanted}: several environments have role {wanted}; name one of: {names}")
    fail(f"--env {wanted}: no such environment or role at the collected head (have: {names})")


def repo_config(path: str, sha: str) -> AuditConfig | None:
    """The repository's config at ``sha`` when its clone is still on disk, else None."""
    if not path or not Path(path).is_dir():
        return None
    from collectors.git import RepositoryError, open_tree
    from collectors.snapshot import read_config

    try:
        tree = open_tree(path, sha).tree
        config, errors = read_config(tree, {e.path: e for e in tree.entries()})
    except (RepositoryError, OSError):
        return None
    return None if errors else config


@app.command()
def live(
    repo: Annotated[str, typer.Option(help="Repository name in the store (as collected).")],
    env: Annotated[
        str, typer.Option(help="Declared environment name, or a role only one environment has.")
    ],
    python: Annotated[
        Path | None, typer.Option(help="Interpreter of the live environment to inspect.")
    ] = None,
    pipdeptree_json: Annotated[
        Path | None,
        typer.Option(help="A `pipdeptree --json` / `--json-tree` capture instead of --python."),
    ] = None,
    os_release: Annotated[
        Path | None,
        typer.Option(help="The live machine's os-release file (with --pipdeptree-json)."),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(help="Store URL or SQLite file (default: $DEPAUDIT_DB, else embedded)."),
    ] = None,
    format: Annotated[
        str, typer.Option("--format", "-f", help="table, csv, json, markdown or sarif.")
    ] = "table",
    fail_on: Annotated[
        str, typer.Option(help="Exit 1 on findings at or above: high, medium, low, never.")
    ] = "never",
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait for the interpreter / pipdeptree.")
    ] = 60.0,
) -> None:
    """Compare a live environment (pipdeptree) with the declared one and store the observation."""
    if (python is None) == (pipdeptree_json is None):
        fail("give exactly one of --python PATH or --pipdeptree-json FILE")
    if os_release is not None and pipdeptree_json is None:
        fail("--os-release goes with --pipdeptree-json (with --python this machine's is read)")
    if format not in LIVE_FORMATS:
        fail(f"--format must be one of {', '.join(LIVE_FORMATS)} (got {format!r})")
    if fail_on not in FAIL_ON:
        fail(f"--fail-on must be one of {', '.join(FAIL_ON)} (got {fail_on!r})")
    if timeout <= 0:
        fail("--timeout must be positive")

    from collectors.live import LiveError, observe_interpreter, observe_pipdeptree_file
    from depaudit.cli.check import failing
    from depaudit.config import AuditConfig
    from depaudit.knowledge import builtin
    from depaudit.live_compare import compare_live
    from depaudit.reports import ReportRow, report_for
    from depaudit.store import schema
    from depaudit.store.engine import StoreError, open_engine
    from depaudit.store.live_snapshots import save_observation
    from depaudit.store.reader import StoreReader

    try:
        engine = open_engine(normalize_db_url(db))
        schema.migrate(engine)  # an older store gains the live_snapshots table
        reader = StoreReader(engine)
        info = reader.repo(repo)
        head = reader.head(info.name)
        if head is None:
            fail(f"repository {repo!r} has no collected commit yet (run `depaudit collect`)")
        environments = reader.environments_at(info.name, head.sha)
    except (StoreError, schema.SchemaError) as exc:
        fail(str(exc))
    except Exception as exc:  # unreachable server, not a database
        fail(f"cannot open the store: {' '.join(str(exc).split())[:200]}")

    declared = pick_environment(environments, env)
    if declared.role != "serving":
        fail(
            f"--env {env}: environment {declared.name} is a {declared.role} environment, not serving"
        )
    observed_name = f"{declared.name}@live"
    try:
        if python is not None:
            observed = observe_interpreter(python, name=observed_name, timeout=timeout)
            source = str(python)
        else:
            assert pipdeptree_json is not None
            observed = observe_pipdeptree_file(
                pipdeptree_json, name=observed_name, os_release=os_release
            )
            source = str(pipdeptree_json)
    except LiveError as exc:
        fail(str(exc))

    config = repo_config(info.path, head.sha) or AuditConfig()
    knowledge = builtin().with_overrides(config.knowledge)
    training = [e for e in environments if e.role == "training" and not e.observed]
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
        fail(str(exc))
    log(
        f"live {info.name}/{declared.name} at {head.sha[:10]}: {len(findings)} findings "
        f"(observed {len(observed.facts)} facts from {source})"
    )

    rows = [ReportRow(f, repo=info.name, commit=head.sha) for f in findings]
    if format == "table":
        from depaudit.reports.table_report import TableReport

        text = TableReport().render(rows, color=sys.stdout.isatty())
    else:
        text = report_for(format).render(rows)
    sys.stdout.write(text)
    raise typer.Exit(EXIT_FINDINGS if failing(findings, fail_on) else EXIT_OK)
