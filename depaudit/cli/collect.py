"""``depaudit collect PATH...``: walk each repository's history into the store.

The wiring of DESIGN.md §7: the history walker gives each commit an environment
signature; a signature seen before (the parent's, or A -> B -> A) reuses that state with
no parsing and no rule work; a new one is snapshotted (each blob parsed once through the
blob cache), compared, and stored. Only the commits after the stored head are walked.
"""

from __future__ import annotations

import hashlib
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from depaudit.cli.app import app, fail, log, normalize_db_url

if TYPE_CHECKING:
    from collectors.git import GitRepository
    from collectors.snapshot import BlobCache
    from depaudit.config import AuditConfig
    from depaudit.store.writer import RepoWriter, StateData

# Bump when what a state contains changes meaning (rules, snapshot format): a later collect
# then recomputes states instead of reusing ones from an older depaudit.
STATE_FORMAT = "1"


@dataclass(slots=True)
class CollectOptions:
    branch: str | None
    since: str | None
    config: AuditConfig | None
    config_salt: str
    all_commits: bool
    batch_size: int
    lock_timeout: float
    progress: bool


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
) -> None:
    """Collect the git history of each repository: environments and findings per commit."""
    if repos is not None or jobs != 1:
        from depaudit.cli.app import DEFAULT_DB_PATH
        from depaudit.scheduler import scheduled_collect

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
        )
        raise typer.Exit(code)
    if not paths:
        fail("give one or more repository PATHs, or --repos FILE")
    if name is not None and len(paths) > 1:
        fail("--name names one repository; give one PATH with it")
    if batch_size < 1:
        fail("--batch-size must be at least 1")
    if lock_timeout < 0:
        fail("--lock-timeout must be 0 or more")
    audit_config, salt = _read_config(config)

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
        batch_size=batch_size,
        lock_timeout=lock_timeout,
        progress=sys.stderr.isatty(),
    )
    try:
        for path in paths:
            collect_repository(engine, path, name or path.resolve().name, options)
    finally:
        engine.dispose()


def _read_config(config: Path | None) -> tuple[AuditConfig | None, str]:
    if config is None:
        return None, ""
    from depaudit.config import ConfigError, parse_config

    try:
        data = config.read_bytes()
        parsed = parse_config(
            data.decode("utf-8"), str(config), from_pyproject=config.name == "pyproject.toml"
        )
    except OSError as exc:
        fail(f"{config}: cannot read config file: {exc.strerror}")
    except UnicodeDecodeError:
        fail(f"{config}: config file is not UTF-8 text")
    except ConfigError as exc:
        fail(str(exc))
    if parsed is None:
        fail(f"{config}: no [tool.depaudit] table")
    # a different --config must not reuse states computed under another one
    return parsed, hashlib.sha256(data).hexdigest()


def collect_repository(engine: Any, path: Path, name: str, options: CollectOptions) -> None:
    """Collect one repository; errors are one line and exit 2."""
    from sqlalchemy.exc import SQLAlchemyError

    from collectors.git import GitRepository, RepositoryError
    from collectors.snapshot import BlobCache
    from depaudit.store.engine import StoreError
    from depaudit.store.writer import RepoWriter

    started = time.monotonic()
    try:
        repo = GitRepository(path)
    except RepositoryError as exc:
        fail(str(exc))
    try:
        branch_name = options.branch or repo.default_branch()
        try:
            head = repo.resolve(options.branch or "HEAD")
            since_sha = repo.resolve(options.since) if options.since else None
        except RepositoryError as exc:
            if repo.is_empty():
                fail(f"{path}: empty repository (no commits yet); nothing to collect")
            fail(str(exc))
        shallow = repo.is_shallow
        writer = RepoWriter(
            engine,
            name,
            path=str(path.resolve()),
            branch=branch_name,
            batch_size=options.batch_size,
            lock_timeout=options.lock_timeout,
        )
        try:
            with writer:
                base = _resume_point(repo, writer, head, since_sha)
                cache = BlobCache()
                if base != head:
                    _walk(repo, writer, head, base, options, cache)
                writer.finish(
                    branch=branch_name,
                    shallow=shallow,
                    since=since_sha,
                    seconds=time.monotonic() - started,
                )
        except StoreError as exc:
            fail(str(exc))
        except RepositoryError as exc:
            fail(f"{path}: {exc}")
        except SQLAlchemyError as exc:
            # a full disk, a store made read-only, a dropped connection: one line, and
            # the batches already committed stay (the next run resumes after them)
            reason = " ".join(str(getattr(exc, "orig", None) or exc).split())[:200]
            fail(f"{name}: the store could not be written: {reason}")
        st = writer.stats
        extra = f", {st.unreachable} rewritten away" if st.unreachable else ""
        log(
            f"{name}: {st.commits} commits, {st.states_new} new states, "
            f"{st.findings_new} findings new, {st.findings_resolved} resolved{extra}"
            f"{' (shallow clone: history starts at the shallow boundary)' if shallow else ''} "
            f"in {time.monotonic() - started:.2f} s"
        )
    finally:
        repo.close()


def _resume_point(
    repo: GitRepository, writer: RepoWriter, head: str, since_sha: str | None
) -> str | None:
    """Where the walk starts: the stored head, or after a rewrite the newest stored
    commit still in the branch's history (the rest is marked unreachable)."""
    stored = writer.head_sha
    if stored is None:
        return since_sha
    if stored == head or (repo.has_commit(stored) and repo.is_ancestor(stored, head)):
        return stored
    ancestors = repo.ancestors(head)
    kept = [sha for _seq, sha in writer.reachable_shas() if sha in ancestors]
    new_base = kept[-1] if kept else None
    writer.rewind(new_base)
    return new_base if new_base is not None else since_sha


def _walk(
    repo: GitRepository,
    writer: RepoWriter,
    head: str,
    base: str | None,
    options: CollectOptions,
    cache: BlobCache,
) -> None:
    salt = f"{STATE_FORMAT}|{options.config_salt}"
    from collectors.history import walk

    steps = walk(repo, head, base=base, first_parent=not options.all_commits)
    progress = _Progress(repo, head, base, options) if options.progress else None
    try:
        for step in steps:
            signature = hashlib.sha256(f"{step.signature}|{salt}".encode()).hexdigest()
            state_hash = writer.state_for_signature(signature)
            if state_hash is None:
                state = build_state(step.tree(), options.config, cache)
                state_hash = writer.add_state(state)
            info = step.info
            writer.add_commit(
                sha=info.sha,
                parents=info.parents,
                author_name=info.author_name,
                author_email=info.author_email,
                committed_at=info.committed_at,
                summary=info.summary,
                signature=signature,
                state_hash=state_hash,
            )
            if progress is not None:
                progress.advance()
    finally:
        if progress is not None:
            progress.stop()


def build_state(tree: Any, config: AuditConfig | None, cache: BlobCache) -> StateData:
    """Snapshot, compare and package one tree. Never raises on bad input."""
    from collectors.snapshot import snapshot_tree
    from depaudit.compare import compare_all
    from depaudit.knowledge import builtin
    from depaudit.model import Finding, sort_findings
    from depaudit.store.writer import StateData

    snap = snapshot_tree(tree, config=config, cache=cache)
    knowledge = builtin().with_overrides(snap.config.knowledge)
    findings = compare_all(snap.environments, rules=snap.config.rules, knowledge=knowledge)
    for err in snap.config_errors:
        findings.append(
            Finding(
                status="error",
                kind="config",
                item=err.file,
                severity="low",
                rule="DA901",
                message=f"{err.file}: {err.message}; environments found by convention instead",
                file=err.file,
                line=err.line,
            )
        )
    return StateData.build(
        snap.environments,
        sort_findings(findings),
        config_origin=snap.config_origin,
        config_errors=[(e.file, e.message) for e in snap.config_errors],
        unassigned=snap.unassigned,
    )


class _Progress:
    """A rich progress bar on stderr, only when stderr is a terminal."""

    def __init__(
        self, repo: GitRepository, head: str, base: str | None, options: CollectOptions
    ) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        total = repo.count_commits(head, base=base, first_parent=not options.all_commits)
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._progress.start()
        self._task = self._progress.add_task(f"collect {repo.path.name}", total=total)

    def advance(self) -> None:
        self._progress.advance(self._task)

    def stop(self) -> None:
        self._progress.stop()
