"""A monorepo reads as its projects: ``course_examples`` (collected by ``depaudit collect``)
has three examples with a training and a serving side each, one of them with a second
training side (notebooks), and a training-only folder."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from depaudit.reports.base import CSV_COLUMNS
from depaudit.store.reader import StoreReader
from tests.dashboard.pages import download_text, open_page, table

REPO = "course_examples"
RECSYS_PAIRS = "03-recsys/notebooks → 03-recsys/serving; 03-recsys/training → 03-recsys/serving"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _isolated(isolated_app: None) -> Iterator[None]:
    yield


def _report_csv(url: str, *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "depaudit", "report", "--db", url, "--repo", REPO, *args],
        cwd=ROOT,
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.decode("utf-8")  # bytes as written: CRLF kept


def test_one_row_per_fact_with_every_pair_that_saw_it(seeded_store: Any) -> None:
    at = open_page(seeded_store.url, "leftovers", repo=REPO)
    frame = table(at, "leftovers")
    # the wandb line of 03-recsys/serving is seen by both of its training sides: one row
    wandb = frame[(frame["item"] == "wandb") & (frame["kind"] == "package")]
    assert len(wandb) == 1
    assert wandb.iloc[0]["pairs"] == RECSYS_PAIRS
    assert wandb.iloc[0]["where"] == "03-recsys/serving/requirements.txt:3"
    # no fact is listed twice, and the report lists each fact once too, with its pairs
    facts = Counter(zip(frame["rule_url"], frame["item"], frame["where"], strict=True))
    assert max(facts.values()) == 1
    report = list(csv.DictReader(io.StringIO(_report_csv(seeded_store.url, "--format", "csv"))))
    leftovers = [r for r in report if r["status"] == "leftover"]
    assert len(frame) == len(leftovers)
    assert {r["item"] for r in leftovers} == set(frame["item"])
    (reported,) = [r for r in leftovers if r["item"] == "wandb" and r["kind"] == "package"]
    assert reported["pairs"] == RECSYS_PAIRS.replace(" → ", " x ")


def test_project_selector_changes_the_rows_and_the_link(seeded_store: Any) -> None:
    at = open_page(seeded_store.url, "leftovers", repo=REPO)
    every = table(at, "leftovers")
    assert {"mlflow", "optuna", "wandb"} <= set(every["item"])
    selector = at.sidebar.selectbox(key="project_select")
    assert selector.options == ["All 3 projects", "01-fraud", "02-churn", "03-recsys"]
    selector.set_value("02-churn").run()
    assert not at.exception
    churn = table(at, "leftovers")
    assert set(churn["item"]) == {"optuna"}
    assert set(churn["pairs"]) == {"02-churn/training → 02-churn/serving"}
    assert at.query_params["project"] == "02-churn"
    rows = list(csv.DictReader(io.StringIO(download_text(at, "leftovers"))))
    assert {r["serving_env"] for r in rows} == {"02-churn/serving"}
    # back to every project: the parameter leaves the link
    at.sidebar.selectbox(key="project_select").set_value("").run()
    assert "project" not in at.query_params
    assert len(table(at, "leftovers")) == len(every)


def test_a_shared_link_opens_on_its_project(seeded_store: Any) -> None:
    for page, key in (("leftovers", "leftovers"), ("drift", "drift"), ("shared", "shared")):
        at = open_page(seeded_store.url, page, repo=REPO, project="03-recsys")
        frame = table(at, key)
        assert not frame.empty, page
        assert set(frame["pairs"]) == {RECSYS_PAIRS}, page
        assert at.sidebar.selectbox(key="project_select").value == "03-recsys"


def test_drift_and_shared_are_one_row_per_fact(seeded_store: Any) -> None:
    drift = table(open_page(seeded_store.url, "drift", repo=REPO), "drift")
    torch = drift[drift["item"] == "torch"]
    assert len(torch) == 1
    assert (torch.iloc[0]["training"], torch.iloc[0]["serving"]) == ("2.2.0", "2.1.0")
    assert torch.iloc[0]["pairs"] == RECSYS_PAIRS
    shared = table(open_page(seeded_store.url, "shared", repo=REPO), "shared")
    numpy = shared[shared["item"] == "numpy"]
    # shared in 03-recsys (two pairs, one row); 01-fraud's serving does not import it
    assert list(numpy["pairs"]) == [RECSYS_PAIRS]


def test_grouped_csv_keeps_the_contract_columns_and_adds_pairs_last(seeded_store: Any) -> None:
    at = open_page(seeded_store.url, "leftovers", repo=REPO, project="03-recsys")
    text = download_text(at, "leftovers")
    header, *lines = text.split("\r\n")[:-1]
    assert tuple(header.split(",")) == (*CSV_COLUMNS, "pairs")
    report_lines = set(_report_csv(seeded_store.url, "--format", "csv").split("\r\n"))
    for line in lines:
        assert line in report_lines  # byte for byte one row of the report
    (row,) = [r for r in csv.DictReader(io.StringIO(text)) if r["item"] == "wandb"]
    assert row["pairs"] == RECSYS_PAIRS.replace(" → ", " x ")


def test_history_download_is_the_report_csv_byte_for_byte(seeded_store: Any) -> None:
    at = open_page(seeded_store.url, "history", repo=REPO)
    assert download_text(at, "history_commit") == _report_csv(seeded_store.url, "--format", "csv")
    # one project: the report's rows of that project, still in the report's order
    at = open_page(seeded_store.url, "history", repo=REPO, project="01-fraud")
    lines = download_text(at, "history_commit").split("\r\n")
    report = _report_csv(seeded_store.url, "--format", "csv").split("\r\n")
    assert lines[0] == report[0]
    assert lines[1:-1] == [line for line in report[1:-1] if ",01-fraud/training," in line]


def test_environment_page_shows_projects_pairs_reasons_and_the_unpaired(
    seeded_store: Any,
) -> None:
    at = open_page(seeded_store.url, "environment", repo=REPO)
    envs = table(at, "envs")
    rows = {r["environment"]: r for r in envs.to_dict("records")}
    assert rows["03-recsys/notebooks"]["project"] == "03-recsys"
    assert rows["03-recsys/notebooks"]["role"] == "training"
    assert rows["04-eda/training"]["project"] == ""
    assert all(origin == "convention" for origin in envs["origin"])
    pairs = table(at, "pairs")
    reader = StoreReader(seeded_store.url)
    head = reader.head(REPO)
    assert head is not None
    stored = reader.pairs_at(REPO, head.sha)
    assert len(pairs) == len(stored) == 4
    assert {(p.training, p.serving, p.project, p.reason) for p in stored} == set(
        zip(pairs["training"], pairs["serving"], pairs["project"], pairs["reason"], strict=True)
    )
    assert "project folder 03-recsys/" in " ".join(pairs["reason"])
    alone = table(at, "unpaired")
    assert list(alone["environment"]) == ["04-eda/training"]
    assert "no serving environment" in alone.iloc[0]["why"]
    # one project: its environments and pairs only
    at.sidebar.selectbox(key="project_select").set_value("03-recsys").run()
    assert set(table(at, "envs")["environment"]) == {
        "03-recsys/notebooks",
        "03-recsys/serving",
        "03-recsys/training",
    }
    assert set(table(at, "pairs")["project"]) == {"03-recsys"}
    assert not any(b.proto.id.endswith("download_unpaired") for b in at.download_button)


def test_an_older_commit_has_its_own_projects(seeded_store: Any) -> None:
    first = StoreReader(seeded_store.url).commits(REPO)[0]
    at = open_page(seeded_store.url, "leftovers", repo=REPO, commit=first.sha)
    # two examples then: the selector offers those two
    assert at.sidebar.selectbox(key="project_select").options == [
        "All 2 projects",
        "01-fraud",
        "02-churn",
    ]
    assert "wandb" not in set(table(at, "leftovers")["item"])


def test_single_project_repository_has_no_selector(seeded_store: Any) -> None:
    at = open_page(seeded_store.url, "leftovers", repo="leaky_api")
    assert not [s for s in at.sidebar.selectbox if s.label == "Project"]


def test_overview_counts_projects(seeded_store: Any) -> None:
    at = open_page(seeded_store.url, "overview")
    frame = table(at, "overview").set_index("repo")
    assert frame.loc[REPO, "projects"] == 3
    assert frame.loc["leaky_api", "projects"] == 1
    assert frame.loc["notes_only", "projects"] == 0
