"""DA105: a package declared directly on one side only (informational).

Serving-only packages that DA101 reports as training leftovers are not repeated here
(the pair view decides), so one package never gets both findings; nor are installers and
build tools (``pip install -U pip pipenv`` in a Dockerfile), nor a serving package DA205
reports as imported by no serving code (depaudit.compare keeps that one row).
"""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.catalog import rule_info
from depaudit.model import Finding
from depaudit.rules.findings import finding
from depaudit.rules.view import PACKAGING_TOOLS, PairView


class OneSidedPackage:
    info = rule_info("DA105")

    def check(self, view: PairView) -> Iterator[Finding]:
        for side in ("training", "serving"):
            for c in view.packages:
                pkg = c.training if side == "training" else c.serving
                if c.one_side != side or pkg is None or c.name in PACKAGING_TOOLS:
                    continue
                yield finding(
                    self.info,
                    "training_only" if side == "training" else "serving_only",
                    c.name,
                    f"{c.name} is declared for {side} only.",
                    training=pkg.shown if side == "training" else "",
                    serving=pkg.shown if side == "serving" else "",
                    file=pkg.fact.file,
                    line=pkg.fact.line,
                )


RULE = OneSidedPackage()
