"""DA101: a training-only package (knowledge.training_packages) is declared in serving."""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.model import Finding
from depaudit.rules.base import RuleContext, RuleInfo
from depaudit.rules.findings import because, finding
from depaudit.rules.merged_packages import allowed, merged_packages, training_entry


class TrainingPackageInServing:
    info = RuleInfo(
        id="DA101",
        title="Training-only package in serving",
        kind="package",
        severity="medium",
        summary="A package that only training, experiments or development need is installed in the serving environment.",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        allow = allowed(ctx.allow(self.info.id))
        training = merged_packages(ctx.training)
        # Only direct declarations: a transitive entry (tensorboard under tensorflow) is
        # not something the serving files can remove.
        for name, pkg in sorted(merged_packages(ctx.serving).items()):
            entry = training_entry(pkg, ctx.knowledge)
            if entry is None or not pkg.direct or name in allow:
                continue
            other = training.get(name)
            yield finding(
                self.info,
                "leftover",
                name,
                f"{name} ({entry.category}) is installed in serving{because(entry.reason)}",
                severity=entry.severity,
                training=other.shown if other else "",
                serving=pkg.shown,
                file=pkg.fact.file,
                line=pkg.fact.line,
            )


RULE = TrainingPackageInServing()
