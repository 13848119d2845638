"""DA506: serving CPU / memory requests or limits above the ceiling (knowledge.max_cpu / max_memory)."""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.model import Finding
from depaudit.rules.base import RuleContext, RuleInfo
from depaudit.rules.findings import finding
from depaudit.rules.gpu_requested_in_serving import largest, locations


def _gib(amount: float) -> str:
    return f"{amount / 1024**3:g} GiB"


class OversizedServingResources:
    info = RuleInfo(
        id="DA506",
        title="Oversized CPU or memory in serving",
        kind="resource",
        severity="medium",
        summary="A serving CPU or memory request / limit exceeds the configured ceiling, as training jobs do.",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        allow = {a.lower() for a in ctx.allow(self.info.id)}
        ceilings = {
            "cpu": (ctx.knowledge.max_cpu, f"{ctx.knowledge.max_cpu:g} cores"),
            "memory": (ctx.knowledge.max_memory, _gib(ctx.knowledge.max_memory)),
        }
        for name, (ceiling, shown) in ceilings.items():
            s = largest(ctx.serving, name)
            if s is None or s.amount <= ceiling or name in allow:
                continue
            t = largest(ctx.training, name)
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
                evidence=locations(ctx.serving, name, ceiling),
            )


RULE = OversizedServingResources()
