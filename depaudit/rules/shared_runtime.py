"""DA507: python / os / base image identical on both sides (what must be standardised)."""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.catalog import rule_info
from depaudit.model import Finding
from depaudit.rules.base_image_drift import same_image
from depaudit.rules.findings import finding
from depaudit.rules.os_drift import normalized_os
from depaudit.rules.python_version_drift import python_compatible
from depaudit.rules.runtime_facts import preferred
from depaudit.rules.view import PairView

_SAME = {
    "python": python_compatible,
    "os": lambda a, b: normalized_os(a) == normalized_os(b),
    "base_image": same_image,
}


class SharedRuntime:
    info = rule_info("DA507")

    def check(self, view: PairView) -> Iterator[Finding]:
        for item, same in _SAME.items():
            t, s = preferred(view.training.snapshot, item), preferred(view.serving.snapshot, item)
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
