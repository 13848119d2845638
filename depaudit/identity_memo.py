"""Values derived from an object, kept by the object's identity.

A history's states share almost all their objects: the blob cache hands out the same fact
objects for an unchanged file, and the snapshot builder the same environment for one whose
files did not change. Hashing such an object to look it up in an ordinary memo costs about
as much as deriving the value again (a module fact hashes all its definitions), so the
collect path keys its memos by ``id``. An entry keeps its object alive, so that an id is
never another object's while it is in the memo; the memo is bounded, and cleared whole
when full (the objects that recur are the recent ones).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class IdentityMemo(Generic[K, V]):
    """``derive(obj)`` computed once per object while the object is in the memo."""

    def __init__(self, derive: Callable[[K], V], limit: int) -> None:
        self._derive = derive
        self._limit = limit
        self._entries: dict[int, tuple[K, V]] = {}

    def __call__(self, obj: K) -> V:
        known = self._entries.get(id(obj))
        if known is not None and known[0] is obj:
            return known[1]
        if len(self._entries) >= self._limit:
            self._entries.clear()
        value = self._derive(obj)
        self._entries[id(obj)] = (obj, value)
        return value


__all__ = ["IdentityMemo"]
