"""DA403: serving reads a bucket that holds training data."""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.catalog import rule_info
from depaudit.model import Finding
from depaudit.rules.network_leftovers import network_leftovers
from depaudit.rules.view import PairView


class TrainingBucketInServing:
    info = rule_info("DA403")

    def check(self, view: PairView) -> Iterator[Finding]:
        return network_leftovers(self.info, view, "the training-data bucket")


RULE = TrainingBucketInServing()
