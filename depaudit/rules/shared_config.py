"""DA304: a config key both sides set to the same value."""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.model import Finding
from depaudit.rules.base import RuleContext, RuleInfo
from depaudit.rules.config_keys import config_keys, config_leftovers, reported_as_leftover
from depaudit.rules.findings import finding


class SharedConfig:
    info = RuleInfo(
        id="DA304",
        title="Config value shared",
        kind="config",
        severity="info",
        summary="The same configuration key has the same value in training and serving.",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        training = config_keys(ctx.training)
        serving = config_keys(ctx.serving)
        leftovers = config_leftovers(ctx.serving, ctx.knowledge)
        for key in sorted(training.keys() & serving.keys()):
            t, s = training[key], serving[key]
            if set(t.values) != set(s.values):
                continue
            if reported_as_leftover(key, leftovers, ctx.allow):
                continue  # a DA301 / DA302 leftover, not good news or mere drift
            yield finding(
                self.info,
                "shared",
                key,
                f"{key} has the same value in training and serving.",
                training=t.shown,
                serving=s.shown,
                file=s.first.file,
                line=s.first.line,
            )


RULE = SharedConfig()
