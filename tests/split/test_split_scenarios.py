"""The proof on the sample scenarios: at every distinct state of each history, the written
proposal leaves no package leftover or drift that it does not name as a human's job, and
changes nothing else.

Each scenario (sample_repos/scenarios/*.yaml) is materialized as a real git history. For
every commit whose pairs have a different set of fixable findings than the commit before
(package leftovers and drift, undeclared imports, a CUDA devel image), a clone checked
out at that commit gets ``depaudit split --write`` for each pair with something to fix;
``depaudit check`` before and after is compared with
:func:`split_support.assert_only_intended_changes`.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from sample_repos.materialize import commit_shas, materialize, scenario_paths
from tests.split.split_support import (
    PACKAGE_DRIFT,
    PACKAGE_LEFTOVER,
    Applied,
    apply_split,
    assert_only_intended_changes,
    check_json,
    pairs_of,
    run_cli,
)

SCENARIOS = {p.stem: p for p in scenario_paths()}
FIXABLE = (*PACKAGE_LEFTOVER, *PACKAGE_DRIFT, "DA204", "DA504")


def clone_at(origin: Path, sha: str, where: Path) -> Path:
    subprocess.run(["git", "clone", "-q", str(origin), str(where)], check=True)
    subprocess.run(["git", "checkout", "-q", sha], cwd=where, check=True)
    return where


def distinct_states(repo: Path, work: Path) -> list[tuple[int, str, list[tuple[str, str]]]]:
    """(index, sha, pairs) of the commits whose fixable findings differ from the previous
    one's, with the (training, serving) pairs that have one."""
    out: list[tuple[int, str, list[tuple[str, str]]]] = []
    previous: frozenset[tuple[str, str, str, str]] | None = None
    probe = clone_at(repo, "HEAD", work / "probe")
    for index, sha in enumerate(commit_shas(repo)):
        subprocess.run(["git", "checkout", "-q", sha], cwd=probe, check=True)
        code, text, _ = run_cli("check", str(probe), "-f", "json", "--fail-on", "never", "-q")
        if code != 0:  # an invalid .depaudit.toml: check and split both refuse (tested apart)
            previous = None
            continue
        report = json.loads(text)
        state = frozenset(
            (training, serving, f["rule"], f["item"])
            for f in report["findings"]
            if f["rule"] in FIXABLE
            for training, serving in pairs_of(f)
        )
        if state and state != previous:
            out.append((index, sha, sorted({(t, s) for t, s, _, _ in state})))
        previous = state
    return out


def run_history(name: str, tmp_path: Path) -> list[tuple[int, Applied]]:
    """The proof at every distinct state, for every pair with something to fix there
    (each on its own clone: a pair's proposal is applied to the tree as it was)."""
    repo = materialize(SCENARIOS[name], tmp_path / "built")
    out: list[tuple[int, Applied]] = []
    for index, sha, pairs in distinct_states(repo, tmp_path):
        for number, (training, serving) in enumerate(pairs):
            work = clone_at(repo, sha, tmp_path / f"at-{index}-{number}")
            applied = apply_split(work, "--training", training, "--serving", serving)
            assert_only_intended_changes(applied)
            out.append((index, applied))
    assert out, f"{name}: no commit with something to fix"
    return out


def removed(applied: Applied, rules: tuple[str, ...]) -> int:
    return sum(1 for f in applied.proposal["effect"]["removed"] if f["rule"] in rules)


def test_tabular_fraud_every_leftover_and_drift_is_removed(tmp_path: Path) -> None:
    for index, applied in run_history("tabular_fraud", tmp_path):
        assert applied.remaining() == set(), f"step {index}"
        assert applied.proposal["flagged"] == [], f"step {index}"
        assert removed(applied, PACKAGE_LEFTOVER + PACKAGE_DRIFT) > 0


def test_vision_gpu_keeps_only_the_packages_serving_code_still_imports(tmp_path: Path) -> None:
    devel_fixed = 0
    for index, applied in run_history("vision_gpu", tmp_path):
        remaining = applied.remaining()
        # snowflake-connector-python and wandb are imported by api/main.py (DA202): the
        # proposal keeps them and says why, so the service does not fail at start
        assert {item for _, item in remaining} == applied.flagged("imported"), f"step {index}"
        assert all(rule == "DA101" for rule, _ in remaining), f"step {index}"
        assert not applied.remaining(("DA504",)), f"step {index}"
        devel_fixed += any(c["action"] == "base_image" for c in applied.changes())
        # the serving image is config-heavy: those leftovers are listed, never edited
        listed = {(i["rule"], i["item"]) for i in applied.proposal["listed"]}
        config = {
            (f["rule"], f["item"])
            for f in applied.of_pair(applied.before)
            if f["rule"] in ("DA301", "DA302", "DA401", "DA402", "DA403")
        }
        assert listed == config, f"step {index}"
    assert devel_fixed > 0


def relock(applied: Applied) -> None:
    """What `poetry lock` records for the new pins (the one step the proposal leaves to a
    human, flagged ``lock``): each pinned package's locked version becomes the pin."""
    for change in applied.changes():
        if change["action"] != "pin":
            continue
        version = re.search(r'"([^"<>=~^*]+)"', change["after"])
        assert version, change
        for flag in applied.proposal["flagged"]:
            if flag["reason"] != "lock":
                continue
            lock = applied.repo / flag["file"]
            text = lock.read_text()
            text = re.sub(
                r'(name = "' + re.escape(change["item"]) + r'"\nversion = )"[^"]*"',
                rf'\g<1>"{version.group(1)}"',
                text,
            )
            lock.write_text(text)


def test_monorepo_uv_drift_left_is_exactly_what_the_lock_still_records(tmp_path: Path) -> None:
    for index, applied in run_history("monorepo_uv", tmp_path):
        remaining = applied.remaining()
        locked = {
            item
            for flag in applied.proposal["flagged"]
            if flag["reason"] == "lock"
            for item in flag["item"].split(", ")
        }
        transitive = applied.flagged("transitive")
        assert {item for _, item in remaining} <= locked | transitive, f"step {index}"
        assert all(rule in PACKAGE_DRIFT for rule, _ in remaining), f"step {index}"
        relock(applied)
        after_relock = check_json(applied.repo)
        left = {
            f["item"]
            for f in after_relock["findings"]
            if applied.pair in pairs_of(f) and f["rule"] in PACKAGE_LEFTOVER + PACKAGE_DRIFT
        }
        assert left <= transitive, f"step {index}: {left}"


def test_course_monorepo_each_chapter_is_split_on_its_own(tmp_path: Path) -> None:
    chapters: set[str] = set()
    fixed = 0
    for index, applied in run_history("course_monorepo", tmp_path):
        project = applied.proposal["pair"]["project"]
        chapters.add(project)
        # the edit stays in the pair's chapter: no other chapter's file is touched
        assert all(e["path"].startswith(project + "/") for e in applied.proposal["edits"])
        # what is left is what the proposal names as a human's job (a shared Pipfile, a
        # lock to refresh), never something it forgot
        remaining = {item for _, item in applied.remaining()}
        assert remaining <= applied.flagged(), f"step {index} {applied.pair}: {remaining}"
        fixed += not remaining and bool(applied.proposal["edits"])
    assert len(chapters) > 1
    assert fixed > 0


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_scenario_is_covered(name: str) -> None:
    covered = {"tabular_fraud", "vision_gpu", "monorepo_uv", "course_monorepo"}
    assert name in covered, "add a proof test for it"
