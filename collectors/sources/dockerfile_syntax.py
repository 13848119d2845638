"""Dockerfile text -> instructions with their lines, in time linear in the text.

The instruction grammar is the one ``dockerfile-parse`` reads (``structure``): parser
directives (``# escape=``) at the top, ``KEYWORD value`` lines, comment lines that may sit
inside a continued instruction, and continuation lines joined to their instruction.
It is read here because ``dockerfile-parse`` builds a continued instruction by
concatenating strings held in a dict, which is quadratic: 25,000 continued lines took
1.3 s, 100,000 took 41 s (buildkit's own parser, wrapped by the ``dockerfile`` package,
is quadratic there too: 100,000 lines, 61 s). Heredoc bodies (``RUN <<EOF``), which
that grammar misreads as instructions, are cut out first and handed back to their
instruction (see DESIGN.md §10).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

HEREDOC = re.compile(r"<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")
_HEREDOC_INSTRUCTION = re.compile(r"(?i)(RUN|COPY|ADD)\s")
_ESCAPE_DIRECTIVE = re.compile(r"^\s*#\s*escape\s*=\s*(\\|`)\s*$", re.IGNORECASE)
_SYNTAX_DIRECTIVE = re.compile(r"^\s*#\s*syntax\s*=\s*(.*)\s*$", re.IGNORECASE)
_COMMENT = re.compile(r"^\s*#")
_INSTRUCTION = re.compile(r"^\s*(\S+)(?:\s+(.*))?$")


@dataclass
class Instruction:
    keyword: str  # upper case
    value: str  # continuations joined, heredoc markers removed, heredoc bodies appended for RUN
    start: int  # 1-based first line
    end: int  # 1-based last line, heredoc body included


def instructions(text: str, limit: int | None = None) -> list[Instruction]:
    """The instructions of a Dockerfile (comments left out); past ``limit`` of them, one
    more and no further line is read, so the caller can say the rest was not read."""
    lines, bodies = _blank_heredocs(text)
    markers = sorted(bodies)
    out: list[Instruction] = []
    for keyword, value, start, end in _split(lines, limit):
        first = bisect.bisect_left(markers, start)
        for marker_line in markers[first : bisect.bisect_right(markers, end, lo=first)]:
            body, body_end = bodies[marker_line]
            value = HEREDOC.sub("", value)
            if keyword == "RUN":
                value = f"{value}\n{body}"
            end = max(end, body_end - 1)
        out.append(Instruction(keyword, value, start + 1, end + 1))
    return out


def _split(lines: list[str], limit: int | None = None) -> list[tuple[str, str, int, int]]:
    """(keyword, value, first, last 0-based line) per instruction: dockerfile-parse's
    grammar, with each value's parts joined once at the end."""
    escape = "\\"
    directives = True
    found: list[tuple[str, str, int, int]] = []
    keyword = ""
    parts: list[str] = []
    has_value = False  # dockerfile-parse strips the indentation of a first non-empty part
    start = end = 0
    continued = False
    for number, line in enumerate(lines):
        if directives:
            directive = _ESCAPE_DIRECTIVE.match(line)
            if directive:
                escape = directive.group(1)
            elif not _SYNTAX_DIRECTIVE.match(line):
                directives = False
        if _COMMENT.match(line):
            continue  # a comment does not end a continued instruction
        stripped = line.rstrip()
        if continued:
            part = stripped.removesuffix(escape)
            parts.append(part if has_value else part.lstrip())
            has_value = has_value or bool(parts[-1])
            end = number
        else:
            match = _INSTRUCTION.match(line)
            if not match:
                continue
            keyword = match.group(1).upper()
            parts = [(match.group(2) or "").rstrip().removesuffix(escape)]
            has_value = bool(parts[0])
            start = end = number
        continued = stripped.endswith(escape)
        if not continued:
            found.append((keyword, "".join(parts), start, end))
            if limit is not None and len(found) > limit:
                return found
    if continued:  # the file ends inside a continued instruction: it is still one
        found.append((keyword, "".join(parts), start, end))
    return found


def _blank_heredocs(text: str) -> tuple[list[str], dict[int, tuple[str, int]]]:
    """Lines with heredoc bodies replaced by empty ones, and {marker line: (body, end line)}."""
    lines = text.split("\n")
    bodies: dict[int, tuple[str, int]] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" not in line:
            i += 1
            continue
        in_instruction = _HEREDOC_INSTRUCTION.match(line.lstrip()) or (
            i > 0 and lines[i - 1].rstrip().endswith("\\")
        )
        markers = HEREDOC.findall(line) if in_instruction else []
        if not markers:
            i += 1
            continue
        start = i
        body_lines: list[str] = []
        j = i + 1
        for dash, _quote, word in markers:
            while j < len(lines):
                candidate = lines[j].lstrip("\t") if dash else lines[j]
                lines[j] = ""
                j += 1
                if candidate.rstrip("\r") == word:
                    break
                body_lines.append(candidate)
        bodies[start] = ("\n".join(body_lines), j)  # j = 1-based index of the last body line
        i = j
    return lines, bodies
