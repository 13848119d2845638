"""DA401: serving reaches a warehouse or an internal training-network host."""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.catalog import rule_info
from depaudit.model import Finding
from depaudit.rules.network_leftovers import network_leftovers
from depaudit.rules.view import PairView


class TrainingNetworkInServing:
    info = rule_info("DA401")

    def check(self, view: PairView) -> Iterator[Finding]:
        return network_leftovers(self.info, view, "the training network target")


RULE = TrainingNetworkInServing()
