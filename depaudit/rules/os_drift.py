"""DA502: the operating system family or version differs."""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.catalog import rule_info
from depaudit.model import Finding
from depaudit.rules.findings import finding
from depaudit.rules.runtime_facts import preferred
from depaudit.rules.view import PairView


def normalized_os(value: str) -> str:
    return " ".join(value.lower().split())


class OsDrift:
    info = rule_info("DA502")

    def check(self, view: PairView) -> Iterator[Finding]:
        t, s = preferred(view.training.snapshot, "os"), preferred(view.serving.snapshot, "os")
        if t is None or s is None or normalized_os(t.value) == normalized_os(s.value):
            return
        yield finding(
            self.info,
            "drift",
            "os",
            f"training runs on {t.value} and serving on {s.value}: system libraries "
            "(glibc, OpenMP, BLAS) differ and can change numeric results.",
            training=t.value,
            serving=s.value,
            file=s.file,
            line=s.line,
        )


RULE = OsDrift()
