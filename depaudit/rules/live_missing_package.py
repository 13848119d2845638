"""DA702: a package the serving files declare is not installed in the live environment."""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.model import Finding
from depaudit.rules.base import RuleContext, RuleInfo
from depaudit.rules.findings import finding
from depaudit.rules.live_packages import installed, is_live_pair, marker_applies
from depaudit.rules.merged_packages import allowed, merged_packages


class DeclaredNotInstalled:
    info = RuleInfo(
        id="DA702",
        title="Declared but not installed",
        kind="package",
        severity="medium",
        summary="A declared package is missing from the live environment.",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        if not is_live_pair(ctx):
            return
        live = installed(ctx.serving)
        allow = allowed(ctx.allow(self.info.id))
        for name, pkg in sorted(merged_packages(ctx.training).items()):
            if name in live or name in allow or not marker_applies(pkg.fact.marker, ctx.serving):
                continue
            yield finding(
                self.info,
                "drift",
                name,
                f"{name} is declared for serving ({pkg.shown}) but not installed in the live "
                "environment: the deployment was built from other files, or the install failed.",
                training=pkg.shown,
                file=pkg.fact.file,
                line=pkg.fact.line,
            )


RULE = DeclaredNotInstalled()
