"""DA304: a config key both sides set to the same value."""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.catalog import rule_info
from depaudit.model import Finding
from depaudit.rules.findings import finding
from depaudit.rules.view import PairView


class SharedConfig:
    info = rule_info("DA304")

    def check(self, view: PairView) -> Iterator[Finding]:
        training, serving = view.training.config, view.serving.config
        for key in sorted(training.keys() & serving.keys()):
            t, s = training[key], serving[key]
            if set(t.values) != set(s.values):
                continue
            if key in view.config_leftover_keys:
                continue  # a DA301 / DA302 leftover, not good news
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
