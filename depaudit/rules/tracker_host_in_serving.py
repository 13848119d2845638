"""DA402: serving reaches an experiment-tracker host (wandb, mlflow, comet, neptune)."""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.catalog import rule_info
from depaudit.model import Finding
from depaudit.rules.network_leftovers import network_leftovers
from depaudit.rules.view import PairView


class TrackerHostInServing:
    info = rule_info("DA402")

    def check(self, view: PairView) -> Iterator[Finding]:
        return network_leftovers(self.info, view, "the experiment tracker")


RULE = TrackerHostInServing()
