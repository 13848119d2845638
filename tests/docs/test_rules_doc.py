"""docs/rules.md documents exactly the registered rules, each with What / Why / Example / Fix."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from depaudit.knowledge import builtin
from depaudit.rules import RULE_MODULES, all_rule_infos, all_rules, rule_info

DOC = Path(__file__).resolve().parents[2] / "docs" / "rules.md"
HEADING = re.compile(r"^## (DA\d{3}) — (.+?) <a id=\"(da\d{3})\"></a>$", re.MULTILINE)
ANY_RULE_HEADING = re.compile(r"^#{2,3}\s+(DA\d{3})\b", re.MULTILINE)


def sections() -> dict[str, str]:
    text = DOC.read_text("utf-8")
    matches = list(ANY_RULE_HEADING.finditer(text))
    out: dict[str, str] = {}
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        out[match.group(1)] = text[match.start() : end]
    return out


def test_every_rule_heading_has_the_title_and_an_explicit_anchor() -> None:
    text = DOC.read_text("utf-8")
    headings = HEADING.findall(text)
    assert len(headings) == len(ANY_RULE_HEADING.findall(text))
    for rule_id, title, anchor in headings:
        assert anchor == rule_id.lower()
        info = rule_info(rule_id)
        assert info is not None, f"{rule_id} is documented but not registered"
        assert title == info.title, f"{rule_id}: doc title {title!r} != RuleInfo {info.title!r}"


def test_documented_ids_are_exactly_the_registered_ids() -> None:
    documented = set(sections())
    registered = {info.id for info in all_rule_infos()}
    assert documented == registered


def test_all_rule_modules_are_present() -> None:
    missing = [m for m in RULE_MODULES if importlib.util.find_spec(f"depaudit.rules.{m}") is None]
    assert missing == []
    assert len({r.info.id for r in all_rules()}) == len(all_rules())


@pytest.mark.parametrize("rule_id", sorted(sections()))
def test_each_section_has_what_why_example_fix_and_allow(rule_id: str) -> None:
    body = sections()[rule_id]
    for part in ("**What.**", "**Why.**", "**Example.**", "**Fix.**", "**Allow / ignore.**"):
        assert part in body, f"{rule_id} lacks {part}"
    info = rule_info(rule_id)
    assert info is not None
    assert f"`{info.severity}`" in body, f"{rule_id} does not state its severity {info.severity}"


def test_knowledge_override_keys_are_documented() -> None:
    text = DOC.read_text("utf-8")
    for key in (
        "training_packages",
        "not_training_packages",
        "training_hosts",
        "inference_packages",
        "max_cpu",
        "max_memory",
    ):
        assert re.search(rf"^{key} = ", text, re.MULTILINE), key


def test_every_knowledge_entry_has_a_reason_and_a_known_severity() -> None:
    kb = builtin()
    tables = {
        "training_packages": kb.training_packages,
        "training_hosts": kb.training_hosts,
        "training_config_keys": kb.training_config_keys,
        "training_system_packages": kb.training_system_packages,
        "training_buckets": kb.training_buckets,
        "training_images": kb.training_images,
    }
    for table, entries in tables.items():
        assert entries, table
        for name, entry in entries.items():
            assert len(entry.reason) > 10, f"{table}.{name} has no real reason"
            assert entry.severity in ("high", "medium", "low", "info"), f"{table}.{name}"
            assert name == name.lower(), f"{table}.{name}: globs are matched lower-case"


def test_unknown_rule_has_no_info() -> None:
    assert rule_info("DA999") is None
    assert rule_info("da101") is not None
