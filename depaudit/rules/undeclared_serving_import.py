"""DA204: serving code imports a package that no serving dependency file declares."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from depaudit.code_graph import distribution_candidates, format_chain
from depaudit.entrypoints import analyse
from depaudit.model import Finding, Package
from depaudit.rules.base import RuleContext, RuleInfo
from depaudit.rules.findings import finding
from depaudit.rules.training_library_in_serving_code import training_import


class UndeclaredServingImport:
    info = RuleInfo(
        id="DA204",
        title="Serving code imports an undeclared package",
        kind="code",
        severity="medium",
        summary="Code reachable from a serving entrypoint imports a third-party package that no "
        "serving dependency file declares: it works only while something else installs it.",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        declared = {p.name for p in ctx.serving.of_type(Package)}
        # With no dependency file at all we cannot tell a missing file from a base image
        # that ships the packages: say nothing rather than flag every import.
        if not declared:
            return
        code = analyse(ctx.training, ctx.serving)
        kn = ctx.knowledge
        allow = set(ctx.allow(self.info.id))
        reached = code.reached_serving()
        for top, sites in sorted(code.graph.external_imports(reached).items()):
            mod, ref = sites[0]
            if training_import(ref, kn) is not None:
                continue  # DA202 says "remove it"; do not also say "declare it"
            # judged per import: google.protobuf may be declared while google.cloud.storage is not;
            # a bare namespace (``import google``) is nobody's package to declare
            sites = [(m, r) for m, r in sites if _undeclared(r.name, kn.import_names, declared)]
            if not sites:
                continue
            mod, ref = sites[0]
            dist = kn.distribution_for_import(ref.name)
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


def _undeclared(name: str, import_names: Mapping[str, tuple[str, ...]], declared: set[str]) -> bool:
    candidates = distribution_candidates(name, import_names)
    return bool(candidates) and not candidates & declared


RULE = UndeclaredServingImport()
