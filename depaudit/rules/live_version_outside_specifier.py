"""DA703: the installed version is not what the serving files allow."""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.catalog import rule_info
from depaudit.model import Finding
from depaudit.rules.base import LiveContext
from depaudit.rules.findings import finding
from depaudit.rules.live_packages import installed
from depaudit.rules.merged_packages import MergedPackage, allowed
from depaudit.rules.version_ranges import contains, same_version


def allows(pkg: MergedPackage, version: str) -> bool:
    """Whether the declaration admits ``version`` (unparsable input admits anything)."""
    if pkg.specifier:
        return contains(pkg.specifier, version)
    if pkg.version:  # a lock entry: exactly that version
        return same_version(pkg.version, version)
    return True


class VersionOutsideSpecifier:
    info = rule_info("DA703")

    def check(self, ctx: LiveContext) -> Iterator[Finding]:
        live = installed(ctx.observed.snapshot)
        allow = allowed(ctx.allow(self.info.id))
        for name, pkg in sorted(ctx.declared.packages.items()):
            got = live.get(name)
            if got is None or not got.version or name in allow or allows(pkg, got.version):
                continue
            wanted = pkg.specifier or f"=={pkg.version}"
            yield finding(
                self.info,
                "drift",
                name,
                f"{name} {got.version} is installed but the serving files require {wanted}.",
                severity="medium" if name in ctx.knowledge.inference_packages else "low",
                training=wanted,
                serving=got.version,
                file=pkg.fact.file,
                line=pkg.fact.line,
            )


RULE = VersionOutsideSpecifier()
