"""Finding runs: which runs open and close as the history walk advances. Pure, no I/O.

A *run* is one unbroken stretch of walked commits (in walk order, ``seq``) whose state
has a finding key. The run's first commit is the finding's ``introduced_in``; the
commit after its last is where it was resolved. Runs follow walk order, not the
commit graph: with ``--all-commits`` a key that lives on a side branch, disappears on
the next main-line commit and comes back at the merge has three runs.

:class:`RunTracker` turns the ordered sequence of (seq, sha, finding keys) into
:class:`Opened` / :class:`Closed` events, starting from the runs already open in the
store. :func:`rewind` is what a history rewrite does to the stored runs, and
:func:`apply` replays events onto runs; the writer does both in SQL, and the tests
compare its tables with these functions.

Invariant: the open reachable runs are exactly the keys of the head commit's state.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, order=True)
class Point:
    """A walked commit: its walk order and sha."""

    seq: int
    sha: str


@dataclass(frozen=True, slots=True)
class Run:
    key: str
    start: Point
    end: Point | None = None  # last commit that has it; None: still open
    resolved: Point | None = None  # first commit without it; None: not resolved
    reachable: bool = True  # False: began in commits a rewrite abandoned

    @property
    def is_open(self) -> bool:
        return self.end is None


@dataclass(frozen=True, slots=True)
class Opened:
    key: str
    start: Point


@dataclass(frozen=True, slots=True)
class Closed:
    key: str
    start: Point  # identifies the run (with the key)
    end: Point
    resolved: Point


Event = Opened | Closed


class RunTracker:
    """Follows the head of the walk and the runs open at it."""

    def __init__(self, head: Point | None = None, open_runs: Mapping[str, Point] | None = None):
        self.head = head
        self._starts: dict[str, Point] = dict(open_runs or {})
        self._keys: frozenset[str] = frozenset(self._starts)
        if head is None and self._starts:
            raise ValueError("open runs without a head commit")

    @property
    def open_keys(self) -> frozenset[str]:
        return self._keys

    def start_of(self, key: str) -> Point | None:
        return self._starts.get(key)

    def advance(self, point: Point, keys: frozenset[str]) -> list[Event]:
        """The next walked commit and its state's finding keys; the runs it closes and
        opens (closes first, each group sorted by key)."""
        if self.head is not None and point.seq <= self.head.seq:
            raise ValueError(f"walk order goes back: {point.seq} after {self.head.seq}")
        events: list[Event] = []
        # the common case, a commit with its parent's state, is an identity check
        if keys is not self._keys and keys != self._keys:
            previous = self.head
            for key in sorted(self._keys - keys):
                assert previous is not None  # keys are open only after a first commit
                events.append(Closed(key, self._starts.pop(key), previous, point))
            for key in sorted(keys - self._keys):
                self._starts[key] = point
                events.append(Opened(key, point))
            self._keys = keys
        self.head = point
        return events


def rewind(runs: Iterable[Run], base: Point | None, old_head: Point | None) -> list[Run]:
    """The runs after a history rewrite that keeps the commits up to ``base`` (None:
    none of them) and abandons the rest, whose last walked commit was ``old_head``.

    Runs that began in the abandoned commits stay as history, unreachable, closed at
    the old head if they were open; runs alive at ``base`` are reopened, so the new
    commits continue them (and the finding keeps its ``introduced_in``).
    """
    base_seq = base.seq if base is not None else -1
    out = []
    for run in runs:
        if not run.reachable:
            out.append(run)
        elif run.start.seq > base_seq:
            end = run.end if run.end is not None else old_head
            out.append(dataclasses.replace(run, end=end, reachable=False))
        elif run.end is None or run.end.seq >= base_seq:
            out.append(dataclasses.replace(run, end=None, resolved=None))
        else:
            out.append(run)
    return out


def apply(runs: Sequence[Run], events: Iterable[Event]) -> list[Run]:
    """``runs`` with ``events`` applied: an opened run is added, a closed one ended."""
    out = list(runs)
    index = {(r.key, r.start): i for i, r in enumerate(out) if r.reachable and r.is_open}
    for event in events:
        if isinstance(event, Opened):
            index[(event.key, event.start)] = len(out)
            out.append(Run(event.key, event.start))
        else:
            i = index.pop((event.key, event.start))
            out[i] = dataclasses.replace(out[i], end=event.end, resolved=event.resolved)
    return out


def open_runs(runs: Iterable[Run]) -> dict[str, Point]:
    """key -> start of the open reachable runs (what a :class:`RunTracker` resumes from)."""
    return {r.key: r.start for r in runs if r.reachable and r.is_open}
