"""DA301: a training credential / warehouse / tracker secret key in serving config."""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.model import Finding
from depaudit.rules.base import RuleContext, RuleInfo
from depaudit.rules.config_keys import config_keys, leftover_rule
from depaudit.rules.findings import because, finding


class TrainingSecretInServingConfig:
    info = RuleInfo(
        id="DA301",
        title="Training credential in serving config",
        kind="config",
        severity="high",
        summary="Serving configuration carries a credential or connection setting for a warehouse, tracker or training identity.",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        allow = {a.lower() for a in ctx.allow(self.info.id)}
        training = config_keys(ctx.training)
        for key, cfg in sorted(config_keys(ctx.serving).items()):
            entry = ctx.knowledge.config_key(key)
            if entry is None or key.lower() in allow:
                continue
            if leftover_rule(entry, cfg.secret) != self.info.id:
                continue
            other = training.get(key)
            yield finding(
                self.info,
                "leftover",
                key,
                f"serving config sets {key}{because(entry.reason)}",
                severity="high",
                training=other.shown if other else "",
                serving=cfg.shown,
                file=cfg.first.file,
                line=cfg.first.line,
            )


RULE = TrainingSecretInServingConfig()
