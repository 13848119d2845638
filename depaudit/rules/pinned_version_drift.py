"""DA102: both sides pin or lock a package, to different versions."""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.model import Finding
from depaudit.rules.base import RuleContext, RuleInfo
from depaudit.rules.findings import finding
from depaudit.rules.merged_packages import allowed, merged_packages
from depaudit.rules.version_ranges import same_version, version_distance

INFERENCE_REASON = (
    "an inference library must match training exactly, or a model saved by one version "
    "can fail to load or predict differently in the other"
)


class PinnedVersionDrift:
    info = RuleInfo(
        id="DA102",
        title="Pinned versions differ",
        kind="package",
        severity="low",
        summary="Training and serving pin or lock different versions of the same package.",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        allow = allowed(ctx.allow(self.info.id))
        training = merged_packages(ctx.training)
        serving = merged_packages(ctx.serving)
        for name in sorted(training.keys() & serving.keys()):
            t, s = training[name], serving[name]
            if not t.version or not s.version or t.version == s.version or name in allow:
                continue
            if same_version(t.version, s.version):
                continue
            distance = version_distance(t.version, s.version)
            apart = f" ({distance} version apart)" if distance else ""
            inference = name in ctx.knowledge.inference_packages
            why = INFERENCE_REASON if inference else "the two environments run different code"
            yield finding(
                self.info,
                "drift",
                name,
                f"{name} is {t.version} in training and {s.version} in serving{apart}: {why}.",
                severity="medium" if inference else "low",
                training=t.version,
                serving=s.version,
                file=s.fact.file,
                line=s.fact.line,
                evidence=distance,
            )


RULE = PinnedVersionDrift()
