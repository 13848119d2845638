"""``setup.cfg``: static setuptools metadata, read with configparser (setup.py is never run).

``[options] install_requires`` and ``python_requires``, ``[options.extras_require]``
(group = the extra's name). Lists follow setuptools: one requirement per line, or
``;``-separated on a single line. ``install_requires = file: requirements.txt`` becomes an
Include of that file. configparser keeps no line numbers, so they are found by searching
the section's text for the key and then the value.
"""

from __future__ import annotations

import configparser
import re

from packaging.specifiers import InvalidSpecifier

from depaudit.collectors.sources.base import error, guarded, squeeze_blanks
from depaudit.collectors.sources.pep508 import normalize_specifier, requirement_fact, safe_message
from depaudit.model import Fact, Include, ParseError, Runtime, SourceResult

_SECTION = re.compile(r"^\s*\[(?P<name>[^\]]+)\]")
_KEY = re.compile(r"^([^\s=:#;\[][^=:]*?)\s*[=:]")


class SetupCfgSource:
    """Dependencies declared statically in ``setup.cfg``."""

    name = "setup_cfg"

    def matches(self, path: str) -> bool:
        return path.rsplit("/", 1)[-1] == "setup.cfg"

    def parse(self, text: str, path: str) -> SourceResult:
        text = squeeze_blanks(text)
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            parser.read_string(text, source=path)
        except configparser.Error as exc:
            return error(
                path, safe_message(f"invalid setup.cfg: {exc}"), getattr(exc, "lineno", 0) or 0
            )
        lines = _IniLines(text)
        facts: list[Fact] = []
        if parser.has_option("options", "install_requires"):
            value = parser.get("options", "install_requires")
            facts += _requirements(value, path, lines, "options", "install_requires", "")
        if parser.has_option("options", "python_requires"):
            line = lines.key_line("options", "python_requires")
            raw = parser.get("options", "python_requires").strip()
            try:
                facts.append(
                    Runtime(
                        "python", normalize_specifier(raw), path, line, detail="python_requires"
                    )
                )
            except InvalidSpecifier as exc:
                facts.append(ParseError(path, safe_message(f"python_requires: {exc}"), line))
        if parser.has_section("options.extras_require"):
            for extra, value in parser.items("options.extras_require", raw=True):
                facts += _requirements(value, path, lines, "options.extras_require", extra, extra)
        return SourceResult(tuple(facts))


def _requirements(
    value: str, path: str, lines: _IniLines, section: str, key: str, group: str
) -> list[Fact]:
    key_line = lines.key_line(section, key)
    if value.strip().startswith("file:"):
        targets = value.strip().removeprefix("file:").replace(",", " ").split()
        return [Include(t, path, key_line, kind="requirements") for t in targets]
    # setuptools: a dangling list (the value starts on the next line) -> one per line;
    # everything on the key's line -> ";"-separated
    items = value.splitlines() if "\n" in value else value.split(";")
    facts: list[Fact] = []
    line = key_line
    for item in (i.strip() for i in items):
        if not item or item.startswith("#"):
            continue
        line = lines.value_line(line, item)
        fact = requirement_fact(item, path, line, group=group)
        if fact is not None:
            facts.append(fact)
    return facts


class _IniLines:
    """Lines of keys and values in INI text; each section's keys are indexed once."""

    VALUE_WINDOW = 1000  # how far past the previous item a list item is looked for

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.sections: dict[str, dict[str, int]] = {}
        self.section_lines: dict[str, int] = {}
        keys: dict[str, int] = self.sections.setdefault("", {})
        for index, line in enumerate(self.lines):
            section = _SECTION.match(line)
            if section:
                name = section.group("name").strip()
                self.section_lines.setdefault(name, index + 1)
                keys = self.sections.setdefault(name, {})
                continue
            key = _KEY.match(line)
            if key:
                keys.setdefault(key.group(1).strip().lower(), index + 1)

    def key_line(self, section: str, key: str) -> int:
        line = self.sections.get(section, {}).get(key.lower())
        return line or self.section_lines.get(section, 1)

    def value_line(self, after: int, value: str) -> int:
        """Line of ``value`` at or after ``after``; callers pass the previous item's line."""
        stop = min(len(self.lines), max(after - 1, 0) + self.VALUE_WINDOW)
        for index in range(max(after - 1, 0), stop):
            if value in self.lines[index]:
                return index + 1
            if index >= after and _SECTION.match(self.lines[index]):
                break
        return after


SOURCE = guarded(SetupCfgSource())
