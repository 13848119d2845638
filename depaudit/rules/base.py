"""The rule protocols: one module per rule id, each exporting ``RULE`` (or ``RULES``).

A rule is a pure function of a :class:`~depaudit.rules.view.PairView` (a training and a
serving environment, the knowledge base and the repo's allow lists) to findings; a live
rule (DA701-DA704) one of a :class:`LiveContext` (what the serving files declare against
what an interpreter really has). Rules never do I/O. Ignoring a rule and severity
overrides are applied centrally by :mod:`depaudit.compare`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from depaudit.catalog import RuleInfo
from depaudit.knowledge import Knowledge
from depaudit.model import Finding
from depaudit.rules.view import EnvironmentView, PairView


class Rule(Protocol):
    info: RuleInfo

    def check(self, view: PairView) -> Iterable[Finding]: ...


@dataclass(eq=False)
class LiveContext:
    """A declared serving environment and the live environment observed for it."""

    declared: EnvironmentView
    observed: EnvironmentView
    knowledge: Knowledge
    allow_lists: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def allow(self, rule_id: str) -> tuple[str, ...]:
        return self.allow_lists.get(rule_id, ())


class LiveRule(Protocol):
    info: RuleInfo

    def check(self, ctx: LiveContext) -> Iterable[Finding]: ...
