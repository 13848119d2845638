"""``depaudit check PATH``: audit the working tree or one commit, print a report, gate CI."""

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
    check_output_path,
    fail,
    failing,
    log,
    read_config_file,
    render,
    write_output,
)
from depaudit.model import TreeAudit


@app.command()
def check(
    path: Annotated[
        Path, typer.Argument(help="Repository to audit (working tree, or a git repo with --rev).")
    ],
    rev: Annotated[
        str | None,
        typer.Option(help="Audit this commit from git objects instead of the working tree."),
    ] = None,
    format: Annotated[
        str, typer.Option("--format", "-f", help="table, csv, json, markdown or sarif.")
    ] = "table",
    fail_on: Annotated[
        str, typer.Option(help="Exit 1 on findings at or above: high, medium, low, never.")
    ] = "high",
    config: Annotated[
        Path | None, typer.Option(help="A depaudit config file on disk (overrides the repo's).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report to FILE.")
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Do not print the environment assignment.")
    ] = False,
    baseline: Annotated[
        str | None,
        typer.Option(
            help="Only findings not in this JSON report FILE or git REV count for --fail-on."
        ),
    ] = None,
) -> None:
    """Audit one tree: which training leftovers are in serving, what drifted, what is shared."""
    if format not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)} (got {format!r})")
    if fail_on not in FAIL_ON:
        fail(f"--fail-on must be one of {', '.join(FAIL_ON)} (got {fail_on!r})")
    if not path.exists():
        fail(f"{path}: no such directory")
    if not path.is_dir():
        fail(f"{path}: not a directory")
    check_output_path(output)
    audit_config = read_config_file(config)[0] if config is not None else None

    from depaudit.app.audit import audit_tree
    from depaudit.app.baseline import BaselineError, baseline_keys, new_findings
    from depaudit.collectors.git import RepositoryError, open_tree
    from depaudit.reports import ReportRow
    from depaudit.reports.grouping import one_row_per_fact, projects_of
    from depaudit.reports.json_report import JsonReport

    # the baseline is the user's input: a bad one fails before any report is printed
    known: frozenset[str] | None = None
    if baseline is not None:
        try:
            known, described = baseline_keys(baseline, repo=path, config=audit_config)
        except (BaselineError, RepositoryError) as exc:
            fail(str(exc))

    try:
        opened = open_tree(path, rev, exclude=[output] if output is not None else [])
    except RepositoryError as exc:
        fail(str(exc))
    if opened.notice:
        log(f"depaudit: {opened.notice}")
    commit = opened.commit

    audit = audit_tree(opened.tree, config=audit_config)
    # The audit is the same as collect stores (a DA901 finding, conventions used), but a
    # gate must not pass or fail on guesses: the repository's config is input to fix first.
    for err in audit.config_errors:
        fail(f"{err.file}: {err.message}")
    if not quiet:
        print_assignment(audit)
    elif not audit.pairs:
        # a gate that compared nothing must not look like a clean pass, even with -q
        log(
            "depaudit: no training x serving pair found: nothing was compared "
            "(run without -q to see the environments)"
        )
    repo_name = path.resolve().name
    rows = one_row_per_fact(
        [ReportRow(f, repo=repo_name, commit=commit) for f in audit.findings],
        projects_of(audit.pairs),
    )
    if format == "json":
        text = JsonReport().render(rows, pairs=audit.pairs, unpaired=audit.unpaired)
    else:
        text = render(rows, format, to_terminal=output is None and sys.stdout.isatty())
    write_output(text, output)
    gated = list(audit.findings)
    if known is not None:
        gated = new_findings(gated, known)
        log(f"baseline {described}: {len(gated)} of {len(audit.findings)} findings are new")
    raise typer.Exit(EXIT_FINDINGS if failing(gated, fail_on) else EXIT_OK)


def print_assignment(audit: TreeAudit) -> None:
    """Which file went to which environment and why, and which pairs were compared, on
    stderr (reports stay clean)."""
    err = sys.stderr
    print(f"environments ({audit.config_origin}):", file=err)
    if not audit.environments:
        print("  none found: no file or folder names a training or serving environment;", file=err)
        print("  add a .depaudit.toml (see README) to say which files belong where", file=err)
    for env in audit.environments:
        print(f"  {env.name} [{env.role}, {env.origin}]", file=err)
        for a in env.files:
            print(f"    {a.path}  <- {a.reason}", file=err)
    if audit.unassigned:
        print("  not in any environment: " + ", ".join(audit.unassigned[:20]), file=err)
    if audit.pairs:
        print("pairs compared:", file=err)
        for pair in audit.pairs:
            print(f"  {pair.training} x {pair.serving}  <- {pair.reason}", file=err)
    elif audit.environments:
        print("pairs compared: none (a training and a serving environment are needed)", file=err)
    for name, why in audit.unpaired:
        print(f"  {name} is compared with nothing: {why}", file=err)
