"""A proposal as text: a git-style unified diff with a ``#`` summary above it.

``git apply`` and ``patch -p1`` skip the summary (it precedes the first ``diff --git``
line) and apply the diff. Secret-looking values are masked on every line shown, context
lines included; a hunk whose context held a secret then no longer applies, which is why
``depaudit split --write`` writes from the real texts, never from this output.
"""

from __future__ import annotations

import difflib
import json
from collections import Counter

from depaudit.secrets import scrub
from depaudit.split.model import Change, FileEdit, Proposal

_NO_NEWLINE = "\\ No newline at end of file\n"


def _masked(line: str) -> str:
    return scrub(line) if line.strip() else line


def file_diff(edit: FileEdit) -> str:
    """The unified diff of one edit (``a/`` and ``b/`` prefixes, git headers)."""
    before = (edit.before or "").splitlines(keepends=True)
    after = edit.after.splitlines(keepends=True)
    head = [f"diff --git a/{edit.path} b/{edit.path}\n"]
    if edit.is_new:
        head.append("new file mode 100644\n")
    lines = list(
        difflib.unified_diff(
            before,
            after,
            fromfile="/dev/null" if edit.is_new else f"a/{edit.path}",
            tofile=f"b/{edit.path}",
            n=3,
        )
    )
    if not lines:
        return ""
    out = [*head, lines[0].rstrip() + "\n", lines[1].rstrip() + "\n"]
    for line in lines[2:]:
        if line.startswith("@@"):
            out.append(line)
            continue
        body = line[1:]
        ending = "\n" if body.endswith("\n") else ""
        text = body.rstrip("\r\n") if ending else body
        crlf = "\r" if body.endswith("\r\n") else ""
        out.append(line[0] + _masked(text) + crlf + "\n")
        if not ending:
            out.append(_NO_NEWLINE)
    return "".join(out)


def diffs(proposal: Proposal) -> dict[str, str]:
    return {e.path: file_diff(e) for e in proposal.edits if e.after or e.before}


def _change_line(change: Change) -> str:
    where = f"{change.file}:{change.line}" if change.line else change.file
    rules = f" ({', '.join(change.rules)})" if change.rules else ""
    if change.action == "remove":
        what = f"remove {change.before or change.item}"
    elif change.action == "pin":
        what = f"pin {change.before} -> {change.after}"
    elif change.action == "declare":
        what = f"declare {change.after}"
    elif change.action == "base_image":
        what = f"base image {change.before} -> {change.after}"
    elif change.action == "split":
        what = f"new serving copy of {change.before}"
    else:
        what = f"install {change.after} instead of {change.before}"
    note = f"; {change.note}" if change.note else ""
    return f"#   {where}: {what}{rules}{note}"


def summary(proposal: Proposal) -> str:
    """The ``#`` lines above the diff: what changes, what is listed, what needs a human."""
    out = [f"# depaudit split: {proposal.training} x {proposal.serving}"]
    if proposal.project:
        out[0] += f" (project {proposal.project})"
    if proposal.is_empty:
        out.append("# nothing to edit: no package leftover, package drift or devel image to fix")
    else:
        files = len(proposal.edits)
        out.append(f"# edits ({len(proposal.changes)} in {files} file{'s' if files > 1 else ''}):")
        out.extend(_change_line(c) for c in proposal.changes)
    if proposal.effect is not None:
        removed = Counter(f.rule for f in proposal.effect.removed)
        added = Counter(f.rule for f in proposal.effect.added)
        out.append(
            f"# effect: removes {sum(removed.values())} findings"
            + (f" ({_counts(removed)})" if removed else "")
            + (f", adds {sum(added.values())} ({_counts(added)})" if added else ", adds none")
        )
    if proposal.listed:
        out.append("# listed, not edited (check them by hand):")
        out.extend(
            f"#   {i.file}:{i.line}: {i.rule} {i.item}: {i.message}" for i in proposal.listed
        )
    if proposal.flagged:
        out.append("# needs a human:")
        out.extend(f"#   [{f.reason}] {f.message}" for f in proposal.flagged)
    out.extend(f"# {note}" for note in proposal.notes)
    return "\n".join(" ".join(line.split("\n")) for line in out) + "\n"


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{rule} x{n}" for rule, n in sorted(counter.items()))


def render_diff(proposal: Proposal) -> str:
    """Summary, then every file's diff."""
    return summary(proposal) + "".join(diffs(proposal).values())


def render_json(proposal: Proposal) -> str:
    return json.dumps(proposal.to_dict(diffs=diffs(proposal)), indent=2, ensure_ascii=False) + "\n"
