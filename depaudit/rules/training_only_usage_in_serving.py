"""DA106: serving declares a package that only training code uses.

The most common real leftover: one ``requirements.txt`` (or one pyproject) installed by
both the training job and the API, or a serving file copied from training's. Packages
that no code reachable from the serving entrypoints imports, but training code or a
notebook does (hydra, omegaconf, a model-export converter, EDA libraries), are installed
in production for nothing. The pair view decides (:meth:`PairView._training_use`): a
package serving needs without importing it (a server started by command, a driver
loaded by URL, a dependency of what serving imports, the library of an object training
pickles when serving unpickles) is never reported. Where training code does not say what
it pickles, every inference library counts as possibly the model's (kept out).
"""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.catalog import rule_info
from depaudit.model import Finding
from depaudit.rules.findings import finding
from depaudit.rules.view import PairView


class TrainingOnlyUsageInServing:
    info = rule_info("DA106")

    def check(self, view: PairView) -> Iterator[Finding]:
        for c in view.packages:
            if c.training_use is None or c.serving is None:
                continue
            pkg = c.serving
            yield finding(
                self.info,
                "leftover",
                c.name,
                f"{c.name} is installed in serving ({pkg.fact.file}:{pkg.fact.line}) but only "
                f"training code uses it ({c.training_use}); no code reachable from the serving "
                "entrypoints imports it: move it to training's dependencies.",
                training=c.training.shown if c.training else "",
                serving=pkg.shown,
                file=pkg.fact.file,
                line=pkg.fact.line,
                evidence=(
                    f"imported by training code at {c.training_use}"
                    if c.training_use.how == "import"
                    else f"used by training's config at {c.training_use}"
                ),
            )


RULE = TrainingOnlyUsageInServing()
