"""DA601: a build / GPU toolchain system package in the served (final) image stage."""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.model import EnvironmentSnapshot, Finding, SystemPackage
from depaudit.rules.base import RuleContext, RuleInfo
from depaudit.rules.findings import because, finding
from depaudit.rules.runtime_facts import in_final_stage


def final_system_packages(snapshot: EnvironmentSnapshot) -> dict[str, SystemPackage]:
    """Name -> first install of it in a final image stage."""
    out: dict[str, SystemPackage] = {}
    for fact in in_final_stage(snapshot.of_type(SystemPackage), snapshot):
        out.setdefault(fact.name.lower(), fact)
    return out


class BuildToolchainInServing:
    info = RuleInfo(
        id="DA601",
        title="Build or GPU toolchain system package in serving",
        kind="system_package",
        severity="low",
        summary="The serving image installs compilers or GPU development toolchains that only builds and training need.",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        allow = {a.lower() for a in ctx.allow(self.info.id)}
        training = final_system_packages(ctx.training)
        for name, fact in sorted(final_system_packages(ctx.serving).items()):
            entry = ctx.knowledge.system_package(name)
            if entry is None or name in allow:
                continue
            other = training.get(name)
            yield finding(
                self.info,
                "leftover",
                name,
                f"the serving image installs {name} ({entry.category}){because(entry.reason)}",
                severity=entry.severity,
                training=(other.version or "installed") if other else "",
                serving=fact.version or "installed",
                file=fact.file,
                line=fact.line,
            )


RULE = BuildToolchainInServing()
