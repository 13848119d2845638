"""DA301: a training credential / warehouse / tracker secret key in serving config."""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.model import Finding
from depaudit.rules.base import RuleContext, RuleInfo
from depaudit.rules.config_keys import config_keys, config_leftovers
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
        leftovers = config_leftovers(ctx.serving, ctx.knowledge)
        for key, cfg in sorted(config_keys(ctx.serving).items()):
            rule, entry = leftovers.get(key, ("", None))
            if entry is None or rule != self.info.id or key.lower() in allow:
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
