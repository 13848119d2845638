"""The shared body of DA401-DA403: serving targets that belong to the rule."""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.catalog import RuleInfo
from depaudit.model import Finding
from depaudit.rules.findings import because, finding
from depaudit.rules.view import PairView


def network_leftovers(info: RuleInfo, view: PairView, what: str) -> Iterator[Finding]:
    allow = {a.lower() for a in view.allow(info.id)}
    training = view.training.targets
    rules = view.serving.classified_targets
    for item, target in sorted(view.serving.targets.items()):
        rule, entry = rules[item]
        if rule != info.id or entry is None or item.lower() in allow:
            continue
        other = training.get(item)
        yield finding(
            info,
            "leftover",
            item,
            f"serving reaches {what} {item}{because(entry.reason)}",
            severity=entry.severity if info.id != "DA401" else "high",
            training=other.fact.target if other else "",
            serving=target.fact.target,
            file=target.fact.file,
            line=target.fact.line,
        )
