"""Applying ``depaudit split --write`` to a repository and proving what it changed.

:func:`apply_split` runs the CLI the way a user does (``check``, ``split --write``,
``check`` again) on a git work tree and keeps everything needed to judge the result;
:func:`assert_only_intended_changes` is the proof every end-to-end test shares:

- the files written are exactly the proposal's edits; every other file is byte-identical;
- the proposal's predicted effect is what ``check`` reports afterwards, for its pair and
  for every other pair (one with the same serving environment changes with it);
- every other finding, of every pair, is identical before and after (lines and the
  ``file:line`` references in messages followed through the edits, and through a split
  file into its serving copy); only the findings about an edited package of the edited
  serving environment may change.
"""

from __future__ import annotations

import difflib
import json
import re
import subprocess
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from depaudit.cli import app


def pairs_of(finding: dict[str, Any]) -> set[tuple[str, str]]:
    """The pairs a reported finding stands for: a fact several pairs of a project share is
    one finding listing them (``pairs``)."""
    listed = finding.get("pairs") or [
        {"training": finding["training_env"], "serving": finding["serving_env"]}
    ]
    return {(p["training"], p["serving"]) for p in listed}


PACKAGE_LEFTOVER = ("DA101", "DA106")
PACKAGE_DRIFT = ("DA102", "DA103", "DA107")
FIELDS = (
    "training_env", "serving_env", "status", "kind", "item", "training", "serving",
    "severity", "rule", "file", "line", "message", "evidence",
)  # fmt: skip
_REF = re.compile(r"([\w./-]+):(\d+)")


def run_cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def check_json(repo: Path) -> dict[str, Any]:
    code, out, err = run_cli("check", str(repo), "-f", "json", "--fail-on", "never", "-q")
    assert code == 0, err
    return json.loads(out)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout


def tree_bytes(repo: Path) -> dict[str, bytes]:
    """Every file of the work tree git knows (tracked and untracked, not ignored)."""
    names = git(repo, "ls-files", "-z", "-co", "--exclude-standard").split("\0")
    return {n: (repo / n).read_bytes() for n in names if n and (repo / n).is_file()}


@dataclass
class Applied:
    repo: Path
    proposal: dict[str, Any]  # split --write --format json
    before: dict[str, Any]  # check --format json
    after: dict[str, Any]
    files_before: dict[str, bytes]
    files_after: dict[str, bytes]

    @property
    def pair(self) -> tuple[str, str]:
        return (self.proposal["pair"]["training"], self.proposal["pair"]["serving"])

    def changes(self) -> list[dict[str, Any]]:
        return [c for e in self.proposal["edits"] for c in e["changes"]]

    def of_pair(self, report: dict[str, Any]) -> list[dict[str, Any]]:
        return [f for f in report["findings"] if self.pair in pairs_of(f)]

    def remaining(
        self, rules: Iterable[str] = PACKAGE_LEFTOVER + PACKAGE_DRIFT
    ) -> set[tuple[str, str]]:
        """(rule, item) of the pair's package leftovers and drift after the edit."""
        wanted = set(rules)
        return {(f["rule"], f["item"]) for f in self.of_pair(self.after) if f["rule"] in wanted}

    def flagged(self, *reasons: str) -> set[str]:
        """Items of the proposal's flags (of these reasons); a flag about several packages
        of one file lists them as "a, b"."""
        return {
            item
            for f in self.proposal["flagged"]
            if not reasons or f["reason"] in reasons
            for item in f["item"].split(", ")
            if item
        }


def apply_split(repo: Path, *options: str) -> Applied:
    before = check_json(repo)
    files_before = tree_bytes(repo)
    code, out, err = run_cli("split", str(repo), "--write", "--format", "json", *options)
    assert code == 0, err
    proposal = json.loads(out)
    return Applied(repo, proposal, before, check_json(repo), files_before, tree_bytes(repo))


def _line_map(old: str, new: str) -> dict[int, int]:
    """1-based lines of ``old`` that are still in ``new`` (unchanged, or edited in place:
    a block replaced by as many lines) -> their line there."""
    matcher = difflib.SequenceMatcher(a=old.splitlines(), b=new.splitlines(), autojunk=False)
    out: dict[int, int] = {}
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal" or (tag == "replace" and a1 - a0 == b1 - b0):
            for offset in range(a1 - a0):
                out[a0 + offset + 1] = b0 + offset + 1
    return out


def _relocated(
    finding: dict[str, Any], moves: dict[str, tuple[str, dict[int, int]]]
) -> dict[str, Any] | None:
    """``finding`` with every ``file``/``line`` reference moved by ``moves`` (path ->
    (new path, line map)); None if a referenced line was itself edited."""
    out = dict(finding)
    path, line = finding["file"], finding["line"]
    if path in moves and line:
        new_path, lines = moves[path]
        if line not in lines:
            return None
        out["file"], out["line"] = new_path, lines[line]
    elif path in moves:
        out["file"] = moves[path][0]

    def move(match: re.Match[str]) -> str:
        ref, number = match.group(1), int(match.group(2))
        if ref not in moves:
            return match.group(0)
        new_path, lines = moves[ref]
        return f"{new_path}:{lines.get(number, number)}"

    for key in ("message", "evidence"):
        out[key] = _REF.sub(move, finding[key] or "")
    return out


def _key(finding: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(finding[k] or "" if k != "line" else finding[k] or 0 for k in FIELDS)


def assert_only_intended_changes(applied: Applied) -> None:
    edits = {e["path"]: e for e in applied.proposal["edits"]}
    # 1. the files written are the edits; everything else is byte-identical
    changed = {
        p
        for p in applied.files_before.keys() | applied.files_after.keys()
        if applied.files_before.get(p) != applied.files_after.get(p)
    }
    assert changed == set(edits), f"files changed {sorted(changed)} != edits {sorted(edits)}"
    for path, edit in edits.items():
        assert (path in applied.files_before) == (not edit["new_file"])

    # 2. the predicted effect is what check reports, for the pair and for every other pair
    # (those sharing its serving environment see the same packages change)
    def identities(report: dict[str, Any], pair: tuple[str, str]) -> set[tuple[str, ...]]:
        return {
            (f["rule"], f["status"], f["kind"], f["item"])
            for f in report["findings"]
            if pair in pairs_of(f)
        }

    def changes(items: list[dict[str, Any]]) -> set[tuple[str, ...]]:
        return {(f["rule"], f["status"], f["kind"], f["item"]) for f in items}

    effect = applied.proposal["effect"]
    predicted = {applied.pair: (changes(effect["removed"]), changes(effect["added"]))}
    for other in effect.get("other_pairs", []):
        predicted[(other["training"], other["serving"])] = (
            changes(other["removed"]),
            changes(other["added"]),
        )
    every_pair = {
        pair
        for report in (applied.before, applied.after)
        for f in report["findings"]
        for pair in pairs_of(f)
    }
    for pair in every_pair | set(predicted):
        before, after = identities(applied.before, pair), identities(applied.after, pair)
        assert predicted.get(pair, (set(), set())) == (before - after, after - before), pair

    # 3. every finding not about an edited item is the same, wherever its lines moved
    touched = {c["item"] for c in applied.changes() if c["action"] in ("remove", "pin", "declare")}
    if any(c["action"] == "base_image" for c in applied.changes()):
        touched |= {"base_image", "cuda"}
    in_place: dict[str, tuple[str, dict[int, int]]] = {}
    into_copy: dict[str, tuple[str, dict[int, int]]] = {}
    for path, edit in edits.items():
        new = applied.files_after[path].decode()
        if edit["new_file"]:
            source = next(c["before"] for c in edit["changes"] if c["action"] == "split")
            into_copy[source] = (path, _line_map(applied.files_before[source].decode(), new))
        else:
            in_place[path] = (path, _line_map(applied.files_before[path].decode(), new))

    def untouched(report: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            f
            for f in report["findings"]
            if not (f["serving_env"] == applied.pair[1] and f["item"] in touched)
        ]

    left = Counter(_key(f) for f in untouched(applied.after))
    missing: list[dict[str, Any]] = []
    for finding in untouched(applied.before):
        candidates = [_relocated(finding, in_place), _relocated(finding, {**in_place, **into_copy})]
        for candidate in candidates:
            if candidate is not None and left[_key(candidate)] > 0:
                left[_key(candidate)] -= 1
                break
        else:
            missing.append(finding)
    extra = [k for k, n in left.items() if n > 0]
    assert not missing and not extra, (
        f"findings changed that the edit does not touch: gone {missing[:3]}, new {extra[:3]}"
    )
