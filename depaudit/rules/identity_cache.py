"""Memoising per-snapshot views that several rules of one comparison share.

Five package rules need the same merged view of a snapshot, four config rules the same
key groups, four network rules the same classified targets. Snapshots and knowledge are
immutable, so a view can be reused while the *same objects* are being compared. Keys are
compared by identity (hashing a snapshot of thousands of facts would cost as much as the
view) and the cached entry holds references to its arguments, so an id is never reused
while its entry is alive. A few entries are enough: one comparison touches two snapshots.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

ResultT = TypeVar("ResultT")
_SIZE = 8


def by_identity(fn: Callable[..., ResultT]) -> Callable[..., ResultT]:
    """Cache ``fn``'s result for the last few argument tuples, compared with ``is``."""
    entries: list[tuple[tuple[Any, ...], ResultT]] = []
    lock = threading.Lock()

    @functools.wraps(fn)
    def wrapper(*args: Any) -> ResultT:
        with lock:
            for key, value in entries:
                if len(key) == len(args) and all(a is b for a, b in zip(key, args, strict=True)):
                    return value
        value = fn(*args)
        with lock:
            entries.insert(0, (args, value))
            del entries[_SIZE:]
        return value

    return wrapper
