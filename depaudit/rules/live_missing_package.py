"""DA702: a package the serving files declare is not installed in the live environment."""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.catalog import rule_info
from depaudit.model import Finding
from depaudit.rules.base import LiveContext
from depaudit.rules.findings import finding
from depaudit.rules.live_packages import installed, marker_applies
from depaudit.rules.merged_packages import allowed


class DeclaredNotInstalled:
    info = rule_info("DA702")

    def check(self, ctx: LiveContext) -> Iterator[Finding]:
        live = installed(ctx.observed.snapshot)
        allow = allowed(ctx.allow(self.info.id))
        for name, pkg in sorted(ctx.declared.packages.items()):
            if (
                name in live
                or name in allow
                or not marker_applies(pkg.fact.marker, ctx.observed.snapshot)
            ):
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
