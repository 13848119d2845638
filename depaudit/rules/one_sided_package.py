"""DA105: a package declared directly on one side only (informational).

Serving-only packages that DA101 reports as training leftovers are left to DA101, so
one package never gets both a leftover and a serving_only finding.
"""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.model import Finding
from depaudit.rules.base import RuleContext, RuleInfo
from depaudit.rules.findings import finding
from depaudit.rules.merged_packages import allowed, merged_packages, training_entry


class OneSidedPackage:
    info = RuleInfo(
        id="DA105",
        title="Package on one side only",
        kind="package",
        severity="info",
        summary="A package is declared directly in only one of the two environments.",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        training = merged_packages(ctx.training)
        serving = merged_packages(ctx.serving)
        allowed_leftovers = allowed(ctx.allow("DA101"))
        for name, pkg in sorted(training.items()):
            if pkg.direct and name not in serving:
                yield finding(
                    self.info,
                    "training_only",
                    name,
                    f"{name} is declared for training only.",
                    training=pkg.shown,
                    file=pkg.fact.file,
                    line=pkg.fact.line,
                )
        for name, pkg in sorted(serving.items()):
            if not pkg.direct or name in training:
                continue
            if training_entry(pkg, ctx.knowledge) and name not in allowed_leftovers:
                continue  # DA101 reports it as a leftover
            yield finding(
                self.info,
                "serving_only",
                name,
                f"{name} is declared for serving only.",
                serving=pkg.shown,
                file=pkg.fact.file,
                line=pkg.fact.line,
            )


RULE = OneSidedPackage()
