"""``depaudit check PATH``: audit the working tree or one commit, print a report, gate CI."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from depaudit.cli.app import EXIT_FINDINGS, EXIT_OK, app, fail
from depaudit.model import SEVERITY_RANK, Finding

FORMATS = ("table", "csv", "json", "markdown", "sarif")
FAIL_ON = ("high", "medium", "low", "never")


def failing(findings: list[Finding], fail_on: str) -> list[Finding]:
    """Findings at or above the ``--fail-on`` severity; ``shared`` is never a failure."""
    if fail_on == "never":
        return []
    floor = SEVERITY_RANK[fail_on]
    return [f for f in findings if f.status != "shared" and SEVERITY_RANK[f.severity] >= floor]


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

    from collectors.git import RepositoryError, open_tree
    from collectors.snapshot import snapshot_tree
    from depaudit.compare import compare_all
    from depaudit.config import ConfigError, parse_config
    from depaudit.knowledge import builtin
    from depaudit.reports import ReportRow, report_for

    audit_config = None
    if config is not None:
        try:
            text = config.read_text("utf-8")
            audit_config = parse_config(
                text, str(config), from_pyproject=config.name == "pyproject.toml"
            )
        except OSError as exc:
            fail(f"{config}: cannot read config file: {exc.strerror}")
        except UnicodeDecodeError:
            fail(f"{config}: config file is not UTF-8 text")
        except ConfigError as exc:
            fail(str(exc))
        if audit_config is None:
            fail(f"{config}: no [tool.depaudit] table")

    try:
        opened = open_tree(path, rev, exclude=[output] if output is not None else [])
    except RepositoryError as exc:
        fail(str(exc))
    if opened.notice:
        print(f"depaudit: {opened.notice}", file=sys.stderr)
    tree, commit = opened.tree, opened.commit

    snap = snapshot_tree(tree, config=audit_config)
    for err in snap.config_errors:
        fail(f"{err.file}: {err.message}")
    knowledge = builtin().with_overrides(snap.config.knowledge)
    findings = compare_all(snap.environments, rules=snap.config.rules, knowledge=knowledge)

    if not quiet:
        print_assignment(snap)
    repo_name = path.resolve().name
    rows = [ReportRow(f, repo=repo_name, commit=commit) for f in findings]
    if format == "table":
        from depaudit.reports.table_report import TableReport

        text = TableReport().render(rows, color=output is None and sys.stdout.isatty())
    else:
        text = report_for(format).render(rows)
    if output is not None:
        output.write_text(text, "utf-8")
    else:
        sys.stdout.write(text)
    gated = findings
    if baseline is not None:
        from depaudit.baseline import BaselineError, baseline_keys, new_findings

        try:
            keys, described = baseline_keys(baseline, repo=path, config=audit_config)
        except (BaselineError, RepositoryError) as exc:
            fail(str(exc))
        gated = new_findings(findings, keys)
        print(
            f"baseline {described}: {len(gated)} of {len(findings)} findings are new",
            file=sys.stderr,
        )
    raise typer.Exit(EXIT_FINDINGS if failing(gated, fail_on) else EXIT_OK)


def print_assignment(snap: object) -> None:
    """Which file went to which environment and why, on stderr (reports stay clean)."""
    from collectors.snapshot import TreeSnapshot

    assert isinstance(snap, TreeSnapshot)
    err = sys.stderr
    print(f"environments ({snap.config_origin}):", file=err)
    if not snap.environments:
        print("  none found: no file or folder names a training or serving environment;", file=err)
        print("  add a .depaudit.toml (see README) to say which files belong where", file=err)
    for env in snap.environments:
        print(f"  {env.name} [{env.role}, {env.origin}]", file=err)
        for a in env.files:
            print(f"    {a.path}  <- {a.reason}", file=err)
    if snap.unassigned:
        print("  not in any environment: " + ", ".join(snap.unassigned[:20]), file=err)
