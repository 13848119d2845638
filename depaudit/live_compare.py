"""Comparing a live (observed) serving environment with what the repository declares.

Pure, like :mod:`depaudit.compare`: snapshots in, findings out.

- declared serving × observed serving: the live rules DA701-DA704 (what is installed
  against what the files say, and whether the installed tree is whole);
- each training environment × observed serving: the ordinary rules, so a training-only
  package that is really installed in production is a DA101 leftover with the live
  version, and the interpreter's real Python / OS drift is DA501 / DA502.
"""

from __future__ import annotations

from collections.abc import Sequence

from depaudit.compare import diff_environments
from depaudit.config import RulesConfig
from depaudit.knowledge import Knowledge
from depaudit.model import EnvironmentSnapshot, Finding, sort_findings
from depaudit.rules import all_rules
from depaudit.rules.base import Rule
from depaudit.rules.live_broken_dependency import RULE as DA704
from depaudit.rules.live_missing_package import RULE as DA702
from depaudit.rules.live_undeclared_package import RULE as DA701
from depaudit.rules.live_version_outside_specifier import RULE as DA703

LIVE_RULES: tuple[Rule, ...] = (DA701, DA702, DA703, DA704)
LIVE_RULE_IDS = frozenset(rule.info.id for rule in LIVE_RULES)


def compare_live(
    declared: EnvironmentSnapshot,
    observed: EnvironmentSnapshot,
    knowledge: Knowledge,
    *,
    training: Sequence[EnvironmentSnapshot] = (),
    rules: RulesConfig | None = None,
) -> list[Finding]:
    """Findings of the live environment ``observed`` against the declared ``declared``."""
    settings = rules if rules is not None else RulesConfig()
    findings = diff_environments(
        declared, observed, rules=settings, knowledge=knowledge, rule_set=LIVE_RULES
    )
    ordinary = [r for r in all_rules() if r.info.id not in LIVE_RULE_IDS]
    for env in training:
        if env.role == "training" and not env.observed:
            findings.extend(
                diff_environments(
                    env, observed, rules=settings, knowledge=knowledge, rule_set=ordinary
                )
            )
    return sort_findings(findings)
