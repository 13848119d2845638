"""DA301: a training credential / warehouse / tracker secret key in serving config."""

from __future__ import annotations

from depaudit.catalog import rule_info
from depaudit.rules.config_leftover import ConfigLeftoverRule

RULE = ConfigLeftoverRule(rule_info("DA301"), fixed_severity=True)
