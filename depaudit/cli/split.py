"""``depaudit split PATH``: the edit that separates serving's dependencies from training's."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from depaudit.cli.app import EXIT_OK, app, fail, log, read_config_file

SPLIT_FORMATS = ("diff", "json")


@app.command()
def split(
    path: Annotated[
        Path, typer.Argument(help="Repository (working tree) to propose the edit for.")
    ],
    project: Annotated[
        str | None, typer.Option(help="The pair of this project (see `depaudit check`).")
    ] = None,
    serving: Annotated[
        str | None, typer.Option(help="The pair of this serving environment.")
    ] = None,
    training: Annotated[
        str | None, typer.Option(help="The pair of this training environment.")
    ] = None,
    write: Annotated[
        bool, typer.Option("--write", help="Apply the edit to the working tree (never commits).")
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="With --write: also edit files with uncommitted changes."),
    ] = False,
    format: Annotated[str, typer.Option("--format", "-f", help="diff or json.")] = "diff",
    config: Annotated[
        Path | None, typer.Option(help="A depaudit config file on disk (overrides the repo's).")
    ] = None,
) -> None:
    """Propose the edit that removes a pair's package leftovers and drift: a unified diff
    (dry run), or --write it. Config keys and network targets are listed, never edited."""
    if format not in SPLIT_FORMATS:
        fail(f"--format must be one of {', '.join(SPLIT_FORMATS)} (got {format!r})")
    if not path.exists():
        fail(f"{path}: no such directory")
    if not path.is_dir():
        fail(f"{path}: not a directory")
    if force and not write:
        fail("--force only makes sense with --write")
    audit_config = read_config_file(config)[0] if config is not None else None

    from depaudit.app.split import SplitError, propose
    from depaudit.app.split import write as write_proposal
    from depaudit.split import render_diff, render_json

    try:
        result = propose(
            path, project=project, training=training, serving=serving, config=audit_config
        )
    except SplitError as exc:
        fail(str(exc))
    if result.notice:
        log(f"depaudit: {result.notice}")
    written: list[str] = []
    if write:
        try:
            written = write_proposal(result, force=force)
        except SplitError as exc:
            fail(str(exc))
    proposal = result.proposal
    if format == "json":
        data = json.loads(render_json(proposal))
        if write:
            data["written"] = written
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(render_diff(proposal))
    if write:
        log(
            f"wrote {len(written)} file(s): {', '.join(written)}" if written else "nothing to write"
        )
    elif not proposal.is_empty:
        log("dry run: nothing was written (--write applies it)")
    raise typer.Exit(EXIT_OK)
