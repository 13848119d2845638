"""DA302: a training-specific config key (tracker URI, hyperparameter) in serving config."""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.model import Finding
from depaudit.rules.base import RuleContext, RuleInfo
from depaudit.rules.config_keys import config_keys, leftover_rule
from depaudit.rules.findings import because, finding


class TrainingConfigInServing:
    info = RuleInfo(
        id="DA302",
        title="Training-specific config key in serving",
        kind="config",
        severity="medium",
        summary="Serving configuration sets a key that only training uses (tracker settings, hyperparameters).",
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
                f"serving config sets {key} ({entry.category}){because(entry.reason)}",
                severity=entry.severity,
                training=other.shown if other else "",
                serving=cfg.shown,
                file=cfg.first.file,
                line=cfg.first.line,
            )


RULE = TrainingConfigInServing()
