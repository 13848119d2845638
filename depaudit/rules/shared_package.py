"""DA104: a package both sides declare compatibly (same version / same or overlapping range).

Only packages one side names directly: a lock file's transitive entries that both sides
install (a project's Pipfile.lock, forty dependencies of tensorflow) would each be a row
saying the same file is installed twice.
"""

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
            if not (c.training.direct or c.serving.direct):
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
