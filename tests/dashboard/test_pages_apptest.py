"""Every dashboard page, rendered server-side with AppTest on stores made by ``depaudit collect``."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from depaudit.reports.base import CSV_COLUMNS
from depaudit.reports.csv_report import CsvReport
from depaudit.store.reader import StoreReader
from tests.dashboard.pages import PAGES, download_text, open_page, table, texts


@pytest.fixture(autouse=True)
def _isolated(isolated_app: None) -> Iterator[None]:
    yield


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_exception(seeded_store: Any, page: str) -> None:
    at = open_page(seeded_store.url, page, repo="tabular_fraud")
    assert at.title, "page has a title"
    if page != "rules":
        assert not at.warning, [w.value for w in at.warning]


@pytest.mark.parametrize("page", PAGES[:-1])
def test_planted_secret_never_shown(seeded_store: Any, page: str) -> None:
    at = open_page(seeded_store.url, page, repo="leaky_api")
    assert seeded_store.secret not in texts(at)


def test_overview_lists_every_repo_with_head_counts(seeded_store: Any) -> None:
    at = open_page(seeded_store.url, "overview")
    frame = table(at, "overview")
    assert set(frame["repo"]) == {"tabular_fraud", "leaky_api", "notes_only", "course_examples"}
    leaky = frame[frame["repo"] == "leaky_api"].iloc[0]
    assert leaky["leftover_high"] + leaky["leftover_medium"] + leaky["leftover_low"] > 0
    assert "serving (serving, convention)" in leaky["environments"]
    assert frame[frame["repo"] == "notes_only"].iloc[0]["environments"] == "none found"
    assert any("notes_only" in i.value for i in at.info)
    csv_text = download_text(at, "overview")
    assert csv_text.splitlines()[0].startswith("repo,head,commits")


def test_leftovers_csv_is_the_report_csv(seeded_store: Any) -> None:
    at = open_page(seeded_store.url, "leftovers", repo="leaky_api")
    text = download_text(at, "leftovers")
    rows = list(csv.DictReader(io.StringIO(text)))
    header = text.splitlines()[0]
    # the contract columns first and unchanged, then the pairs that saw each fact
    assert tuple(header.split(",")) == (*CSV_COLUMNS, "pairs")
    assert rows and all(r["status"] == "leftover" for r in rows)
    assert {"wandb"} <= {r["item"] for r in rows}
    assert {r["pairs"] for r in rows} == {"training x serving"}
    # each row is what `depaudit report --format csv` writes for that finding, in its order
    reader = StoreReader(seeded_store.url)
    head = reader.head("leaky_api")
    assert head is not None
    expected = [
        r for r in reader.findings_at("leaky_api", head.sha) if r.finding.status == "leftover"
    ]
    expected_csv = CsvReport().render(expected)
    assert text.split("\r\n")[1:-1] == expected_csv.split("\r\n")[1:-1]


def test_leftover_filters_change_the_rows(seeded_store: Any) -> None:
    at = open_page(seeded_store.url, "leftovers", repo="leaky_api")
    every = table(at, "leftovers")
    severities = set(every["severity"])
    assert len(severities) >= 2, every
    chosen = sorted(severities)[0]
    at.multiselect(key="filter_severity").set_value([chosen]).run()
    assert not at.exception
    filtered = table(at, "leftovers")
    assert 0 < len(filtered) < len(every)
    assert set(filtered["severity"]) == {chosen}
    assert at.query_params["severity"] == chosen
    rows = list(csv.DictReader(io.StringIO(download_text(at, "leftovers"))))
    assert {r["severity"] for r in rows} == {chosen}


def test_leftover_filter_from_a_shared_link(seeded_store: Any) -> None:
    at = open_page(seeded_store.url, "leftovers", repo="leaky_api", kind="package")
    assert set(table(at, "leftovers")["kind"]) == {"package"}


def test_leftovers_show_who_introduced_and_rule_link(seeded_store: Any) -> None:
    at = open_page(seeded_store.url, "leftovers", repo="leaky_api")
    frame = table(at, "leftovers")
    wandb = frame[frame["item"] == "wandb"].iloc[0]
    assert wandb["rule_url"].endswith("#da101")
    assert wandb["rule_title"]
    assert "Ada Ops" in wandb["introduced_by"]
    assert wandb["days_open"] >= 0


def test_commit_picker_changes_the_findings(seeded_store: Any) -> None:
    reader = StoreReader(seeded_store.url)
    first = reader.commits("leaky_api")[0]
    at = open_page(seeded_store.url, "leftovers", repo="leaky_api", commit=first.sha)
    assert "wandb" not in set(table(at, "leftovers")["item"]) if at.dataframe else True
    at2 = open_page(seeded_store.url, "leftovers", repo="leaky_api")
    assert "wandb" in set(table(at2, "leftovers")["item"])
    # picking the old commit in the selectbox moves the findings back
    at2.selectbox(key="pick_commit").set_value(first.sha).run()
    assert not at2.exception
    assert at2.query_params["commit"] == first.sha
    assert not at2.dataframe or "wandb" not in set(table(at2, "leftovers")["item"])


def test_history_compare_shows_added_and_resolved(seeded_store: Any) -> None:
    reader = StoreReader(seeded_store.url)
    commits = reader.commits("leaky_api")
    at = open_page(
        seeded_store.url, "history", repo="leaky_api", a=commits[0].sha, b=commits[-1].sha
    )
    assert at.get("plotly_chart"), "history chart drawn"
    added = table(at, "added")
    assert "wandb" in set(added["item"])
    at.selectbox(key="pick_commit").set_value(commits[0].sha).run()
    assert not at.exception
    assert "wandb" not in set(table(at, "history_commit")["item"])


def test_drift_shows_distance_and_item_timeline(seeded_store: Any) -> None:
    at = open_page(seeded_store.url, "drift", repo="leaky_api")
    frame = table(at, "drift")
    numpy = frame[frame["item"] == "numpy"].iloc[0]
    assert (numpy["training"], numpy["serving"]) == ("1.26.4", "1.24.0")
    assert numpy["distance"] == "minor"
    assert len(at.get("plotly_chart")) >= 1


def test_drift_code_diff_side_by_side(seeded_store: Any) -> None:
    reader = StoreReader(seeded_store.url)
    with_diff = [
        r for r in reader.findings_all_commits("tabular_fraud") if r.finding.rule == "DA207"
    ]
    assert with_diff, "the sample history has diverged inference code somewhere"
    at = open_page(seeded_store.url, "drift", repo="tabular_fraud", commit=with_diff[-1].commit)
    assert table(at, "drift")["rule_url"].str.endswith("#da207").any()
    diffs = [c for c in at.code if c.language == "diff"]
    assert diffs and diffs[0].value == with_diff[-1].finding.evidence
    # the two sides are shown next to each other
    assert len([c for c in at.code if c.language == "python"]) >= 2


def test_shared_page_counts_and_chart(seeded_store: Any) -> None:
    at = open_page(seeded_store.url, "shared", repo="tabular_fraud")
    frame = table(at, "shared")
    assert {"numpy", "python"} <= set(frame["item"])
    assert at.get("plotly_chart")


def test_environment_page_shows_facts_and_reasons(seeded_store: Any) -> None:
    at = open_page(seeded_store.url, "environment", repo="leaky_api", env="serving")
    files = table(at, "files")
    assert "serving/requirements.txt" in set(files["file"])
    assert all(files["reason"].str.len() > 0)
    packages = table(at, "packages")
    assert "wandb" in set(packages["name"])
    config = table(at, "config")
    key = config[config["key"].str.contains("WANDB_API_KEY")]
    assert not key.empty and seeded_store.secret not in key.iloc[0]["value"]


def test_repo_without_environments_says_so(seeded_store: Any) -> None:
    for page in ("leftovers", "environment"):
        at = open_page(seeded_store.url, page, repo="notes_only")
        assert any("No training or serving environment" in i.value for i in at.info), page


def test_empty_store_shows_message(empty_store: str) -> None:
    for page in PAGES[:-1]:
        at = open_page(empty_store, page)
        assert any("no repository yet" in i.value for i in at.info), page


def test_missing_store_shows_warning(tmp_path: Path) -> None:
    for page in PAGES[:-1]:
        at = open_page(f"sqlite:///{tmp_path / 'missing.db'}", page)
        assert any("No depaudit store" in w.value for w in at.warning), page
    assert not (tmp_path / "missing.db").exists(), "the dashboard must never create a store"


def test_not_a_store_shows_warning(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"\x00not sqlite at all" * 100)
    at = open_page(f"sqlite:///{junk}", "overview")
    assert at.warning


def test_running_collector_is_announced_and_new_commits_show(
    seeded_store: Any, tmp_path: Path
) -> None:
    import shutil
    import time

    from sqlalchemy import insert

    from depaudit.store import schema as s
    from depaudit.store.engine import open_engine

    db = tmp_path / "live.db"
    shutil.copy(seeded_store.path, db)
    url = f"sqlite:///{db}"
    at = open_page(url, "overview")
    assert not any("collector is writing" in i.value for i in at.info)
    engine = open_engine(url)
    now = int(time.time())
    with engine.begin() as conn:
        conn.execute(
            insert(s.locks).values(
                repo_name="leaky_api", holder="h:1:x", acquired_at=now, heartbeat_at=now
            )
        )
    engine.dispose()
    import streamlit as st

    st.cache_data.clear()  # the marker's short ttl, without waiting for it
    at = open_page(url, "overview")
    assert any("collector is writing leaky_api" in i.value for i in at.info)


def test_drift_item_timeline_covers_the_whole_history_not_only_the_drift(
    seeded_store: Any,
) -> None:
    """scikit-learn drifts at the head; before that it was shared at other versions."""
    import json

    at = open_page(seeded_store.url, "drift", repo="tabular_fraud")
    frame = table(at, "drift")
    assert "scikit-learn" in set(frame["item"])
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    values = {trace["name"]: set(map(str, trace["y"])) for trace in spec["data"]}
    first = {
        trace["name"]: min(str(x) for x, y in zip(trace["x"], trace["y"], strict=True) if y)
        for trace in spec["data"]
    }
    assert {"1.2.1", "1.3.0"} <= values["serving"]
    assert "1.3.2" in values["training"]
    # the story's first drift is in July 2023; the line starts with the first commit that
    # declares scikit-learn on both sides (a DA104 shared finding), in early 2023
    assert first["serving"] < "2023-06" and first["training"] < "2023-06"
