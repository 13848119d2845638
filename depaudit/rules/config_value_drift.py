"""DA303: a config key both sides set, to different values."""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.catalog import rule_info
from depaudit.model import Finding
from depaudit.rules.findings import finding
from depaudit.rules.view import PairView


class ConfigValueDrift:
    info = rule_info("DA303")

    def check(self, view: PairView) -> Iterator[Finding]:
        allow = {a.lower() for a in view.allow(self.info.id)}
        training, serving = view.training.config, view.serving.config
        for key in sorted(training.keys() & serving.keys()):
            t, s = training[key], serving[key]
            if set(t.values) == set(s.values) or key.lower() in allow:
                continue
            if key in view.config_leftover_keys:
                continue  # a DA301 / DA302 leftover, not mere drift
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
