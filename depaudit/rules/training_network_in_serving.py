"""DA401: serving reaches a warehouse or an internal training-network host."""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.model import Finding
from depaudit.rules.base import RuleContext, RuleInfo
from depaudit.rules.network_leftovers import network_leftovers


class TrainingNetworkInServing:
    info = RuleInfo(
        id="DA401",
        title="Warehouse or internal network target in serving",
        kind="network",
        severity="high",
        summary="Serving reaches a data warehouse or an internal-network host that only training should reach.",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        return network_leftovers(self.info, ctx, "the training network target")


RULE = TrainingNetworkInServing()
