"""DA404: every other network target, as shared / training_only / serving_only (info).

Targets DA401-DA403 report as serving leftovers are not repeated here; a training-only
warehouse is fine and shows up here as training_only.
"""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.catalog import rule_info
from depaudit.model import Finding, Status
from depaudit.rules.findings import finding
from depaudit.rules.view import PairView


class OtherNetworkTargets:
    info = rule_info("DA404")

    def check(self, view: PairView) -> Iterator[Finding]:
        training, serving = view.training.targets, view.serving.targets
        rules = view.serving.classified_targets
        leftovers = {item for item, (rule, _) in rules.items() if rule != "DA404"}
        for item in sorted((training.keys() | serving.keys()) - leftovers):
            t, s = training.get(item), serving.get(item)
            status: Status
            if t and s:
                status, where = "shared", "both training and serving reach"
            elif t:
                status, where = "training_only", "only training reaches"
            else:
                status, where = "serving_only", "only serving reaches"
            shown = s or t
            assert shown is not None
            yield finding(
                self.info,
                status,
                item,
                f"{where} {item}.",
                training=t.fact.target if t else "",
                serving=s.fact.target if s else "",
                file=shown.fact.file,
                line=shown.fact.line,
            )


RULE = OtherNetworkTargets()
