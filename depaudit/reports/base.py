"""What every report format renders: rows of findings with their commit context.

Formats are classes with a ``render(rows, *, ...) -> str`` method; they never do I/O
(the CLI writes the string to stdout or ``-o FILE``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from depaudit.model import Finding

# DESIGN.md §6: the CSV contract, in this order.
CSV_COLUMNS: tuple[str, ...] = (
    "repo",
    "commit",
    "committed_at",
    "training_env",
    "serving_env",
    "status",
    "kind",
    "item",
    "training",
    "serving",
    "severity",
    "rule",
    "file",
    "line",
    "introduced_in",
    "message",
)
# Reports add one column after the contract (DESIGN.md §6 allows columns at the end only):
# every training x serving pair that saw the row's fact (see depaudit.reports.grouping).
PAIRS_COLUMN = "pairs"


@dataclass(frozen=True, slots=True)
class ReportRow:
    """A finding at a commit. ``commit``/``committed_at`` are empty for a working tree."""

    finding: Finding
    repo: str = ""
    commit: str = ""
    committed_at: str = ""  # ISO 8601 UTC, e.g. 2026-03-01T12:00:00Z
    introduced_in: str = ""  # full sha of the first commit of the finding's current run
    # every (training, serving) pair of its project that saw the same fact, this row's
    # first; empty: only this row's own pair (depaudit.reports.grouping fills it)
    pairs: tuple[tuple[str, str], ...] = ()

    def all_pairs(self) -> tuple[tuple[str, str], ...]:
        """The pairs that saw this fact: ``pairs``, or the row's own pair."""
        return self.pairs or ((self.finding.training_env, self.finding.serving_env),)

    def pairs_text(self) -> str:
        """``training x serving; notebooks x serving``: the CSV's last column."""
        return "; ".join(f"{t} x {s}" for t, s in self.all_pairs())

    def contract_fields(self) -> dict[str, Any]:
        f = self.finding
        return {
            "repo": self.repo,
            "commit": self.commit,
            "committed_at": self.committed_at,
            "training_env": f.training_env,
            "serving_env": f.serving_env,
            "status": f.status,
            "kind": f.kind,
            "item": f.item,
            "training": f.training,
            "serving": f.serving,
            "severity": f.severity,
            "rule": f.rule,
            "file": f.file,
            "line": f.line if f.line else "",
            "introduced_in": self.introduced_in,
            "message": f.message,
        }


class Report(Protocol):
    name: str

    def render(self, rows: Sequence[ReportRow]) -> str: ...
