"""DA503: the base image differs while the OS is the same (or unknown).

An OS difference is DA502's finding; repeating it as an image difference adds nothing.
Images compare by name and tag; when both sides pin a digest, the digests compare too
(the same tag can point at different builds).
"""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.model import Finding
from depaudit.rules.base import RuleContext, RuleInfo
from depaudit.rules.findings import finding
from depaudit.rules.os_drift import normalized_os
from depaudit.rules.runtime_facts import image_digest, image_name, preferred


def same_image(a: str, b: str) -> bool:
    if image_name(a) != image_name(b):
        return False
    da, db = image_digest(a), image_digest(b)
    return not (da and db) or da == db


class BaseImageDrift:
    info = RuleInfo(
        id="DA503",
        title="Base image differs",
        kind="runtime",
        severity="low",
        summary="Training and serving use different base images on the same OS.",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        t, s = preferred(ctx.training, "base_image"), preferred(ctx.serving, "base_image")
        if t is None or s is None or same_image(t.value, s.value):
            return
        t_os, s_os = preferred(ctx.training, "os"), preferred(ctx.serving, "os")
        if t_os and s_os and normalized_os(t_os.value) != normalized_os(s_os.value):
            return  # DA502
        same_name = image_name(t.value) == image_name(s.value)
        how = "the same tag at different digests" if same_name else "different base images"
        yield finding(
            self.info,
            "drift",
            "base_image",
            f"training and serving use {how} ({t.value} vs {s.value}): "
            "build both from one image to run the same system libraries.",
            training=t.value,
            serving=s.value,
            file=s.file,
            line=s.line,
        )


RULE = BaseImageDrift()
