"""DA303: a config key both sides set, to different values."""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.model import Finding
from depaudit.rules.base import RuleContext, RuleInfo
from depaudit.rules.config_keys import config_keys, config_leftovers, reported_as_leftover
from depaudit.rules.findings import finding


class ConfigValueDrift:
    info = RuleInfo(
        id="DA303",
        title="Config value differs",
        kind="config",
        severity="low",
        summary="The same configuration key has a different value in training and serving.",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        allow = {a.lower() for a in ctx.allow(self.info.id)}
        training = config_keys(ctx.training)
        serving = config_keys(ctx.serving)
        leftovers = config_leftovers(ctx.serving, ctx.knowledge)
        for key in sorted(training.keys() & serving.keys()):
            t, s = training[key], serving[key]
            if set(t.values) == set(s.values) or key.lower() in allow:
                continue
            if reported_as_leftover(key, leftovers, ctx.allow):
                continue  # a DA301 / DA302 leftover, not good news or mere drift
            what = "a different secret" if t.secret and s.secret else "a different value"
            yield finding(
                self.info,
                "drift",
                key,
                f"{key} has {what} in serving than in training: "
                "settings that shape inputs or the model must match.",
                training=t.shown,
                serving=s.shown,
                file=s.first.file,
                line=s.first.line,
            )


RULE = ConfigValueDrift()
