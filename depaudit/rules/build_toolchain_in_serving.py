"""DA601: a build / GPU toolchain system package in the served (final) image stage."""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.catalog import rule_info
from depaudit.model import EnvironmentSnapshot, Finding, SystemPackage
from depaudit.rules.findings import because, finding
from depaudit.rules.runtime_facts import in_final_stage
from depaudit.rules.view import PairView


def final_system_packages(snapshot: EnvironmentSnapshot) -> dict[str, SystemPackage]:
    """Name -> first install of it in a final image stage."""
    out: dict[str, SystemPackage] = {}
    for fact in in_final_stage(snapshot.of_type(SystemPackage), snapshot):
        out.setdefault(fact.name.lower(), fact)
    return out


class BuildToolchainInServing:
    info = rule_info("DA601")

    def check(self, view: PairView) -> Iterator[Finding]:
        allow = {a.lower() for a in view.allow(self.info.id)}
        training = final_system_packages(view.training.snapshot)
        for name, fact in sorted(final_system_packages(view.serving.snapshot).items()):
            entry = view.knowledge.system_package(name)
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
