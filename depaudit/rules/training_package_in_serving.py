"""DA101: a training-only package (knowledge.training_packages) is declared in serving."""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.catalog import rule_info
from depaudit.model import Finding
from depaudit.rules.findings import because, finding
from depaudit.rules.view import PairView


class TrainingPackageInServing:
    info = rule_info("DA101")

    def check(self, view: PairView) -> Iterator[Finding]:
        # Only direct declarations (the pair view decides): a transitive entry
        # (tensorboard under tensorflow) is not something the serving files can remove.
        for c in view.packages:
            if c.leftover is None or c.serving is None:
                continue
            yield finding(
                self.info,
                "leftover",
                c.name,
                f"{c.name} ({c.leftover.category}) is installed in serving{because(c.leftover.reason)}",
                severity=c.leftover.severity,
                training=c.training.shown if c.training else "",
                serving=c.serving.shown,
                file=c.serving.fact.file,
                line=c.serving.fact.line,
            )


RULE = TrainingPackageInServing()
