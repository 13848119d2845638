"""DA302: a training-specific config key (tracker URI, hyperparameter) in serving config."""

from __future__ import annotations

from depaudit.rules.base import RuleInfo
from depaudit.rules.config_leftover import ConfigLeftoverRule

RULE = ConfigLeftoverRule(
    RuleInfo(
        id="DA302",
        title="Training-specific config key in serving",
        kind="config",
        severity="medium",
        summary="Serving configuration sets a key that only training uses (tracker settings, hyperparameters).",
    ),
    fixed_severity=False,
)
