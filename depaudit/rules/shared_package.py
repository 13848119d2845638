"""DA104: a package both sides declare compatibly (same version / same or overlapping range)."""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.catalog import rule_info
from depaudit.model import Finding
from depaudit.rules.findings import finding
from depaudit.rules.view import PairView


class SharedPackage:
    info = rule_info("DA104")

    def check(self, view: PairView) -> Iterator[Finding]:
        for c in view.packages:
            if not c.shared_how or c.training is None or c.serving is None:
                continue
            yield finding(
                self.info,
                "shared",
                c.name,
                f"{c.name} is declared on both sides with {c.shared_how}.",
                training=c.training.shown,
                serving=c.serving.shown,
                file=c.serving.fact.file,
                line=c.serving.fact.line,
            )


RULE = SharedPackage()
