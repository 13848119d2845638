"""DA504: a CUDA devel toolchain or a GPU training image in the served (final) stage."""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.model import Finding
from depaudit.rules.base import RuleContext, RuleInfo
from depaudit.rules.findings import because, finding
from depaudit.rules.runtime_facts import runtime_facts

DEVEL_REASON = (
    "a CUDA devel toolchain (nvcc, headers) is several GB and only needed to compile; "
    "serve from a -runtime image or copy artifacts out of a builder stage"
)


class GpuToolchainInServing:
    info = RuleInfo(
        id="DA504",
        title="CUDA devel toolchain or training image in serving",
        kind="runtime",
        severity="medium",
        summary="The serving image is a CUDA devel or training image (compilers, notebooks) instead of a runtime image.",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        allow = {a.lower() for a in ctx.allow(self.info.id)}
        training_cuda = runtime_facts(ctx.training, "cuda")
        training_images = runtime_facts(ctx.training, "base_image")
        devel = [f for f in runtime_facts(ctx.serving, "cuda") if "devel" in f.detail.lower()]
        if devel and "cuda" not in allow:
            fact = devel[0]
            yield finding(
                self.info,
                "leftover",
                "cuda",
                f"serving runs CUDA {fact.value} with the devel toolchain{because(DEVEL_REASON)}",
                training=training_cuda[-1].value if training_cuda else "",
                serving=fact.value,
                file=fact.file,
                line=fact.line,
            )
        devel_lines = {(f.file, f.line) for f in devel}
        for fact in runtime_facts(ctx.serving, "base_image"):
            entry = ctx.knowledge.image(fact.value)
            if entry is None or (fact.file, fact.line) in devel_lines:
                continue  # the cuda finding above already points at this FROM line
            if "base_image" in allow or fact.value.lower() in allow:
                continue
            yield finding(
                self.info,
                "leftover",
                "base_image",
                f"serving is built from {fact.value}{because(entry.reason)}",
                severity=entry.severity,
                training=training_images[-1].value if training_images else "",
                serving=fact.value,
                file=fact.file,
                line=fact.line,
            )
            break


RULE = GpuToolchainInServing()
