"""DA503: the base image differs while the OS is the same (or unknown).

An OS difference is DA502's finding; repeating it as an image difference adds nothing.
Images compare by name and tag; when both sides pin a digest, the digests compare too
(the same tag can point at different builds).
"""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.catalog import rule_info
from depaudit.model import Finding
from depaudit.rules.findings import finding
from depaudit.rules.os_drift import normalized_os
from depaudit.rules.runtime_facts import image_digest, image_name, preferred
from depaudit.rules.view import PairView


def same_image(a: str, b: str) -> bool:
    if image_name(a) != image_name(b):
        return False
    da, db = image_digest(a), image_digest(b)
    return not (da and db) or da == db


class BaseImageDrift:
    info = rule_info("DA503")

    def check(self, view: PairView) -> Iterator[Finding]:
        t, s = (
            preferred(view.training.snapshot, "base_image"),
            preferred(view.serving.snapshot, "base_image"),
        )
        if t is None or s is None or same_image(t.value, s.value):
            return
        t_os, s_os = preferred(view.training.snapshot, "os"), preferred(view.serving.snapshot, "os")
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
