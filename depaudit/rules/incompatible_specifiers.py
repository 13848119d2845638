"""DA103: the two sides' requirements admit no common version.

Covers a range against a range (``<1.2`` vs ``>=1.3``) and a pin outside the other side's
range. Two differing pins are DA102. The decision is the pair view's, with the bounded
candidate search of :mod:`depaudit.rules.version_ranges`.
"""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.catalog import rule_info
from depaudit.model import Finding
from depaudit.rules.findings import finding
from depaudit.rules.view import PairView


class IncompatibleSpecifiers:
    info = rule_info("DA103")

    def check(self, view: PairView) -> Iterator[Finding]:
        for c in view.packages:
            if not c.incompatible or c.training is None or c.serving is None:
                continue
            t, s = c.training, c.serving
            locked = bool(t.version and s.version)
            t_shown, s_shown = (t.declared, s.declared) if locked else (t.shown, s.shown)
            yield finding(
                self.info,
                "drift",
                c.name,
                f"no {c.name} version satisfies both training ({t_shown}) and serving "
                f"({s_shown}): the environments cannot run the same release.",
                training=t_shown,
                serving=s_shown,
                file=s.fact.file,
                line=s.fact.line,
            )


RULE = IncompatibleSpecifiers()
