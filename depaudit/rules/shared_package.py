"""DA104: a package both sides declare compatibly (same version / same or overlapping range)."""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.model import Finding
from depaudit.rules.base import RuleContext, RuleInfo
from depaudit.rules.findings import finding
from depaudit.rules.incompatible_specifiers import requirement
from depaudit.rules.merged_packages import allowed, merged_packages, training_entry
from depaudit.rules.version_ranges import have_common_version, same_version


class SharedPackage:
    info = RuleInfo(
        id="DA104",
        title="Package shared by training and serving",
        kind="package",
        severity="info",
        summary="Both environments declare the package with the same version or compatible requirements.",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        training = merged_packages(ctx.training)
        serving = merged_packages(ctx.serving)
        allowed_leftovers = allowed(ctx.allow("DA101"))
        for name in sorted(training.keys() & serving.keys()):
            t, s = training[name], serving[name]
            if training_entry(s, ctx.knowledge) and name not in allowed_leftovers:
                continue  # a training-only package in serving is a DA101 leftover, not good news
            if t.version and s.version:
                if not same_version(t.version, s.version):
                    continue  # DA102
                how = f"the same version {s.version}"
            elif t.specifier == s.specifier and not t.version and not s.version:
                how = f"the same requirement {s.specifier or '(unconstrained)'}"
            elif have_common_version(requirement(t), requirement(s)):
                how = "compatible requirements (pin both to the same version to be sure)"
            else:
                continue  # DA103
            yield finding(
                self.info,
                "shared",
                name,
                f"{name} is declared on both sides with {how}.",
                training=t.shown,
                serving=s.shown,
                file=s.fact.file,
                line=s.fact.line,
            )


RULE = SharedPackage()
