"""One report row per fact, however many pairs of its project saw it (DESIGN.md §5).

Rules run per training x serving pair, so a fact of one side is found once per pair: a
monorepo example whose notebooks and training job both pair with one API reports the
API's tracker key, CUDA devel image or unused dependency twice, with the same file, line,
values and message. It is one thing to fix. The reports show it once, with every pair
that saw it (``ReportRow.pairs``), as the dashboard does.

Two rows are the same fact when everything a reader sees is equal (status, rule, kind,
item, values, severity, file, line, message) and their pairs belong to the same project
(a serving environment belongs to one project, so without project information the
serving environment stands for it). The first row of a fact keeps its place in the
report; the gate (``--fail-on``) and baselines still count every pair's finding.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence

from depaudit.model import Pair
from depaudit.reports.base import ReportRow

PairNames = tuple[str, str]


def projects_of(pairs: Iterable[Pair]) -> dict[PairNames, str]:
    """(training, serving) -> the project of each compared pair."""
    return {(p.training, p.serving): p.project for p in pairs}


def one_row_per_fact(
    rows: Sequence[ReportRow], projects: Mapping[PairNames, str] | None = None
) -> list[ReportRow]:
    """``rows`` with each fact once, listing the pairs that saw it, in report order."""
    groups: dict[tuple[object, ...], list[ReportRow]] = {}
    for row in rows:
        f = row.finding
        pair = (f.training_env, f.serving_env)
        project = (projects or {}).get(pair)
        home = ("project", project) if project is not None else ("serving", f.serving_env)
        key = (
            row.repo,
            row.commit,
            home,
            f.status,
            f.rule,
            f.kind,
            f.item,
            f.training,
            f.serving,
            f.severity,
            f.file,
            f.line,
            f.message,
        )
        groups.setdefault(key, []).append(row)
    out: list[ReportRow] = []
    for members in groups.values():
        first = members[0]
        pairs = tuple(dict.fromkeys(pair for m in members for pair in m.all_pairs()))
        out.append(dataclasses.replace(first, pairs=pairs) if len(pairs) > 1 else first)
    return out


__all__ = ["one_row_per_fact", "projects_of"]
