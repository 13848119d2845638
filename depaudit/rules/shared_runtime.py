"""DA507: python / os / base image identical on both sides (what must be standardised)."""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.model import Finding
from depaudit.rules.base import RuleContext, RuleInfo
from depaudit.rules.base_image_drift import same_image
from depaudit.rules.findings import finding
from depaudit.rules.os_drift import normalized_os
from depaudit.rules.python_version_drift import python_compatible
from depaudit.rules.runtime_facts import preferred

_SAME = {
    "python": python_compatible,
    "os": lambda a, b: normalized_os(a) == normalized_os(b),
    "base_image": same_image,
}


class SharedRuntime:
    info = RuleInfo(
        id="DA507",
        title="Runtime shared",
        kind="runtime",
        severity="info",
        summary="Training and serving run the same Python version, OS or base image.",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        for item, same in _SAME.items():
            t, s = preferred(ctx.training, item), preferred(ctx.serving, item)
            if t is None or s is None or not same(t.value, s.value):
                continue
            yield finding(
                self.info,
                "shared",
                item,
                f"training and serving share {item.replace('_', ' ')} {s.value}.",
                training=t.value,
                serving=s.value,
                file=s.file,
                line=s.line,
            )


RULE = SharedRuntime()
