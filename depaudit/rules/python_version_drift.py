"""DA501: the Python version differs between training and serving.

Versions compare on major.minor: patch releases do not change behaviour that matters
here. A specifier (``requires-python = ">=3.10"``) against a concrete version is drift
only if the concrete version is outside it; two specifiers drift only if no version
satisfies both.
"""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.catalog import rule_info
from depaudit.model import Finding
from depaudit.rules.findings import finding
from depaudit.rules.runtime_facts import concrete_python, preferred
from depaudit.rules.version_ranges import contains, have_common_version
from depaudit.rules.view import PairView


def python_compatible(training: str, serving: str) -> bool:
    t, s = concrete_python(training), concrete_python(serving)
    if t and s:
        return t == s
    if t or s:
        version, spec = (t, serving) if t else (s, training)
        # any patch release of that minor satisfying the range counts
        return any(contains(spec, f"{version}.{patch}") for patch in (0, 99))
    return have_common_version(training, serving)


class PythonVersionDrift:
    info = rule_info("DA501")

    def check(self, view: PairView) -> Iterator[Finding]:
        t, s = (
            preferred(view.training.snapshot, "python"),
            preferred(view.serving.snapshot, "python"),
        )
        if t is None or s is None or python_compatible(t.value, s.value):
            return
        yield finding(
            self.info,
            "drift",
            "python",
            f"training runs Python {t.value} and serving {s.value}: pickled models and "
            "library wheels are built per Python version.",
            training=t.value,
            serving=s.value,
            file=s.file,
            line=s.line,
        )


RULE = PythonVersionDrift()
