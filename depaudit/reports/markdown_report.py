"""Markdown report: a summary a reviewer pastes into a pull request or an audit note.

The layout is fixed so that two reports diff well: a count table (status × severity),
then the training leftovers and the drift, each finding with its rule id, where it is
(``file:line``) and the short sha of the commit that introduced it, and at the end the
title and summary of every rule the report names — so the report explains itself when
it is pasted into a pull request of another repository (a relative link to a docs file
would point into *that* repository). Shared / one-sided findings are only counted: they are the good
news, and listing them would bury the leftovers. Values are already masked by the
collectors; this module only escapes them for Markdown.
"""

from __future__ import annotations

from collections.abc import Sequence

from depaudit.catalog import RULE_IDS, rule_info
from depaudit.model import SEVERITIES, SEVERITY_RANK, STATUSES
from depaudit.reports.base import ReportRow

SHORT_SHA = 10
# Tables listed in full, in this order; other statuses appear in the counts only.
LISTED: tuple[tuple[str, str], ...] = (
    ("leftover", "Training leftovers in serving"),
    ("drift", "Drift between training and serving"),
    ("error", "Files that could not be read"),
)
_COLUMNS = ("severity", "rule", "item", "training", "serving", "where", "introduced", "message")


def cell(text: object) -> str:
    """Text made safe for one GitHub-flavoured Markdown table cell."""
    value = " ".join(str(text).split())  # newlines would end the row
    for ch in ("\\", "|", "`", "*", "_", "<", ">", "[", "]"):
        value = value.replace(ch, "\\" + ch)
    return value


def where(row: ReportRow) -> str:
    f = row.finding
    if not f.file:
        return ""
    return cell(f"{f.file}:{f.line}" if f.line else f.file)


def rule_link(rule_id: str, *, docs_base: str = "") -> str:
    """The rule id, linked to ``docs_base#daNNN`` when a docs URL is given."""
    if not docs_base:
        return cell(rule_id)
    return f"[{cell(rule_id)}]({docs_base}#{rule_id.lower()})"


class MarkdownReport:
    name = "markdown"

    def render(
        self, rows: Sequence[ReportRow], *, title: str = "depaudit report", docs_base: str = ""
    ) -> str:
        """``docs_base``: a URL of the rules documentation; rule ids link to its sections."""
        out: list[str] = [f"# {cell(title)}", ""]
        scope = sorted({(r.repo, r.commit) for r in rows if r.repo or r.commit})
        if len(scope) == 1:
            repo, commit = scope[0]
            at = f" at `{commit[:SHORT_SHA]}`" if commit else " (working tree)"
            out += [f"Repository **{cell(repo)}**{at}.", ""]
        if not rows:
            return "\n".join([*out, "No findings.", ""])

        out += self._counts(rows)
        for status, heading in LISTED:
            group = [r for r in rows if r.finding.status == status]
            if group:
                out += self._table(status, heading, group, docs_base=docs_base)
        out += self._rules(rows)
        return "\n".join(out).rstrip("\n") + "\n"

    def _rules(self, rows: Sequence[ReportRow]) -> list[str]:
        """What each rule id of the listed findings means."""
        listed = {status for status, _ in LISTED}
        ids = sorted({r.finding.rule for r in rows if r.finding.status in listed})
        known = [rule_info(i) for i in ids if i.upper() in RULE_IDS]
        if not known:
            return []
        lines = ["## Rules", "", "| rule | title | what it finds |", "|---|---|---|"]
        for info in known:
            lines.append(f"| {cell(info.id)} | {cell(info.title)} | {cell(info.summary)} |")
        return [*lines, ""]

    def _counts(self, rows: Sequence[ReportRow]) -> list[str]:
        present = [s for s in STATUSES if any(r.finding.status == s for r in rows)]
        lines = [
            "## Summary",
            "",
            "| status | " + " | ".join(SEVERITIES) + " | total |",
            "|---|" + "---:|" * (len(SEVERITIES) + 1),
        ]
        for status in present:
            counts = [
                sum(1 for r in rows if r.finding.status == status and r.finding.severity == sev)
                for sev in SEVERITIES
            ]
            lines.append(f"| {status} | " + " | ".join(map(str, counts)) + f" | {sum(counts)} |")
        lines.append("")
        return lines

    def _table(
        self, status: str, heading: str, group: list[ReportRow], *, docs_base: str
    ) -> list[str]:
        pairs = {pair for r in group for pair in r.all_pairs()}
        ordered = sorted(
            group,
            key=lambda r: (
                -SEVERITY_RANK[r.finding.severity],
                r.finding.rule,
                r.finding.item,
                r.finding.file,
                r.finding.line,
            ),
        )
        lines = [f"## {heading} ({len(group)})", ""]
        show_pair = len(pairs) > 1
        columns = ("pair", *_COLUMNS) if show_pair else _COLUMNS
        lines.append("| " + " | ".join(columns) + " |")
        lines.append("|" + "---|" * len(columns))
        for r in ordered:
            f = r.finding
            values = [
                f.severity,
                rule_link(f.rule, docs_base=docs_base),
                cell(f.item),
                cell(f.training),
                cell(f.serving),
                where(r),
                cell(r.introduced_in[:SHORT_SHA]),
                cell(f.message),
            ]
            if show_pair:  # every pair that saw the fact (one row per fact)
                values.insert(0, cell("; ".join(f"{t} → {s}" for t, s in r.all_pairs())))
            lines.append("| " + " | ".join(values) + " |")
        if not show_pair and pairs:
            training, serving = next(iter(pairs))
            if training or serving:
                lines += [
                    "",
                    f"Compared: training **{cell(training)}** → serving **{cell(serving)}**.",
                ]
        lines.append("")
        return lines
