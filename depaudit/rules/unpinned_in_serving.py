"""DA107: training pins a version, serving leaves the package unpinned or looser.

Not "shared": serving resolves whatever release is newest the day its image is built, so
a model trained (and pickled) with one version is loaded by another. The model's own
framework and the libraries that unpickle it (knowledge.inference_packages), and a
library whose objects training pickles for a serving side that unpickles them (a ktext
preprocessor dumped with dill), are medium; anything else low. Two different pins are DA102, ranges with no common version DA103.
"""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.catalog import rule_info
from depaudit.model import Finding
from depaudit.rules.findings import finding
from depaudit.rules.view import PairView


class UnpinnedInServing:
    info = rule_info("DA107")

    def check(self, view: PairView) -> Iterator[Finding]:
        for c in view.packages:
            if not c.loose_in_serving or c.training is None or c.serving is None:
                continue
            t, s = c.training, c.serving
            spec = f"only {s.specifier}" if s.specifier else "unpinned"
            usage = view.usage
            pickled = usage.pickled.get(c.name) if usage.unpickles else None
            inference = pickled is not None or c.name in view.knowledge.inference_packages
            evidence = f"training pins it at {t.fact.file}:{t.fact.line}"
            if pickled is not None:
                evidence += (
                    f"; training pickles {pickled.module} objects "
                    f"({pickled.file}:{pickled.line}) and serving unpickles"
                )
            yield finding(
                self.info,
                "drift",
                c.name,
                f"{c.name} is {t.version} in training but {spec} in serving: serving installs "
                "whatever release is newest when its image is built"
                + (
                    ", so the model may be loaded by another version than trained it."
                    if inference
                    else "."
                ),
                severity="medium" if inference else "low",
                training=t.version,
                serving=s.shown,
                file=s.fact.file,
                line=s.fact.line,
                evidence=evidence,
            )


RULE = UnpinnedInServing()
