"""DA505: serving requests GPUs (k8s ``nvidia.com/gpu``, compose device reservations)."""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.catalog import rule_info
from depaudit.model import EnvironmentSnapshot, Finding, Resource
from depaudit.rules.findings import finding
from depaudit.rules.view import PairView


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
    info = rule_info("DA505")

    def check(self, view: PairView) -> Iterator[Finding]:
        s = largest(view.serving.snapshot, "gpu")
        if s is None or s.amount <= 0 or "gpu" in {a.lower() for a in view.allow(self.info.id)}:
            return
        t = largest(view.training.snapshot, "gpu")
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
            evidence=locations(view.serving.snapshot, "gpu", 0),
        )


RULE = GpuRequestedInServing()
