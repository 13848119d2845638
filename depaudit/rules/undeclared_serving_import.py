"""DA204: serving code imports a package that no serving dependency file declares."""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.catalog import rule_info
from depaudit.code_graph import distribution_candidates, format_chain
from depaudit.model import Finding, Package
from depaudit.rules.findings import finding
from depaudit.rules.training_library_in_serving_code import training_import
from depaudit.rules.view import PairView


class UndeclaredServingImport:
    info = rule_info("DA204")

    def check(self, view: PairView) -> Iterator[Finding]:
        declared = {p.name for p in view.serving.of_type(Package)}
        # With no dependency file at all we cannot tell a missing file from a base image
        # that ships the packages: say nothing rather than flag every import.
        if not declared:
            return
        code = view.code
        kn = view.knowledge
        allow = set(view.allow(self.info.id))
        reached = code.reached_serving()
        for top, sites in sorted(code.graph.external_imports(reached).items()):
            # try: import orjson / except ImportError: import json -- it has a fallback
            sites = [(m, r) for m, r in sites if not r.optional]
            if not sites:
                continue
            mod, ref = sites[0]
            if training_import(ref, kn) is not None:
                continue  # DA202 says "remove it"; do not also say "declare it"
            if any(distribution_candidates(r.name, kn.import_names) & declared for _, r in sites):
                continue
            dist = kn.distribution_for_import(top)
            if dist in allow or top in allow:
                continue
            where = ", ".join(f"{m.file}:{r.line}" for m, r in sites[:10])
            yield finding(
                self.info,
                "drift",
                dist,
                f"serving code imports {top} at {where}, but no serving dependency file "
                f"declares {dist}{code.note()}.",
                serving=ref.name,
                file=mod.file,
                line=ref.line,
                evidence=format_chain(code.reach[mod.module]) + f" imports {ref.name}",
            )


RULE = UndeclaredServingImport()
