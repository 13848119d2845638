"""``depaudit live``: compare a real (running) serving environment with what the repo declares.

The declared side is the environment of the repository's last collected commit in the
store (``depaudit collect`` first); the observed side is pipdeptree's view of an
interpreter on this machine (``--python``) or a JSON file captured on a server
(``--pipdeptree-json``). The observation and its findings are stored, and printed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from depaudit.cli.app import (
    EXIT_FINDINGS,
    EXIT_OK,
    FAIL_ON,
    FORMATS,
    app,
    fail,
    failing,
    log,
    normalize_db_url,
    render,
)
from depaudit.cli.extras import require_live_extra


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
    if format not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)} (got {format!r})")
    if fail_on not in FAIL_ON:
        fail(f"--fail-on must be one of {', '.join(FAIL_ON)} (got {fail_on!r})")
    if timeout <= 0:
        fail("--timeout must be positive")
    if python is not None:
        require_live_extra("live --python")

    from depaudit.app.live import LiveError, compare_live_environment
    from depaudit.reports import ReportRow
    from depaudit.reports.grouping import one_row_per_fact
    from depaudit.store.engine import open_engine

    try:
        engine = open_engine(normalize_db_url(db))
    except Exception as exc:  # unreachable server, not a database
        fail(f"cannot open the store: {' '.join(str(exc).split())[:200]}")
    try:
        result = compare_live_environment(
            engine,
            repo=repo,
            env=env,
            python=python,
            pipdeptree_json=pipdeptree_json,
            os_release=os_release,
            timeout=timeout,
        )
    except LiveError as exc:
        fail(str(exc))
    except Exception as exc:  # a store that cannot be read
        fail(f"cannot open the store: {' '.join(str(exc).split())[:200]}")
    finally:
        engine.dispose()
    findings = result.findings
    log(
        f"live {result.repo}/{result.declared.name} at {result.commit_sha[:10]}: "
        f"{len(findings)} findings (observed {len(result.observed.facts)} facts from {result.source})"
    )
    # an installed package judged against each training side is one fact of the observed side
    rows = one_row_per_fact(
        [ReportRow(f, repo=result.repo, commit=result.commit_sha) for f in findings]
    )
    sys.stdout.write(render(rows, format, to_terminal=sys.stdout.isatty()))
    raise typer.Exit(EXIT_FINDINGS if failing(findings, fail_on) else EXIT_OK)
