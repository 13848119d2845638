"""The Leftovers page's "Proposed split" (issue 14): for the selected pair, what
``depaudit split`` changes — computed from the store by the pure split layer — and the
command that makes the diff from the repository, with the plan as a download."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from depaudit.store.reader import StoreReader
from tests.dashboard.pages import download_text, open_page, texts

REPO = "course_examples"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _isolated(isolated_app: None) -> Iterator[None]:
    yield


def _repo_path(url: str, name: str) -> tuple[Path, str]:
    reader = StoreReader(url)
    try:
        info = reader.repo(name)
        return Path(info.path), str(info.head_sha)
    finally:
        reader.close()


def _cli_split(path: Path, *args: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "depaudit", "split", str(path), "-f", "json", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout))


def test_the_plan_names_what_the_cli_changes_and_the_command_makes_the_diff(
    seeded_store: Any,
) -> None:
    at = open_page(seeded_store.url, "leftovers", repo=REPO, project="01-fraud")
    choice = at.selectbox(key="choice_split")
    assert choice.options == ["01-fraud/training → 01-fraud/serving"]
    path, head = _repo_path(seeded_store.url, REPO)
    run = (
        f"depaudit split . --rev {head} --training 01-fraud/training "
        "--serving 01-fraud/serving > split.patch"
    )
    plan, command = (c.value for c in at.code[-2:])
    assert command == run
    # every change the CLI makes from the files is in the plan, at its file and line
    cli = _cli_split(path, "--rev", head, "--training", "01-fraud/training")
    changes = [c for e in cli["edits"] for c in e["changes"]]
    assert {c["item"] for c in changes} == {"mlflow", "numpy", "scikit-learn"}
    for change in changes:
        assert f"{change['file']}:{change['line']}: {change['action']} " in plan, change
    assert "pin scikit-learn==1.4.2 (DA102)" in plan
    # the plan as shown (a code block drops the final newline) and the command
    assert download_text(at, "split") == (
        f"{plan}\n# the diff: in a clone of the repository, run\n#   {run}\n"
    )


def test_the_selected_pair_is_kept_in_the_link(seeded_store: Any) -> None:
    pair = "03-recsys/notebooks → 03-recsys/serving"
    at = open_page(seeded_store.url, "leftovers", repo=REPO, project="03-recsys", split=pair)
    choice = at.selectbox(key="choice_split")
    assert choice.options == [pair, "03-recsys/training → 03-recsys/serving"]
    assert choice.value == pair
    assert "--training 03-recsys/notebooks --serving 03-recsys/serving" in at.code[-1].value
    choice.set_value("03-recsys/training → 03-recsys/serving").run()
    assert not at.exception
    assert at.query_params["split"] == "03-recsys/training → 03-recsys/serving"
    assert "--training 03-recsys/training " in at.code[-1].value


def test_nothing_to_split_says_so(seeded_store: Any) -> None:
    at = open_page(seeded_store.url, "leftovers", repo="notes_only")
    assert "No package leftover or drift for `depaudit split` to remove" in texts(at)
    assert not [b for b in at.download_button if b.proto.id.endswith("download_split")]


def test_the_plan_masks_what_the_page_masks(seeded_store: Any) -> None:
    at = open_page(seeded_store.url, "leftovers", repo="leaky_api")
    assert at.selectbox(key="choice_split").options == ["training → serving"]
    assert seeded_store.secret not in texts(at)
    assert seeded_store.secret not in download_text(at, "split")
