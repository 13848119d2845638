"""The ``depaudit split`` command line: a commit read from git objects, usage errors."""

from __future__ import annotations

import json
from pathlib import Path

from tests.split.split_support import git, run_cli, tree_bytes
from tests.split.test_shared_requirements import DOCKERFILE_LAYOUT, SPEC_LAYOUT, make


def test_rev_proposes_for_a_commit_without_touching_the_work_tree(tmp_path: Path) -> None:
    repo = make(tmp_path, SPEC_LAYOUT)
    head = git(repo, "rev-parse", "HEAD").strip()
    at_head = run_cli("split", str(repo))[1]
    # the work tree moves on; the commit's proposal stays what it was
    (repo / "requirements.txt").write_text("numpy==1.26.4\n")
    before = tree_bytes(repo)
    code, out, err = run_cli("split", str(repo), "--rev", head)
    assert code == 0, err
    assert out == at_head
    assert tree_bytes(repo) == before


def test_rev_and_write_are_refused_together(tmp_path: Path) -> None:
    repo = make(tmp_path, SPEC_LAYOUT)
    code, out, err = run_cli("split", str(repo), "--rev", "HEAD", "--write")
    assert (code, out) == (2, "")
    assert "--rev reads a commit from git objects; --write edits the working tree" in err


def test_an_unknown_rev_is_one_line(tmp_path: Path) -> None:
    repo = make(tmp_path, SPEC_LAYOUT)
    code, _, err = run_cli("split", str(repo), "--rev", "no-such-branch")
    assert code == 2
    assert err.strip().splitlines() == [
        f"depaudit: error: unknown revision 'no-such-branch' in {repo}"
    ]


def test_several_pairs_need_a_choice_and_the_error_lists_them(tmp_path: Path) -> None:
    repo = make(tmp_path, DOCKERFILE_LAYOUT)
    code, _, err = run_cli("split", str(repo))
    assert code == 2
    assert "--serving app --training notebooks" in err
    assert "--serving app --training training" in err


def test_json_names_the_pair_edits_and_effect(tmp_path: Path) -> None:
    repo = make(tmp_path, DOCKERFILE_LAYOUT)
    code, out, err = run_cli("split", str(repo), "--training", "training", "-f", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["pair"] == {"training": "training", "serving": "app", "project": "."}
    assert [(e["path"], e["new_file"]) for e in data["edits"]] == [
        ("app/Dockerfile", False),
        ("requirements-app.txt", True),
    ]
    assert data["edits"][1]["diff"].startswith("diff --git a/requirements-app.txt")
    assert [p["training"] for p in data["effect"]["other_pairs"]] == ["notebooks"]
