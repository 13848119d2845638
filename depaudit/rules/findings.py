"""Building findings the same way in every rule.

Rules leave ``training_env`` / ``serving_env`` empty: :mod:`depaudit.compare` sets them
for the pair it is comparing, so a rule only describes what it saw.
"""

from __future__ import annotations

from depaudit.model import Finding, Severity, Status
from depaudit.rules.base import RuleInfo


def finding(
    info: RuleInfo,
    status: Status,
    item: str,
    message: str,
    *,
    severity: Severity | None = None,
    training: str = "",
    serving: str = "",
    file: str = "",
    line: int = 0,
    evidence: str = "",
) -> Finding:
    """A finding of ``info``'s rule; severity defaults to the rule's own."""
    return Finding(
        status=status,
        kind=info.kind,
        item=item,
        severity=severity or info.severity,
        rule=info.id,
        message=message,
        training=training,
        serving=serving,
        file=file,
        line=line,
        evidence=evidence,
    )


def because(reason: str) -> str:
    """`` — <reason>`` for the end of a message, or nothing when there is no reason."""
    reason = reason.strip().rstrip(".")
    return f": {reason}." if reason else "."
