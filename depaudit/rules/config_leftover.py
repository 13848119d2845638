"""What DA301 and DA302 share: serving config keys the knowledge base marks as training's.

``config_keys.config_leftovers`` decides which of the two rules owns a key (a secret or a
credential-like entry is DA301, anything else DA302); this class reports the keys of one.
"""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.model import Finding
from depaudit.rules.base import RuleContext, RuleInfo
from depaudit.rules.config_keys import config_keys, config_leftovers
from depaudit.rules.findings import because, finding


class ConfigLeftoverRule:
    """Reports the leftover config keys assigned to ``info.id``.

    ``fixed_severity`` forces one severity (credentials are always high); without it the
    knowledge entry's severity is used and its category is named in the message.
    """

    def __init__(self, info: RuleInfo, *, fixed_severity: bool) -> None:
        self.info = info
        self.fixed_severity = fixed_severity

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        allow = {a.lower() for a in ctx.allow(self.info.id)}
        training = config_keys(ctx.training)
        leftovers = config_leftovers(ctx.serving, ctx.knowledge)
        for key, cfg in sorted(config_keys(ctx.serving).items()):
            rule, entry = leftovers.get(key, ("", None))
            if entry is None or rule != self.info.id or key.lower() in allow:
                continue
            other = training.get(key)
            category = "" if self.fixed_severity else f" ({entry.category})"
            yield finding(
                self.info,
                "leftover",
                key,
                f"serving config sets {key}{category}{because(entry.reason)}",
                severity=self.info.severity if self.fixed_severity else entry.severity,
                training=other.shown if other else "",
                serving=cfg.shown,
                file=cfg.first.file,
                line=cfg.first.line,
            )
