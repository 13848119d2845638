"""DA602: system packages installed on both sides: shared (info) or version drift (low)."""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.catalog import rule_info
from depaudit.model import Finding
from depaudit.rules.build_toolchain_in_serving import final_system_packages
from depaudit.rules.findings import finding
from depaudit.rules.view import PairView


class SharedSystemPackages:
    info = rule_info("DA602")

    def check(self, view: PairView) -> Iterator[Finding]:
        training = final_system_packages(view.training.snapshot)
        serving = final_system_packages(view.serving.snapshot)
        for name in sorted(training.keys() & serving.keys()):
            t, s = training[name], serving[name]
            tv, sv = t.version or "installed", s.version or "installed"
            if t.version and s.version and t.version != s.version:
                yield finding(
                    self.info,
                    "drift",
                    name,
                    f"{name} is pinned to {t.version} in training and {s.version} in serving: "
                    "native libraries under the model should match.",
                    severity="low",
                    training=tv,
                    serving=sv,
                    file=s.file,
                    line=s.line,
                )
            else:
                yield finding(
                    self.info,
                    "shared",
                    name,
                    f"{name} is installed in both images.",
                    training=tv,
                    serving=sv,
                    file=s.file,
                    line=s.line,
                )


RULE = SharedSystemPackages()
