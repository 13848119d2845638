"""DA504: a CUDA devel toolchain or a GPU training image in the served (final) stage."""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.catalog import rule_info
from depaudit.model import Finding
from depaudit.rules.findings import because, finding
from depaudit.rules.runtime_facts import runtime_facts
from depaudit.rules.view import PairView

DEVEL_REASON = (
    "a CUDA devel toolchain (nvcc, headers) is several GB and only needed to compile; "
    "serve from a -runtime image or copy artifacts out of a builder stage"
)


class GpuToolchainInServing:
    info = rule_info("DA504")

    def check(self, view: PairView) -> Iterator[Finding]:
        allow = {a.lower() for a in view.allow(self.info.id)}
        training_cuda = runtime_facts(view.training.snapshot, "cuda")
        training_images = runtime_facts(view.training.snapshot, "base_image")
        devel = [
            f for f in runtime_facts(view.serving.snapshot, "cuda") if "devel" in f.detail.lower()
        ]
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
        for fact in runtime_facts(view.serving.snapshot, "base_image"):
            entry = view.knowledge.image(fact.value)
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
