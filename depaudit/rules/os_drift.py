"""DA502: the operating system family or version differs."""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.model import Finding
from depaudit.rules.base import RuleContext, RuleInfo
from depaudit.rules.findings import finding
from depaudit.rules.runtime_facts import preferred


def normalized_os(value: str) -> str:
    return " ".join(value.lower().split())


class OsDrift:
    info = RuleInfo(
        id="DA502",
        title="Operating system differs",
        kind="runtime",
        severity="medium",
        summary="Training and serving images are built on different OS families or releases.",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        t, s = preferred(ctx.training, "os"), preferred(ctx.serving, "os")
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
