"""DA402: serving reaches an experiment-tracker host (wandb, mlflow, comet, neptune)."""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.model import Finding
from depaudit.rules.base import RuleContext, RuleInfo
from depaudit.rules.network_leftovers import network_leftovers


class TrackerHostInServing:
    info = RuleInfo(
        id="DA402",
        title="Experiment-tracker host in serving",
        kind="network",
        severity="medium",
        summary="Serving reaches an experiment-tracking service that only training runs report to.",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        return network_leftovers(self.info, ctx, "the experiment tracker")


RULE = TrackerHostInServing()
