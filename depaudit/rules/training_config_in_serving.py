"""DA302: a training-specific config key (tracker URI, hyperparameter) in serving config."""

from __future__ import annotations

from depaudit.catalog import rule_info
from depaudit.rules.config_leftover import ConfigLeftoverRule

RULE = ConfigLeftoverRule(rule_info("DA302"), fixed_severity=False)
