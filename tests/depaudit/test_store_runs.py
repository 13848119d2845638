"""The finding-run algorithm on its own (depaudit.store.runs): no database.

A history is a list of (sha, finding keys) in walk order; ``introduced_in`` of a key at
a commit is the first commit of the unbroken stretch of commits that has it. The
reference below computes those stretches from the whole history at once; the tracker
must reach the same runs one commit at a time, resumed anywhere, and across rewrites.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from depaudit.store.runs import (
    Closed,
    Opened,
    Point,
    Run,
    RunTracker,
    apply,
    open_runs,
    rewind,
)

History = Sequence[tuple[str, frozenset[str]]]


def keys(*names: str) -> frozenset[str]:
    return frozenset(names)


def walk(history: History, tracker: RunTracker | None = None, first_seq: int = 0) -> list[Run]:
    """Feed ``history`` to a tracker one commit at a time; the runs its events give."""
    tracker = tracker or RunTracker()
    runs: list[Run] = []
    for offset, (sha, ks) in enumerate(history):
        runs = apply(runs, tracker.advance(Point(first_seq + offset, sha), ks))
    return runs


def reference_runs(history: History) -> list[Run]:
    """Maximal stretches of consecutive commits with each key, from the whole history."""
    return runs_of_points([(Point(seq, sha), ks) for seq, (sha, ks) in enumerate(history)])


def runs_of_points(points: Sequence[tuple[Point, frozenset[str]]]) -> list[Run]:
    runs: list[Run] = []
    for key in sorted(set().union(*(ks for _, ks in points))):
        start: Point | None = None
        for i, (point, ks) in enumerate(points):
            if key in ks and start is None:
                start = point
            elif key not in ks and start is not None:
                runs.append(Run(key, start, end=points[i - 1][0], resolved=point))
                start = None
        if start is not None:
            runs.append(Run(key, start))
    return runs


def by_start(runs: list[Run]) -> list[Run]:
    return sorted(runs, key=lambda r: (r.key, r.start))


def test_a_key_is_introduced_resolved_and_introduced_again() -> None:
    history = [
        ("c0", keys("a", "b")),
        ("c1", keys("a", "b")),
        ("c2", keys("b", "c")),
        ("c3", keys("a", "b")),  # A -> B -> A: "a" comes back as a new run
    ]
    tracker = RunTracker()
    events = [tracker.advance(Point(n, sha), ks) for n, (sha, ks) in enumerate(history)]
    assert events[0] == [Opened("a", Point(0, "c0")), Opened("b", Point(0, "c0"))]
    assert events[1] == []  # same keys: nothing opens or closes
    assert events[2] == [
        Closed("a", start=Point(0, "c0"), end=Point(1, "c1"), resolved=Point(2, "c2")),
        Opened("c", Point(2, "c2")),
    ]
    assert events[3] == [
        Closed("c", start=Point(2, "c2"), end=Point(2, "c2"), resolved=Point(3, "c3")),
        Opened("a", Point(3, "c3")),
    ]
    assert tracker.open_keys == keys("a", "b")
    assert tracker.start_of("a") == Point(3, "c3") and tracker.start_of("b") == Point(0, "c0")
    assert by_start(walk(history)) == by_start(reference_runs(history))


def test_removed_and_added_back_at_the_next_commit_are_two_runs() -> None:
    """The writer closes the first run by UPDATE and inserts the second in the same
    batch; the close names the first run's start, so it can never end the new one."""
    history = [("c0", keys("k")), ("c1", keys()), ("c2", keys("k")), ("c3", keys("k"))]
    runs = walk(history)
    assert by_start(runs) == [
        Run("k", Point(0, "c0"), end=Point(0, "c0"), resolved=Point(1, "c1")),
        Run("k", Point(2, "c2")),
    ]
    tracker = RunTracker()
    tracker.advance(Point(0, "c0"), keys("k"))
    close = tracker.advance(Point(1, "c1"), keys())
    reopen = tracker.advance(Point(2, "c2"), keys("k"))
    assert close == [Closed("k", Point(0, "c0"), Point(0, "c0"), Point(1, "c1"))]
    assert reopen == [Opened("k", Point(2, "c2"))]


def test_runs_follow_walk_order_through_a_merge() -> None:
    """--all-commits walks a side branch between main-line commits: a key that only the
    side branch has is resolved when the walk returns to main and reintroduced by the
    merge that brings the branch in."""
    history = [
        ("main0", keys("shared")),
        ("side1", keys("shared", "optuna")),  # side branch adds optuna
        ("side2", keys("shared", "optuna")),
        ("main1", keys("shared")),  # main line, without the branch
        ("merge", keys("shared", "optuna")),  # the merge brings optuna to main
    ]
    runs = walk(history)
    optuna = [r for r in runs if r.key == "optuna"]
    assert optuna == [
        Run("optuna", Point(1, "side1"), end=Point(2, "side2"), resolved=Point(3, "main1")),
        Run("optuna", Point(4, "merge")),
    ]
    assert [r for r in runs if r.key == "shared"] == [Run("shared", Point(0, "main0"))]


def test_resuming_from_the_stored_open_runs_gives_the_same_runs() -> None:
    history = [
        ("c0", keys("a")),
        ("c1", keys("a", "b")),
        ("c2", keys("b")),
        ("c3", keys("b")),
        ("c4", keys("a", "b")),
    ]
    whole = by_start(walk(history))
    for cut in range(1, len(history)):
        first = walk(history[:cut])
        head = Point(cut - 1, history[cut - 1][0])
        tracker = RunTracker(head, open_runs(first))
        rest: list[Run] = list(first)
        for seq in range(cut, len(history)):
            sha, ks = history[seq]
            rest = apply(rest, tracker.advance(Point(seq, sha), ks))
        assert by_start(rest) == whole, cut


def test_rewind_keeps_history_and_continues_the_runs_alive_at_the_base() -> None:
    history = [
        ("c0", keys("a")),
        ("c1", keys("a", "old")),
        ("c2", keys("old")),  # "a" resolved in commits that are rewritten away
        ("c3", keys("z")),  # "z" only in the abandoned commits
    ]
    runs = walk(history)
    base, old_head = Point(1, "c1"), Point(3, "c3")
    after = rewind(runs, base, old_head)
    assert by_start(after) == [
        Run("a", Point(0, "c0")),  # alive at the base: open again, resolution forgotten
        Run("old", Point(1, "c1")),
        Run("z", Point(3, "c3"), end=Point(3, "c3"), reachable=False),  # closed at the old head
    ]
    assert set(open_runs(after)) == keys("a", "old")  # the keys of the base commit
    # the new commits continue the reopened runs
    tracker = RunTracker(base, open_runs(after))
    assert tracker.advance(Point(4, "n4"), keys("a", "y")) == [
        Closed("old", Point(1, "c1"), end=Point(1, "c1"), resolved=Point(4, "n4")),
        Opened("y", Point(4, "n4")),
    ]
    assert tracker.start_of("a") == Point(0, "c0")  # introduced_in survives the rewrite


def test_rewind_to_nothing_abandons_every_run_and_an_earlier_rewind_is_kept() -> None:
    runs = walk([("c0", keys("a")), ("c1", keys("a", "b")), ("c2", keys())])
    after = rewind(runs, None, Point(2, "c2"))
    assert all(not r.reachable for r in after) and open_runs(after) == {}
    closed_before = next(r for r in after if r.key == "b")
    assert closed_before.resolved == Point(2, "c2")  # a resolution that happened is kept
    # a later rewind never touches runs an earlier one abandoned
    assert rewind(after, None, Point(5, "c5")) == after


def test_runs_resolved_before_the_base_stay_resolved() -> None:
    runs = walk([("c0", keys("a")), ("c1", keys()), ("c2", keys()), ("c3", keys("b"))])
    after = rewind(runs, Point(2, "c2"), Point(3, "c3"))
    assert [r for r in after if r.key == "a"] == [
        Run("a", Point(0, "c0"), end=Point(0, "c0"), resolved=Point(1, "c1"))
    ]
    assert next(r for r in after if r.key == "b").reachable is False


def test_the_walk_never_goes_back_and_open_runs_need_a_head() -> None:
    tracker = RunTracker()
    tracker.advance(Point(5, "c5"), keys("a"))
    with pytest.raises(ValueError, match="walk order goes back"):
        tracker.advance(Point(5, "again"), keys())
    with pytest.raises(ValueError, match="without a head"):
        RunTracker(None, {"a": Point(0, "c0")})


KEYS = st.frozensets(st.sampled_from(["a", "b", "c", "d"]), max_size=4)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(KEYS, min_size=1, max_size=30))
def test_one_commit_at_a_time_equals_the_whole_history(key_sets: list[frozenset[str]]) -> None:
    history = [(f"c{n}", ks) for n, ks in enumerate(key_sets)]
    tracker = RunTracker()
    runs: list[Run] = []
    for seq, (sha, ks) in enumerate(history):
        runs = apply(runs, tracker.advance(Point(seq, sha), ks))
        # the invariant the writer relies on when it resumes
        assert set(open_runs(runs)) == ks == tracker.open_keys
    assert by_start(runs) == by_start(reference_runs(history))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(KEYS, min_size=2, max_size=20), st.data())
def test_a_rewrite_equals_walking_the_kept_commits_then_the_new_ones(
    key_sets: list[frozenset[str]], data: st.DataObject
) -> None:
    """After a rewind to a base, the reachable runs are those of the history that keeps
    the commits up to the base and then has the new ones (seqs keep increasing)."""
    history = [(f"c{n}", ks) for n, ks in enumerate(key_sets)]
    base_seq = data.draw(st.integers(-1, len(history) - 1), label="base")
    new = data.draw(st.lists(KEYS, max_size=10), label="new commits")
    runs = walk(history)
    base = Point(base_seq, history[base_seq][0]) if base_seq >= 0 else None
    runs = rewind(runs, base, Point(len(history) - 1, history[-1][0]))
    assert set(open_runs(runs)) == (history[base_seq][1] if base else set())
    tracker = RunTracker(base, open_runs(runs))
    first_new = len(history)
    for offset, ks in enumerate(new):
        runs = apply(runs, tracker.advance(Point(first_new + offset, f"n{offset}"), ks))
    reachable = [r for r in runs if r.reachable]
    # the same history written with the new commits' seqs
    kept = [(Point(seq, sha), ks) for seq, (sha, ks) in enumerate(history[: base_seq + 1])]
    added = [(Point(first_new + i, f"n{i}"), ks) for i, ks in enumerate(new)]
    expected = runs_of_points(kept + added)
    assert by_start(reachable) == by_start(expected)
    # everything that began in the abandoned commits is kept, unreachable and closed
    abandoned = [r for r in runs if not r.reachable]
    assert all(r.end is not None and base_seq < r.start.seq < first_new for r in abandoned)
