"""DA506: serving CPU / memory requests or limits above the ceiling (knowledge.max_cpu / max_memory)."""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.catalog import rule_info
from depaudit.model import Finding
from depaudit.rules.findings import finding
from depaudit.rules.gpu_requested_in_serving import largest, locations
from depaudit.rules.view import PairView


def _gib(amount: float) -> str:
    return f"{amount / 1024**3:g} GiB"


class OversizedServingResources:
    info = rule_info("DA506")

    def check(self, view: PairView) -> Iterator[Finding]:
        allow = {a.lower() for a in view.allow(self.info.id)}
        ceilings = {
            "cpu": (view.knowledge.max_cpu, f"{view.knowledge.max_cpu:g} cores"),
            "memory": (view.knowledge.max_memory, _gib(view.knowledge.max_memory)),
        }
        for name, (ceiling, shown) in ceilings.items():
            s = largest(view.serving.snapshot, name)
            if s is None or s.amount <= ceiling or name in allow:
                continue
            t = largest(view.training.snapshot, name)
            yield finding(
                self.info,
                "leftover",
                name,
                f"serving sets {name} {s.bound} {s.raw}, above the {shown} ceiling: "
                "training-sized resources in serving cost money on every replica.",
                training=t.raw if t else "",
                serving=s.raw,
                file=s.file,
                line=s.line,
                evidence=locations(view.serving.snapshot, name, ceiling),
            )


RULE = OversizedServingResources()
