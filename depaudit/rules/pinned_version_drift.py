"""DA102: both sides pin or lock a package, to different versions.

The row points at serving's declaration (the place to fix: pin it, then re-lock); the
evidence says how far apart the versions are and where each side's installed version is
set (training's pin, serving's lock entry when a lock decides, not the ``"*"`` of the
Pipfile beside it).
"""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.catalog import rule_info
from depaudit.model import Finding
from depaudit.rules.findings import finding
from depaudit.rules.version_ranges import version_distance
from depaudit.rules.view import PairView

INFERENCE_REASON = (
    "an inference library must match training exactly, or a model saved by one version "
    "can fail to load or predict differently in the other"
)


class PinnedVersionDrift:
    info = rule_info("DA102")

    def check(self, view: PairView) -> Iterator[Finding]:
        for c in view.packages:
            if not c.pinned_apart or c.training is None or c.serving is None:
                continue
            t, s = c.training.version, c.serving.version
            distance = version_distance(t, s)
            apart = f" ({distance} version apart)" if distance else ""
            inference = c.name in view.knowledge.inference_packages
            where_t, where_s = c.training.version_fact, c.serving.version_fact
            evidence = (
                f"training's {t} is set at {where_t.file}:{where_t.line}, "
                f"serving's {s} at {where_s.file}:{where_s.line}"
            )
            evidence = f"{distance} version apart; {evidence}" if distance else evidence
            why = INFERENCE_REASON if inference else "the two environments run different code"
            yield finding(
                self.info,
                "drift",
                c.name,
                f"{c.name} is {t} in training and {s} in serving{apart}: {why}.",
                severity="medium" if inference else "low",
                training=t,
                serving=s,
                file=c.serving.fact.file,
                line=c.serving.fact.line,
                evidence=evidence,
            )


RULE = PinnedVersionDrift()
