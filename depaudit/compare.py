"""Comparing environments: run every rule on every training × serving pair.

Pure: snapshots and settings in, findings out. Observed (live) snapshots are compared by
the live rules, not here. Ignoring rules and severity overrides from the repository's
``[rules]`` table are applied here, centrally, so no rule has to know about them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from depaudit.config import RulesConfig
from depaudit.knowledge import Knowledge
from depaudit.model import (
    SEVERITIES,
    EnvironmentSnapshot,
    Finding,
    Kind,
    ParseError,
    Severity,
    sort_findings,
)
from depaudit.rules import all_rules
from depaudit.rules.base import Rule, RuleContext

PARSE_ERROR_RULE = "DA900"

_DEPENDENCY_FILES = frozenset(
    {
        "pyproject.toml",
        "setup.cfg",
        "setup.py",
        "pipfile",
        "pipfile.lock",
        "poetry.lock",
        "uv.lock",
        "environment.yml",
        "environment.yaml",
        "conda.yml",
        "conda.yaml",
    }
)
_RUNTIME_FILES = frozenset({".python-version", "runtime.txt", ".tool-versions"})


def compare_all(
    environments: Sequence[EnvironmentSnapshot],
    *,
    rules: RulesConfig,
    knowledge: Knowledge,
) -> list[Finding]:
    """Findings of every training × serving pair of declared environments, sorted."""
    declared = [env for env in environments if not env.observed]
    training = [env for env in declared if env.role == "training"]
    serving = [env for env in declared if env.role == "serving"]
    findings: list[Finding] = []
    for t in training:
        for s in serving:
            findings.extend(diff_environments(t, s, rules=rules, knowledge=knowledge))
    if len(training) * len(serving) <= 1:
        return findings  # one pair: diff_environments already sorted it
    return sort_findings(findings)


def diff_environments(
    training: EnvironmentSnapshot,
    serving: EnvironmentSnapshot,
    *,
    rules: RulesConfig,
    knowledge: Knowledge,
    rule_set: Sequence[Rule] | None = None,
) -> list[Finding]:
    """Findings of one pair, with the repo's ignore / severity / allow settings applied."""
    ctx = RuleContext(
        training=training,
        serving=serving,
        knowledge=knowledge,
        allow_lists={k.upper(): tuple(v) for k, v in rules.allow.items()},
    )
    ignored = {r.upper() for r in rules.ignore}
    found: list[Finding] = []
    for rule in all_rules() if rule_set is None else rule_set:
        if rule.info.id in ignored:
            continue
        found.extend(rule.check(ctx))
    found.extend(parse_error_findings(training, serving))
    overrides = {k.upper(): v for k, v in rules.severity.items() if v in SEVERITIES}
    out = []
    for f in found:
        if f.rule in ignored:
            continue
        # built directly: dataclasses.replace costs more than the rules on long histories
        out.append(
            Finding(
                status=f.status,
                kind=f.kind,
                item=f.item,
                severity=overrides.get(f.rule, f.severity),  # type: ignore[arg-type]
                rule=f.rule,
                message=f.message,
                training_env=training.name,
                serving_env=serving.name,
                training=f.training,
                serving=f.serving,
                file=f.file,
                line=f.line,
                evidence=f.evidence,
            )
        )
    return sort_findings(out)


def parse_error_findings(*snapshots: EnvironmentSnapshot) -> list[Finding]:
    """One DA900 error per unreadable file of the pair (a shared file counts once)."""
    first: dict[str, ParseError] = {}
    sides: dict[str, list[str]] = {}
    for snapshot in snapshots:
        for fact in snapshot.of_type(ParseError):
            first.setdefault(fact.file, fact)
            if snapshot.role not in sides.setdefault(fact.file, []):
                sides[fact.file].append(snapshot.role)
    return [
        Finding(
            status="error",
            kind=kind_of_file(path),
            item=path,
            severity="low",
            rule=PARSE_ERROR_RULE,
            message=fact.message,
            training=fact.message if "training" in sides[path] else "",
            serving=fact.message if "serving" in sides[path] else "",
            file=path,
            line=fact.line,
        )
        for path, fact in first.items()
    ]


def kind_of_file(path: str) -> Kind:
    """The finding kind of an unreadable file, guessed from its name."""
    name = path.rsplit("/", 1)[-1].lower()
    if name.endswith(".py"):
        return "code"
    if (
        name in _DEPENDENCY_FILES
        or name.endswith((".lock", ".in"))
        or (name.endswith(".txt") and ("requirements" in name or "constraints" in name))
    ):
        return "package"
    if name in _RUNTIME_FILES or name.startswith(("dockerfile", "containerfile")):
        return "runtime"
    if name.endswith((".dockerfile", ".containerfile")):
        return "runtime"
    return "config"


def max_severity(findings: Iterable[Finding]) -> Severity | None:
    """The highest severity among ``findings`` (None when empty)."""
    ranked = [f.severity for f in findings]
    return next((s for s in SEVERITIES if s in ranked), None)
