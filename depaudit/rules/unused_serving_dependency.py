"""DA205: a serving dependency that no serving code imports."""

from __future__ import annotations

from collections.abc import Iterator

from packaging.utils import canonicalize_name

from depaudit.catalog import rule_info
from depaudit.code_graph import distribution_candidates
from depaudit.model import Entrypoint, Finding, Package
from depaudit.rules.findings import finding
from depaudit.rules.view import USED_WITHOUT_IMPORT, PairView


class UnusedServingDependency:
    info = rule_info("DA205")

    def check(self, view: PairView) -> Iterator[Finding]:
        modules = view.serving.code_modules
        if not modules:
            return  # nothing to judge imports by
        kn = view.knowledge
        allow = {canonicalize_name(a) for a in view.allow(self.info.id)}
        used: set[str] = set()
        for mod in modules.values():
            for ref in mod.imports:
                used |= distribution_candidates(ref.name, kn.import_names)
        for ep in view.serving.of_type(Entrypoint):
            used |= {canonicalize_name(w) for w in ep.command.replace("/", " ").split()}
        used |= view.serving.config_plugins.keys()  # loaded by name, not imported
        # a leftover (DA101: a training library; DA106: only training code imports it)
        # already says the package should go: "nobody imports it" would be a second row
        # for the same package
        seen: set[str] = {
            c.name for c in view.packages if c.training_use is not None or c.leftover is not None
        }
        for pkg in sorted(view.serving.of_type(Package), key=lambda p: (p.name, p.file, p.line)):
            name = pkg.name
            if (
                name in seen
                or not pkg.direct
                or pkg.origin != "declared"
                or pkg.group
                or name in USED_WITHOUT_IMPORT
                # a pickled / joblib model needs its library at load time without any import
                or name in kn.inference_packages
                or name in allow
                or name.startswith("types-")
                or name in used
                # opencv-python-headless / psycopg2-binary ship the module of their base name
                or any(name.startswith(u + "-") for u in used)
            ):
                seen.add(name)
                continue
            seen.add(name)
            yield finding(
                self.info,
                "serving_only",
                name,
                f"{name} is declared for serving ({pkg.file}:{pkg.line}) but no serving code imports it.",
                serving=pkg.specifier or pkg.version,
                file=pkg.file,
                line=pkg.line,
            )


RULE = UnusedServingDependency()
