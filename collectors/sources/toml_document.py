"""TOML text -> document, or why not and on which line: one reader for every TOML source.

tomllib names the line of a syntax error only inside its message (Python 3.11's
``TOMLDecodeError`` has no ``lineno``), says "at end of document" when the input ran
out, and gives no position at all for input nested too deeply (a RecursionError) or
for the dotted keys we refuse before parsing. Every one of these becomes a
:class:`TomlProblem` with the 1-based line, so a DA900 finding (and its SARIF region)
points where the file breaks.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from typing import Any

from depaudit.collectors.sources.base import MAX_DEPTH, MAX_TOML_LINE_DOTS

_AT_LINE = re.compile(r"\(at line (\d+), column \d+\)")


@dataclass(frozen=True, slots=True)
class TomlProblem:
    message: str  # "invalid TOML: ..."
    line: int  # 1-based


def load_document(text: str) -> dict[str, Any] | TomlProblem:
    """The TOML document in ``text``, or the problem that stops it, with its line."""
    dots = _dotted_key_line(text)
    if dots:
        return TomlProblem(
            f"invalid TOML: line {dots} has more than {MAX_TOML_LINE_DOTS} dots "
            "(dotted key too long); not parsed",
            dots,
        )
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _AT_LINE.search(str(exc))
        # "(at end of document)": the input ran out on its last line
        line = int(match.group(1)) if match else last_line(text)
        return TomlProblem(f"invalid TOML: {exc}", line)
    except RecursionError:
        return TomlProblem("invalid TOML: nested too deeply", deepest_line(text))


def last_line(text: str) -> int:
    """1-based number of the last line (1 for an empty text)."""
    return max(text.count("\n") + (0 if text.endswith("\n") else 1), 1)


def _dotted_key_line(text: str) -> int:
    """The first line with more dots than tomllib parses in reasonable time, else 0.

    tomllib builds a dotted key by tuple concatenation, O(parts^2): one 256 KB key
    ``a.a.a...`` took minutes.
    """
    if text.count(".") <= MAX_TOML_LINE_DOTS:
        return 0
    for number, line in enumerate(text.split("\n"), 1):
        if line.count(".") > MAX_TOML_LINE_DOTS:
            return number
    return 0


_TOKENS = re.compile(r'"""|\'\'\'|"|\'|#|[\[{]|[\]}]|\n')


def deepest_line(text: str) -> int:
    """The line where arrays / inline tables first nest deeper than ``MAX_DEPTH`` (else
    the deepest one), strings and comments skipped; one pass over the text."""
    depth = best = 0
    best_line = line = 1
    position = 0
    while True:
        match = _TOKENS.search(text, position)
        if match is None:
            return best_line
        token = match.group(0)
        position = match.end()
        if token == "\n":
            line += 1
        elif token == "#":
            end = text.find("\n", position)
            position = len(text) if end < 0 else end
        elif token in ('"', "'", '"""', "'''"):
            end = _string_end(text, position, token)
            line += text.count("\n", position, end)
            position = end
        elif token in "[{":
            depth += 1
            if depth > best:
                best, best_line = depth, line
                if depth > MAX_DEPTH:
                    return line
        else:
            depth = max(depth - 1, 0)


_BASIC = re.compile(r'(?:[^"\\\n]|\\.)*"?')
_MULTI_BASIC = re.compile(r'(?:[^"\\]|\\.|"(?!""))*(?:""")?', re.DOTALL)


def _string_end(text: str, start: int, quote: str) -> int:
    """Index just past the string opened by ``quote`` before ``start`` (or the line /
    text end when it is not closed)."""
    if quote == '"':
        match = _BASIC.match(text, start)
        return match.end() if match else start
    if quote == '"""':
        match = _MULTI_BASIC.match(text, start)
        return match.end() if match else start
    if quote == "'''":
        end = text.find("'''", start)
        return len(text) if end < 0 else end + 3
    line_end = text.find("\n", start)
    line_end = len(text) if line_end < 0 else line_end
    end = text.find("'", start, line_end)
    return line_end if end < 0 else end + 1
