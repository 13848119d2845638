"""DA103: the two sides' requirements admit no common version.

Covers a range against a range (``<1.2`` vs ``>=1.3``) and a pin outside the other side's
range. Two differing pins are DA102. The decision is the bounded candidate search of
:mod:`depaudit.rules.version_ranges`.
"""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.model import Finding
from depaudit.rules.base import RuleContext, RuleInfo
from depaudit.rules.findings import finding
from depaudit.rules.merged_packages import MergedPackage, allowed, merged_packages
from depaudit.rules.version_ranges import have_common_version


def requirement(pkg: MergedPackage) -> str:
    """What a side asks for, as a specifier: its exact version if known, else its range."""
    return f"=={pkg.version}" if pkg.version else pkg.specifier


def _is_range(specifier: str) -> bool:
    """A declared range (``>=1.12``), not empty and not an exact pin (``==1.3.2``)."""
    if not specifier:
        return False
    return not any(
        part.strip().startswith(("==", "===")) and "*" not in part for part in specifier.split(",")
    )


class IncompatibleSpecifiers:
    info = RuleInfo(
        id="DA103",
        title="Specifiers with no common version",
        kind="package",
        severity="medium",
        summary="Training and serving require versions of a package that no single release satisfies.",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        allow = allowed(ctx.allow(self.info.id))
        training = merged_packages(ctx.training)
        serving = merged_packages(ctx.serving)
        for name in sorted(training.keys() & serving.keys()):
            t, s = training[name], serving[name]
            if name in allow:
                continue
            if t.version and s.version:
                # Two exact versions are DA102's business, unless the ranges people
                # declared (not the lock files) exclude each other: relocking cannot fix that.
                if not (_is_range(t.declared) and _is_range(s.declared)) or have_common_version(
                    t.declared, s.declared
                ):
                    continue
            elif have_common_version(requirement(t), requirement(s)):
                continue
            locked = bool(t.version and s.version)
            t_shown, s_shown = (t.declared, s.declared) if locked else (t.shown, s.shown)
            yield finding(
                self.info,
                "drift",
                name,
                f"no {name} version satisfies both training ({t_shown}) and serving ({s_shown}): "
                "the environments cannot run the same release.",
                training=t_shown,
                serving=s_shown,
                file=s.fact.file,
                line=s.fact.line,
            )


RULE = IncompatibleSpecifiers()
