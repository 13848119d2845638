"""DA505: serving requests GPUs (k8s ``nvidia.com/gpu``, compose device reservations)."""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.model import EnvironmentSnapshot, Finding, Resource
from depaudit.rules.base import RuleContext, RuleInfo
from depaudit.rules.findings import finding


def largest(snapshot: EnvironmentSnapshot, name: str) -> Resource | None:
    """The largest request or limit of ``name`` (first one on ties)."""
    found = [r for r in snapshot.of_type(Resource) if r.name == name]
    return max(found, key=lambda r: r.amount) if found else None


def locations(snapshot: EnvironmentSnapshot, name: str, above: float) -> str:
    return "\n".join(
        f"{r.file}:{r.line} {r.bound} {r.raw}" + (f" ({r.scope})" if r.scope else "")
        for r in snapshot.of_type(Resource)
        if r.name == name and r.amount > above
    )


class GpuRequestedInServing:
    info = RuleInfo(
        id="DA505",
        title="GPU requested in serving",
        kind="resource",
        severity="medium",
        summary="The serving deployment requests GPUs, which are costly and usually only needed to train.",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        s = largest(ctx.serving, "gpu")
        if s is None or s.amount <= 0 or "gpu" in {a.lower() for a in ctx.allow(self.info.id)}:
            return
        t = largest(ctx.training, "gpu")
        yield finding(
            self.info,
            "leftover",
            "gpu",
            f"serving requests {s.raw} GPU(s): GPUs are the largest cost item and most "
            "models serve fine on CPU (allow it if this model needs one).",
            training=t.raw if t else "",
            serving=s.raw,
            file=s.file,
            line=s.line,
            evidence=locations(ctx.serving, "gpu", 0),
        )


RULE = GpuRequestedInServing()
