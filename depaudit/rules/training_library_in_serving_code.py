"""DA202: serving-reachable code imports a training-only library or training API module."""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.catalog import rule_info
from depaudit.code_graph import STDLIB_MODULES, format_chain
from depaudit.knowledge import Entry, Knowledge
from depaudit.model import Finding, ImportRef
from depaudit.rules.findings import because, finding
from depaudit.rules.view import PairView


def training_import(ref: ImportRef, knowledge: Knowledge) -> tuple[str, Entry] | None:
    """(item, entry) when an import is a training API module or a training-only package.

    A training API module (``sklearn.model_selection``) is named by its knowledge key; a
    training-only package by the import prefix that names its distribution (``wandb``,
    ``google.cloud.bigquery``).
    """
    entry = knowledge.module(ref.name)
    if entry is not None:
        return entry.name, entry
    if ref.name.split(".", 1)[0] in STDLIB_MODULES:
        return None
    # google.cloud.bigquery, not the namespace google; judged by the most downloaded provider
    # (mlflow, not the pytest that also ships a ``py`` module)
    match = knowledge.import_match(ref.name)
    pkg = knowledge.package(match.distributions[0]) if match.distributions else None
    return (match.prefix, pkg) if pkg is not None else None


class TrainingLibraryInServingCode:
    info = rule_info("DA202")

    def check(self, view: PairView) -> Iterator[Finding]:
        code = view.code
        allow = set(view.allow(self.info.id))
        sites: dict[str, list[tuple[str, str, ImportRef, Entry]]] = {}
        for mod in code.reached_serving():
            for ref in mod.imports:
                if code.graph.is_local(ref.name, mod.module):
                    continue
                hit = training_import(ref, view.knowledge)
                if hit is None or hit[0] in allow:
                    continue
                sites.setdefault(hit[0], []).append((mod.module, mod.file, ref, hit[1]))
        for item in sorted(sites):
            module, file, ref, entry = sites[item][0]
            where = ", ".join(f"{f}:{r.line}" for _, f, r, _ in sites[item][:10])
            kind = "dynamically imports" if ref.dynamic else "imports"
            yield finding(
                self.info,
                "leftover",
                item,
                f"serving code {kind} {item} ({entry.category}) at {where}"
                f"{because(entry.reason)[:-1]}{code.note()}.",
                serving=ref.name,
                file=file,
                line=ref.line,
                evidence=format_chain(code.reach[module]) + f" imports {ref.name}",
            )


RULE = TrainingLibraryInServingCode()
