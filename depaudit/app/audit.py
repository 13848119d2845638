"""Audit one tree: snapshot its environments, pair them, compare, package the result.

The one place a tree becomes a :class:`~depaudit.model.TreeAudit`: ``check`` (working
tree or ``--rev``), ``check --baseline REV``, ``collect`` (every new state) and ``live``
(the repo's config) all call it, so the CI gate, the baseline and the stored history
agree on every commit. Its config policy is the same for all of them: an invalid
``.depaudit.toml`` at a tree is a DA901 ``error`` finding and the audit goes on by
convention (``check`` then refuses to gate on guesses and exits 2 naming the error;
``collect`` stores it; a baseline revision with it is compared as it is). A
``--config FILE`` given on the command line is the user's input, checked by the CLI.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from depaudit.catalog import CONFIG_ERROR_RULE, rule_info
from depaudit.collectors.snapshot import BlobCache, TreeSnapshot, snapshot_tree
from depaudit.collectors.tree import Tree
from depaudit.compare import CompareMemo, compare_pairs
from depaudit.config import AuditConfig
from depaudit.knowledge import Knowledge, builtin
from depaudit.model import Finding, ParseError, TreeAudit, sort_findings
from depaudit.projects import plan_pairs


class AuditCache:
    """What the audits of one history share: parsed blobs and environment snapshots
    (depaudit.collectors.snapshot.BlobCache), views and pair findings (depaudit.compare.CompareMemo)
    and the knowledge base with the repository's overrides, built once per distinct
    ``[knowledge]`` table."""

    def __init__(self) -> None:
        self.blobs = BlobCache()
        self.compare = CompareMemo()
        self._knowledge: dict[str, Knowledge] = {}

    def knowledge(self, overrides: Mapping[str, Any]) -> Knowledge:
        key = repr(sorted(overrides.items()))
        known = self._knowledge.get(key)
        if known is None:
            known = self._knowledge[key] = builtin().with_overrides(overrides)
        return known


def audit_tree(
    tree: Tree,
    *,
    config: AuditConfig | None = None,
    cache: AuditCache | None = None,
) -> TreeAudit:
    """The audit of ``tree``. Never raises on bad input in the tree.

    ``config`` (from ``--config FILE``) wins over the tree's own config file; ``cache``
    keeps what one history's audits can share (parsed blobs, snapshots, pair findings).
    """
    cache = cache if cache is not None else AuditCache()
    return audit_snapshot(snapshot_tree(tree, config=config, cache=cache.blobs), cache)


def audit_snapshot(snap: TreeSnapshot, cache: AuditCache | None = None) -> TreeAudit:
    """Pair and compare the environments of a snapshot taken by the collectors."""
    cache = cache if cache is not None else AuditCache()
    knowledge = cache.knowledge(snap.config.knowledge)
    plan = plan_pairs(snap.environments, snap.specs, knowledge)
    findings = compare_pairs(
        plan.environments,
        plan.pairs,
        rules=snap.config.rules,
        knowledge=knowledge,
        memo=cache.compare,
    )
    findings.extend(config_error_findings(snap.config_errors))
    return TreeAudit(
        environments=plan.environments,
        findings=tuple(sort_findings(findings)),
        pairs=plan.pairs,
        unpaired=plan.unpaired,
        config_origin=snap.config_origin,
        config_errors=snap.config_errors,
        unassigned=tuple(sorted({*snap.unassigned, *plan.dropped_files})),
    )


def config_error_findings(errors: tuple[ParseError, ...]) -> list[Finding]:
    """One DA901 error per invalid config file of the tree."""
    info = rule_info(CONFIG_ERROR_RULE)
    return [
        Finding(
            status="error",
            kind=info.kind,
            item=err.file,
            severity=info.severity,
            rule=info.id,
            message=f"{err.file}: {err.message}; environments found by convention instead",
            file=err.file,
            line=err.line,
        )
        for err in errors
    ]
