"""DA301: a training credential / warehouse / tracker secret key in serving config."""

from __future__ import annotations

from depaudit.rules.base import RuleInfo
from depaudit.rules.config_leftover import ConfigLeftoverRule

RULE = ConfigLeftoverRule(
    RuleInfo(
        id="DA301",
        title="Training credential in serving config",
        kind="config",
        severity="high",
        summary="Serving configuration carries a credential or connection setting for a warehouse, tracker or training identity.",
    ),
    fixed_severity=True,
)
