"""``depaudit collect PATH... | --repos FILE``: walk each repository's history into the store.

Parses the options and calls :func:`depaudit.app.collect.collect_repository` per path
(or :mod:`depaudit.app.scheduler` for ``--repos`` / ``--jobs``), with a progress bar on
a terminal and one summary line per repository.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from depaudit.cli.app import app, fail, log, normalize_db_url, read_config_file


@app.command()
def collect(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Git repositories to collect (or --repos FILE).")
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(help="Store URL or SQLite file (default: $DEPAUDIT_DB, else embedded)."),
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="Repo name in the store (default: the directory's name).")
    ] = None,
    branch: Annotated[
        str | None, typer.Option(help="Branch or revision to walk (default: the checked-out HEAD).")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Start after this revision (first collect only).")
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="A depaudit config file on disk (overrides the repo's).")
    ] = None,
    all_commits: Annotated[
        bool,
        typer.Option("--all-commits", help="Walk every commit, not only the first-parent line."),
    ] = False,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Replace a stored history of the same name that shares no commit (or branch).",
        ),
    ] = False,
    batch_size: Annotated[int, typer.Option(help="Commits per store transaction.")] = 200,
    lock_timeout: Annotated[
        float, typer.Option(help="Seconds to wait for another collector of the same repo.")
    ] = 0.0,
    repos: Annotated[
        Path | None,
        typer.Option(help="A repos.toml listing repositories (name, path or url, branch, config)."),
    ] = None,
    jobs: Annotated[int, typer.Option(help="Repositories collected in parallel (processes).")] = 1,
    cache_dir: Annotated[
        Path | None,
        typer.Option(help="Where URL repos are mirrored (default: under the data dir)."),
    ] = None,
    log_format: Annotated[str, typer.Option(help="One line per repo: text or json.")] = "text",
    shard: Annotated[
        str | None,
        typer.Option(
            help="Collect only shard K of N of --repos (K/N, from 1; default: from "
            "$JOB_COMPLETION_INDEX in a Kubernetes Indexed Job)."
        ),
    ] = None,
    shard_count: Annotated[
        str | None,
        typer.Option(help="N, with $JOB_COMPLETION_INDEX (default: $DEPAUDIT_SHARD_COUNT)."),
    ] = None,
) -> None:
    """Collect the git history of each repository: environments and findings per commit."""
    if repos is not None or jobs != 1 or shard is not None or shard_count is not None:
        from depaudit.app.scheduler import scheduled_collect
        from depaudit.cli.app import DEFAULT_DB_PATH

        code = scheduled_collect(
            repos_file=repos,
            paths=paths or [],
            db_url=normalize_db_url(db),
            cache_dir=cache_dir or DEFAULT_DB_PATH.parent / "mirrors",
            jobs=jobs,
            log_format=log_format,
            branch=branch,
            config=config,
            all_commits=all_commits,
            batch_size=batch_size,
            lock_timeout=lock_timeout,
            name=name,
            since=since,
            shard=shard,
            shard_count=shard_count,
        )
        raise typer.Exit(code)
    if not paths:
        fail("give one or more repository PATHs, or --repos FILE")
    if name is not None and len(paths) > 1:
        fail("--name names one repository; give one PATH with it")
    names: dict[str, Path] = {}
    for path in paths:
        stored_as = name or path.resolve().name
        if stored_as in names:
            fail(
                f"{names[stored_as]} and {path} would both be stored as {stored_as!r}; "
                "collect them one at a time with --name"
            )
        names[stored_as] = path
    if batch_size < 1:
        fail("--batch-size must be at least 1")
    if lock_timeout < 0:
        fail("--lock-timeout must be 0 or more")
    audit_config, salt = read_config_file(config) if config is not None else (None, "")

    from depaudit.app.collect import CollectError, CollectOptions, collect_repository
    from depaudit.store.engine import StoreError, open_engine
    from depaudit.store.schema import SchemaError, migrate

    url = normalize_db_url(db)
    try:
        engine = open_engine(url)
        migrate(engine)
    except (StoreError, SchemaError) as exc:
        fail(str(exc))
    except Exception as exc:  # a database that cannot be reached or is not SQLite
        fail(f"cannot open the store: {' '.join(str(exc).split())[:200]}")
    options = CollectOptions(
        branch=branch,
        since=since,
        config=audit_config,
        config_salt=salt,
        all_commits=all_commits,
        replace=replace,
        batch_size=batch_size,
        lock_timeout=lock_timeout,
    )
    progress = _ProgressBar if sys.stderr.isatty() else None
    try:
        for path in paths:
            try:
                summary = collect_repository(
                    engine, path, name or path.resolve().name, options, progress=progress
                )
            except CollectError as exc:
                fail(str(exc))
            log(summary.line())
    finally:
        engine.dispose()


class _ProgressBar:
    """A rich progress bar on stderr (only used when stderr is a terminal)."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._task = self._progress.add_task("collect", total=None)

    def start(self, total: int) -> None:
        self._progress.update(self._task, total=total)
        self._progress.start()

    def advance(self) -> None:
        self._progress.advance(self._task)

    def stop(self) -> None:
        self._progress.stop()
