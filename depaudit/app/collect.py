"""Collect one repository's history into the store (DESIGN.md §7).

The history walker gives each commit an environment signature; a signature seen before
(the parent's, or A -> B -> A) reuses that state with no parsing and no rule work; a new
one is audited (:func:`~depaudit.app.audit.audit_tree`, each blob parsed once through the
blob cache) and stored. Only the commits after the stored head are walked; a rewritten
history resumes at the newest stored commit the branch still has.

Errors a user can cause or fix (no such repository, unknown branch, a store that cannot
be written) are :class:`CollectError` with a one-line message; the CLI prints it.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from depaudit.app.audit import AuditCache, audit_tree
from depaudit.collectors.git import GitRepository, RepositoryError
from depaudit.collectors.history import walk
from depaudit.collectors.state_keys import StateKeys
from depaudit.config import AuditConfig
from depaudit.model import TreeAudit
from depaudit.store.engine import StoreError
from depaudit.store.writer import RepoWriter, RunStats

# Bump when what a state contains changes meaning (rules, snapshot format, pairs): a
# later collect then recomputes states instead of reusing ones from an older depaudit.
STATE_FORMAT = "3"
# Rules whose findings name copied definitions (qualified names in training / serving).
COPY_RULES = frozenset({"DA206", "DA207"})


class CollectError(Exception):
    """A repository that cannot be collected; the message is one line for the user."""


@dataclass(frozen=True, slots=True)
class CollectOptions:
    branch: str | None = None
    since: str | None = None
    config: AuditConfig | None = None  # from --config FILE: wins over the repo's own
    config_salt: str = ""  # hash of that file: states made under another config are not reused
    all_commits: bool = False
    replace: bool = False  # allow replacing a stored history that shares nothing with this one
    batch_size: int = 200
    lock_timeout: float = 0.0


class Progress(Protocol):
    """Where a long walk reports how far it got (a progress bar on a terminal)."""

    def start(self, total: int) -> None: ...

    def advance(self) -> None: ...

    def stop(self) -> None: ...


@dataclass(frozen=True, slots=True)
class CollectSummary:
    name: str
    stats: RunStats
    shallow: bool
    seconds: float

    def line(self) -> str:
        """The one log line of a collected repository."""
        st = self.stats
        extra = f", {st.unreachable} rewritten away" if st.unreachable else ""
        shallow = " (shallow clone: history starts at the shallow boundary)" if self.shallow else ""
        return (
            f"{self.name}: {st.commits} commits, {st.states_new} new states, "
            f"{st.findings_new} findings new, {st.findings_resolved} resolved{extra}{shallow} "
            f"in {self.seconds:.2f} s"
        )


def collect_repository(
    engine: Engine,
    path: Path,
    name: str,
    options: CollectOptions,
    *,
    progress: Callable[[], Progress] | None = None,
) -> CollectSummary:
    """Collect the new commits of one repository; CollectError with one line on failure."""
    started = time.monotonic()
    try:
        repo = GitRepository(path)
    except RepositoryError as exc:
        raise CollectError(str(exc)) from None
    try:
        branch_name = options.branch or repo.default_branch()
        try:
            head = repo.resolve(options.branch or "HEAD")
            since_sha = repo.resolve(options.since) if options.since else None
        except RepositoryError as exc:
            if repo.is_empty():
                raise CollectError(
                    f"{path}: empty repository (no commits yet); nothing to collect"
                ) from None
            raise CollectError(str(exc)) from None
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
                if not options.replace:
                    _refuse_foreign_history(writer, repo, head, branch_name, path)
                base = _resume_point(repo, writer, head, since_sha)
                if base != head:
                    _walk(repo, writer, head, base, options, progress)
                writer.finish(
                    branch=branch_name,
                    shallow=shallow,
                    since=since_sha,
                    seconds=time.monotonic() - started,
                )
        except StoreError as exc:
            raise CollectError(str(exc)) from None
        except RepositoryError as exc:
            raise CollectError(f"{path}: {exc}") from None
        except SQLAlchemyError as exc:
            # a full disk, a store made read-only, a dropped connection: one line, and
            # the batches already committed stay (the next run resumes after them)
            reason = " ".join(str(getattr(exc, "orig", None) or exc).split())[:200]
            raise CollectError(f"{name}: the store could not be written: {reason}") from None
        return CollectSummary(name, writer.stats, shallow, time.monotonic() - started)
    finally:
        repo.close()


def _refuse_foreign_history(
    writer: RepoWriter, repo: GitRepository, head: str, branch: str, path: Path
) -> None:
    """Never replace a stored history by another repository's or another branch's.

    Two folders with the same name (``a/app`` and ``b/app``) or another ``--branch`` of
    the same repository would otherwise "rewrite away" what was collected before.
    """
    stored = writer.head_sha
    if stored is None:
        return
    name = writer.name
    if writer.stored_branch and writer.stored_branch != branch:
        raise CollectError(
            f"{name}: the store holds branch {writer.stored_branch!r} under this name; "
            f"collect branch {branch!r} under another name (--name {name}@{branch}) "
            "or pass --replace to replace it"
        )
    if repo.has_commit(stored):
        return
    ancestors = repo.ancestors(head)
    if not any(sha in ancestors for _seq, sha in writer.reachable_shas()):
        raise CollectError(
            f"{name}: the store holds a history under this name that shares no commit with "
            f"{path}; collect it under another name (--name) or pass --replace to replace it"
        )


def copied_definitions(audit: TreeAudit) -> set[str]:
    """Qualified names of both halves of every copy (DA206 / DA207) the audit reports:
    their bodies count in the state key from now on (depaudit.collectors.state_keys)."""
    return {
        name
        for f in audit.findings
        if f.rule in COPY_RULES
        for name in (f.training, f.serving)
        if name
    }


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
    progress_factory: Callable[[], Progress] | None,
) -> None:
    salt = f"{STATE_FORMAT}|{options.config_salt}"
    cache = AuditCache()
    keys = StateKeys(repo, cache.blobs)
    first_parent = not options.all_commits
    progress = progress_factory() if progress_factory is not None else None
    if progress is not None:
        progress.start(repo.count_commits(head, base=base, first_parent=first_parent))
    try:
        for step in walk(repo, head, base=base, first_parent=first_parent, keys=keys):
            signature = hashlib.sha256(f"{step.signature}|{salt}".encode()).hexdigest()
            state_hash = writer.state_for_signature(signature)
            if state_hash is None:
                audit = audit_tree(step.tree(), config=options.config, cache=cache)
                state_hash = writer.add_state(audit)
                keys.watch(copied_definitions(audit))
            writer.add_commit(step.info, signature=signature, state_hash=state_hash)
            if progress is not None:
                progress.advance()
    finally:
        if progress is not None:
            progress.stop()
