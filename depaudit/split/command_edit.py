"""Point a spec's ``pip install -r FILE`` at another file, changing nothing else.

A compose / Kubernetes / cluster spec is YAML, JSON or TOML; the split changes one word
of one command in it, so it is edited as text: in the lines the value spans, the one
``-r`` / ``--requirement`` word naming the old target gets the new one. Zero or several
such words there is not an edit to guess: it is flagged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from depaudit.secrets import scrub
from depaudit.split.model import Change, Flag
from depaudit.split.requirements_edit import EditResult


@dataclass(frozen=True, slots=True)
class CommandOp:
    """Replace the ``-r`` target ``old`` by ``new`` in lines ``line`` .. ``line + lines - 1``."""

    line: int
    lines: int
    old: str
    new: str
    rules: tuple[str, ...] = ()
    copy: str = ""  # the repository path ``new`` names (the changes' item)


def _pattern(old: str) -> re.Pattern[str]:
    return re.compile(
        r"(?<![\w-])(-r|--requirement)(\s*=?\s*)([\"']?)"
        + re.escape(old)
        + r"(?=\3(?:[\s\"',\]]|$))"
    )


def repoint_line(line: str, old: str, new: str) -> str | None:
    """``line`` with its one ``-r old`` pointed at ``new``; None unless exactly one."""
    matches = list(_pattern(old).finditer(line))
    if len(matches) != 1:
        return None
    match = matches[0]
    start = match.end() - len(old)
    return line[:start] + new + line[match.end() :]


def repoint_all(text: str, old: str, new: str) -> str:
    """``text`` with every ``-r old`` pointed at ``new`` (what a reader of the edited
    spec should see in place of the original's values)."""
    return _pattern(old).sub(lambda m: m.group(0)[: len(m.group(0)) - len(old)] + new, text)


def edit_commands(text: str, path: str, ops: list[CommandOp]) -> EditResult:
    """Apply ``ops`` to the spec ``text``; an op that does not find exactly one ``-r old``
    in its lines becomes a ``not_safe`` flag."""
    lines = text.splitlines(keepends=True)
    result = EditResult(text)
    for op in ops:
        first = max(op.line - 1, 0)
        window = range(first, min(first + max(op.lines, 1), len(lines)))
        hits = [i for i in window if _pattern(op.old).search(lines[i])]
        if len(hits) != 1 or (edited := repoint_line(lines[hits[0]], op.old, op.new)) is None:
            result.flags.append(
                Flag(
                    "not_safe",
                    op.old,
                    path,
                    op.line,
                    f"{path}:{op.line}: not exactly one `-r {op.old}` in this command; "
                    f"point it at {op.new} by hand",
                    op.rules,
                )
            )
            continue
        lines[hits[0]] = edited
        result.changes.append(
            Change(
                "include",
                op.copy or op.new,
                path,
                hits[0] + 1,
                scrub(op.old),
                scrub(op.new),
                op.rules,
            )
        )
    result.text = "".join(lines)
    return result
