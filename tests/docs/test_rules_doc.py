"""The catalog, the registry and depaudit/docs/rules.md agree, both ways.

Every catalog id is produced by exactly one registered rule or by the pipeline
(DA900, DA901); every id has a section with What / Why / Example / Fix; the docs ship
inside the package (the dashboard's Rules page reads them from there when installed).
"""

from __future__ import annotations

import re
from importlib import resources

import pytest

from depaudit.catalog import (
    CONFIG_ERROR_RULE,
    PARSE_ERROR_RULE,
    RULE_IDS,
    RULE_INFOS,
    rule_info,
    rules_doc,
    rules_doc_sections,
)
from depaudit.knowledge import builtin
from depaudit.rules import LIVE_RULES, RULES

HEADING = re.compile(r"^## (DA\d{3}) — (.+?) <a id=\"(da\d{3})\"></a>$", re.MULTILINE)
ANY_RULE_HEADING = re.compile(r"^#{2,3}\s+(DA\d{3})\b", re.MULTILINE)


def test_the_docs_are_package_data() -> None:
    text = resources.files("depaudit").joinpath("docs", "rules.md").read_text("utf-8")
    assert text == rules_doc() and "## DA101" in text


def test_every_rule_heading_has_the_catalog_title_and_an_explicit_anchor() -> None:
    text = rules_doc()
    headings = HEADING.findall(text)
    assert len(headings) == len(ANY_RULE_HEADING.findall(text))
    for rule_id, title, anchor in headings:
        assert anchor == rule_id.lower()
        assert rule_id in RULE_IDS, f"{rule_id} is documented but not in the catalog"
        assert title == rule_info(rule_id).title, f"{rule_id}: doc title {title!r}"


def test_documented_ids_are_exactly_the_catalog_ids() -> None:
    assert set(rules_doc_sections()) == RULE_IDS


def test_every_catalog_id_is_produced_exactly_once() -> None:
    produced = [rule.info.id for rule in (*RULES, *LIVE_RULES)]
    produced += [PARSE_ERROR_RULE, CONFIG_ERROR_RULE]
    assert sorted(produced) == sorted(RULE_IDS)
    assert len(produced) == len(set(produced))
    # the registry is in id order, so reports list rules the way the docs do
    assert [r.info.id for r in RULES] == sorted(r.info.id for r in RULES)


def test_rule_objects_carry_the_catalog_entry_itself() -> None:
    for rule in (*RULES, *LIVE_RULES):
        assert rule.info is rule_info(rule.info.id)


@pytest.mark.parametrize("rule_id", sorted(RULE_IDS))
def test_each_section_has_what_why_example_fix_and_allow(rule_id: str) -> None:
    body = rules_doc_sections()[rule_id]
    for part in ("**What.**", "**Why.**", "**Example.**", "**Fix.**", "**Allow / ignore.**"):
        assert part in body, f"{rule_id} lacks {part}"
    info = rule_info(rule_id)
    assert f"`{info.severity}`" in body, f"{rule_id} does not state its severity {info.severity}"


def test_knowledge_override_keys_are_documented() -> None:
    text = rules_doc()
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


def test_an_unknown_id_is_an_error_not_a_missing_rule() -> None:
    with pytest.raises(KeyError):
        rule_info("DA999")
    assert rule_info("da101").id == "DA101"


def test_catalog_sections_split_at_rule_headings() -> None:
    sections = rules_doc_sections(
        "# Rules\n## DA101 Training-only package\nwhy\n## DA102 x\nmore\n"
    )
    assert sections == {"DA101": "why", "DA102": "more"}
    assert len(RULE_INFOS) == len(RULE_IDS)
