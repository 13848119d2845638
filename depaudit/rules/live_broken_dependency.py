"""DA704: an installed package's own requirement is missing or not satisfied.

pipdeptree does not fail on this with JSON output (``-w fail`` keeps exit 0, a missing
package shows as ``"installed_version": "?"``), so the collector keeps each installed
package's requirement strings and this rule judges them against what is installed.
"""

from __future__ import annotations

from collections.abc import Iterator

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from depaudit.catalog import rule_info
from depaudit.model import Finding
from depaudit.rules.base import LiveContext
from depaudit.rules.findings import finding
from depaudit.rules.live_packages import installed
from depaudit.rules.merged_packages import allowed
from depaudit.rules.version_ranges import contains


class BrokenInstalledDependency:
    info = rule_info("DA704")

    def check(self, ctx: LiveContext) -> Iterator[Finding]:
        live = installed(ctx.observed.snapshot)
        allow = allowed(ctx.allow(self.info.id))
        # dependency -> ["requests 2.31.0 requires idna<4,>=2.5", ...]: one finding per
        # broken dependency, however many packages need it
        missing: dict[str, list[str]] = {}
        conflicts: dict[str, list[str]] = {}
        source = next((p.fact.file for p in live.values()), "")
        for name, pkg in sorted(live.items()):
            for text in pkg.fact.requirements:
                try:
                    req = Requirement(text)
                except InvalidRequirement:
                    continue
                dep = str(canonicalize_name(req.name))
                spec = str(req.specifier)
                got = live.get(dep)
                who = f"{name} {pkg.version} requires {dep}{spec or ''}"
                if got is None:
                    missing.setdefault(dep, []).append(who)
                elif spec and got.version and not contains(spec, got.version):
                    conflicts.setdefault(dep, []).append(who)
        for absent, whos in sorted(missing.items()):
            if absent in allow:
                continue
            yield finding(
                self.info,
                "drift",
                absent,
                f"{absent} is not installed but {'; '.join(whos)}: imports of it will fail at run time.",
                training="; ".join(whos),
                serving="missing",
                file=source,
                evidence="\n".join(whos),
            )
        for dep, whos in sorted(conflicts.items()):
            if dep in allow:
                continue
            got = live[dep]
            yield finding(
                self.info,
                "drift",
                dep,
                f"{dep} {got.version} is installed but {'; '.join(whos)}.",
                training="; ".join(whos),
                serving=got.version,
                file=got.fact.file,
                evidence="\n".join(whos),
            )


RULE = BrokenInstalledDependency()
