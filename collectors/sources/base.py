"""The one small protocol every source module implements, and its limits.

A source reads *text* (never a path on disk: the snapshot builder reads blobs from git
objects or the working tree, decodes them and enforces the size limit) and returns facts,
each with the file and line it came from. A source must not raise on bad input: it
returns a :class:`~depaudit.model.ParseError` fact with a one-line message instead.
"""

from __future__ import annotations

import re
from typing import Protocol

from depaudit.model import ParseError, SourceResult

# Documented in SECURITY.md. Files above this size are skipped with an error finding
# before they are read into memory.
MAX_FILE_BYTES = 10 * 1024 * 1024
# Nesting depth beyond which structured documents are rejected (YAML / JSON / TOML).
MAX_DEPTH = 64
# Maximum YAML nodes after alias expansion (alias bombs are rejected, not expanded).
MAX_YAML_NODES = 200_000
# Dots on one TOML line. tomllib builds a dotted key by tuple concatenation, O(parts^2):
# one 256 KB key ``a.a.a...`` took minutes. No real TOML line has this many.
MAX_TOML_LINE_DOTS = 2_000


class Source(Protocol):
    """A parser for one file format."""

    name: str  # short id shown to users, e.g. "requirements", "dockerfile"

    def matches(self, path: str) -> bool:
        """True if this source reads the repo-relative POSIX ``path``."""
        ...

    def parse(self, text: str, path: str) -> SourceResult:
        """Facts found in ``text``; bad input gives a ParseError fact, never an exception."""
        ...


def error(path: str, message: str, line: int = 0) -> SourceResult:
    """A result holding a single one-line parse error."""
    one_line = " ".join(str(message).split())[:300]
    return SourceResult((ParseError(file=path, message=one_line, line=line),))


_LONG_BLANKS = re.compile(r"[^\S\r\n]{64,}")


def squeeze_blanks(text: str) -> str:
    """Runs of 64+ blanks cut to 63, keeping every line (and indentation up to 63).

    configparser's option regex and pip-requirements-parser's comment regex backtrack
    quadratically on long runs of whitespace: 12 KB of spaces took 2 s, 10 MB hours.
    """
    return _LONG_BLANKS.sub(" " * 63, text)


def check_text(text: str, path: str) -> SourceResult | None:
    """An error result for text no text format can hold (oversized, binary), else None."""
    if len(text) > MAX_FILE_BYTES:
        return error(path, f"file too large ({len(text)} characters, limit {MAX_FILE_BYTES})")
    if "\x00" in text:
        return error(path, "binary file (contains NUL bytes)")
    return None


class GuardedSource:
    """A source behind the one text guard: oversized or binary text never reaches it.

    Every registered source goes through this (``depaudit.collectors.sources.all_sources`` wraps
    them, and each module's ``SOURCE`` is built with :func:`guarded`), so parsers need
    no size or NUL checks of their own and a direct call (tests, ``depaudit check`` on
    odd input) is as safe as one from the snapshot builder.
    """

    def __init__(self, inner: Source) -> None:
        self.inner = inner
        self.name = inner.name

    def matches(self, path: str) -> bool:
        return self.inner.matches(path)

    def parse(self, text: str, path: str) -> SourceResult:
        rejected = check_text(text, path)
        if rejected is not None:
            return rejected
        return self.inner.parse(text, path)

    def __repr__(self) -> str:
        return f"guarded({self.inner!r})"


def guarded(source: Source) -> GuardedSource:
    """``source`` behind the text guard (once: a guarded source is returned as is)."""
    return source if isinstance(source, GuardedSource) else GuardedSource(source)
