"""The rule protocol: one module per rule id, each exporting ``RULE``.

A rule is a pure function of a training and a serving environment snapshot plus the
knowledge base (what is training-specific) and the rule settings from the audited
repo's config. Rules never do I/O. Ignoring a rule and severity overrides are applied
centrally by :mod:`depaudit.compare`; per-rule allow lists are read by the rule from
``ctx.allow(rule_id)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from depaudit.knowledge import Knowledge
from depaudit.model import EnvironmentSnapshot, Finding, Kind, Severity


@dataclass(frozen=True, slots=True)
class RuleInfo:
    id: str  # stable id, e.g. "DA101"; documented in docs/rules.md under "## DA101"
    title: str  # short, e.g. "Training-only package in serving"
    kind: Kind
    severity: Severity  # default severity (rules may use a knowledge entry's severity instead)
    summary: str  # one sentence: what it finds and why it matters


@dataclass(frozen=True, slots=True)
class RuleContext:
    training: EnvironmentSnapshot
    serving: EnvironmentSnapshot
    knowledge: Knowledge
    allow_lists: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def allow(self, rule_id: str) -> tuple[str, ...]:
        """Items the repo's config allows for this rule (``[rules.DA101] allow = [...]``)."""
        return self.allow_lists.get(rule_id, ())


class Rule(Protocol):
    info: RuleInfo

    def check(self, ctx: RuleContext) -> Iterable[Finding]: ...


def docs_anchor(rule_id: str) -> str:
    """The docs/rules.md anchor of a rule (GitHub-style heading slug)."""
    return f"docs/rules.md#{rule_id.lower()}"
