"""What DA301 and DA302 share: serving config keys the knowledge base marks as training's.

The environment view decides which of the two rules owns a key (a secret or a
credential-like entry is DA301, anything else DA302); this class reports the keys of one.
"""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.catalog import RuleInfo
from depaudit.model import Finding
from depaudit.rules.findings import because, finding
from depaudit.rules.view import PairView


class ConfigLeftoverRule:
    """Reports the leftover config keys assigned to ``info.id``.

    ``fixed_severity`` forces one severity (credentials are always high); without it the
    knowledge entry's severity is used and its category is named in the message.
    """

    def __init__(self, info: RuleInfo, *, fixed_severity: bool) -> None:
        self.info = info
        self.fixed_severity = fixed_severity

    def check(self, view: PairView) -> Iterator[Finding]:
        training = view.training.config
        for key in sorted(view.config_leftover_keys):
            rule, entry = view.serving.config_leftovers[key]
            if rule != self.info.id:
                continue
            cfg = view.serving.config[key]
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
