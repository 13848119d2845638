"""DA204: serving code imports a package that no serving dependency file declares."""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.catalog import rule_info
from depaudit.code_graph import distribution_candidates, format_chain
from depaudit.knowledge import Knowledge
from depaudit.model import CodeModule, Finding, ImportRef, Package
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
        # what a declared package requires is installed with it (fastapi brings pydantic)
        declared |= {n for d in declared for n in kn.runtime_needs.get(d, ())}
        allow = set(view.allow(self.info.id))
        reached = code.reached_serving()
        for top, sites in sorted(code.graph.external_imports(reached).items()):
            # judged per import, since one namespace (google) holds many distributions: DA202
            # already says "remove" a training import, do not also say "declare it"; a bare
            # namespace (``import google``) is nobody's package to declare
            by_dist: dict[str, list[tuple[CodeModule, ImportRef]]] = {}
            for mod, ref in sites:
                if ref.optional:  # try: import orjson / except ImportError: import json
                    continue
                if training_import(ref, kn) is None and _undeclared(ref.name, kn, declared):
                    by_dist.setdefault(kn.distribution_for_import(ref.name), []).append((mod, ref))
            for dist, undeclared in sorted(by_dist.items()):
                mod, ref = undeclared[0]
                shown = kn.import_match(ref.name).prefix  # google.auth, not google
                if dist in allow or top in allow or shown in allow:
                    continue
                where = ", ".join(f"{m.file}:{r.line}" for m, r in undeclared[:10])
                yield finding(
                    self.info,
                    "drift",
                    dist,
                    f"serving code imports {shown} at {where}, but no serving dependency file "
                    f"declares {dist}{code.note()}.",
                    serving=ref.name,
                    file=mod.file,
                    line=ref.line,
                    evidence=format_chain(code.reach[mod.module]) + f" imports {ref.name}",
                )


def _undeclared(name: str, kn: Knowledge, declared: set[str]) -> bool:
    candidates = distribution_candidates(name, kn.import_names)
    return bool(candidates) and not candidates & declared


RULE = UndeclaredServingImport()
