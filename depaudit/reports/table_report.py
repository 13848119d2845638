"""Terminal table: findings grouped by status, severity coloured (rich)."""

from __future__ import annotations

import io
from collections.abc import Sequence

from depaudit.model import STATUSES
from depaudit.reports.base import ReportRow

SEVERITY_STYLE = {"high": "bold red", "medium": "yellow", "low": "cyan", "info": "dim"}
STATUS_TITLE = {
    "leftover": "Training leftovers in serving",
    "drift": "Drift between training and serving",
    "error": "Files that could not be read",
    "shared": "Shared (standardized)",
    "training_only": "Training only",
    "serving_only": "Serving only",
}


class TableReport:
    name = "table"

    def render(self, rows: Sequence[ReportRow], *, color: bool = False, width: int = 160) -> str:
        from rich.console import Console
        from rich.table import Table

        buf = io.StringIO()
        console = Console(file=buf, force_terminal=color, no_color=not color, width=width)
        if not rows:
            console.print("No findings.")
        # several pairs compared: each row says which pairs saw its fact
        show_pairs = len({pair for r in rows for pair in r.all_pairs()}) > 1
        for status in STATUSES:
            group = [r for r in rows if r.finding.status == status]
            if not group:
                continue
            table = Table(
                title=f"{STATUS_TITLE[status]} ({len(group)})", title_justify="left", expand=False
            )
            for col in (
                *(("pairs",) if show_pairs else ()),
                "severity",
                "rule",
                "kind",
                "item",
                "training",
                "serving",
                "where",
                "message",
            ):
                table.add_column(col, overflow="fold")
            for r in group:
                f = r.finding
                where = f"{f.file}:{f.line}" if f.line else f.file
                table.add_row(
                    *((r.pairs_text(),) if show_pairs else ()),
                    f"[{SEVERITY_STYLE[f.severity]}]{f.severity}[/]",
                    f.rule,
                    f.kind,
                    f.item,
                    f.training,
                    f.serving,
                    where,
                    f.message,
                )
            console.print(table)
        counts = {s: sum(1 for r in rows if r.finding.status == s) for s in STATUSES}
        console.print(", ".join(f"{n} {s}" for s, n in counts.items() if n) or "0 findings")
        return buf.getvalue()
