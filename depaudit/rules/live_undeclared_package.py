"""DA701: a package is installed in the live serving environment but declared nowhere.

Only the *roots* of what nobody declared are reported: a package a declared package
requires (directly or through others) is expected, and the dependencies of an
undeclared package are listed in its evidence instead of getting a finding each
(``pip install jupyter`` is one mistake, not fifty).
"""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.catalog import rule_info
from depaudit.model import Finding
from depaudit.rules.base import LiveContext
from depaudit.rules.findings import finding
from depaudit.rules.live_packages import PACKAGING_TOOLS, installed
from depaudit.rules.merged_packages import allowed


def closure(start: set[str], graph: dict[str, tuple[str, ...]]) -> set[str]:
    """Every name reachable from ``start`` along ``graph`` (including ``start``)."""
    seen: set[str] = set()
    stack = list(start)
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        stack.extend(graph.get(name, ()))
    return seen


class InstalledNotDeclared:
    info = rule_info("DA701")

    def check(self, ctx: LiveContext) -> Iterator[Finding]:
        declared = ctx.declared.packages
        live = installed(ctx.observed.snapshot)
        graph = {name: pkg.fact.requires for name, pkg in live.items()}
        allow = allowed(ctx.allow(self.info.id))
        # an allowed package is as good as declared, and so are its dependencies
        expected = closure(set(declared) | PACKAGING_TOOLS | allow, graph)
        stray = {name for name in live if name not in expected}
        # a stray package required by another stray one is covered by that one's finding
        required_by_stray = {dep for name in stray for dep in graph.get(name, ()) if dep != name}
        roots = sorted(stray - required_by_stray)
        covered = closure(set(roots), graph)
        # cycles of stray packages have no root: report what no root covers
        roots += sorted(stray - covered - set(roots))
        for name in roots:
            pkg = live[name]
            pulled = sorted((closure({name}, graph) & stray) - {name})
            yield finding(
                self.info,
                "drift",
                name,
                f"{name} {pkg.version} is installed in the live serving environment but no "
                "serving dependency file declares it: the image is not reproducible from its files.",
                serving=pkg.version,
                file=pkg.fact.file,
                line=pkg.fact.line,
                evidence=("also installed only because of it: " + ", ".join(pulled))
                if pulled
                else "",
            )


RULE = InstalledNotDeclared()
