"""Running one rule on hand-built training and serving snapshots, for the rule tests."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from depaudit.knowledge import builtin
from depaudit.model import EnvironmentSnapshot, Fact, Finding
from depaudit.rules.base import Rule
from depaudit.rules.view import PairView


def env(role: str, facts: Iterable[Fact]) -> EnvironmentSnapshot:
    """An environment named after its role, as the directory convention would find it."""
    return EnvironmentSnapshot(name=role, role=role, origin="convention", facts=tuple(facts))  # type: ignore[arg-type]


def run(
    rule: Rule,
    training: Iterable[Fact],
    serving: Iterable[Fact],
    allow: Mapping[str, tuple[str, ...]] | None = None,
) -> list[Finding]:
    """``rule``'s findings on these facts, with the built-in knowledge."""
    view = PairView.of(
        env("training", training), env("serving", serving), builtin(), dict(allow or {})
    )
    return list(rule.check(view))
