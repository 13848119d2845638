"""DA403: serving reads a bucket that holds training data."""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.model import Finding
from depaudit.rules.base import RuleContext, RuleInfo
from depaudit.rules.network_leftovers import network_leftovers


class TrainingBucketInServing:
    info = RuleInfo(
        id="DA403",
        title="Training data bucket in serving",
        kind="network",
        severity="high",
        summary="Serving reaches a storage bucket that holds raw or training data.",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        return network_leftovers(self.info, ctx, "the training-data bucket")


RULE = TrainingBucketInServing()
