"""Ordered lists of row ids packed into one text column. Pure, no I/O.

An environment lists hundreds of parts and a state thousands of findings; one row per
reference would cost more than the data it points at (a row and an index entry each,
about 40 bytes on PostgreSQL). Packed, a list is one column: the first id, then the
difference to each next one. Ids of rows written together are consecutive, so most
differences are one or two digits.

    pack([1203, 1204, 1205, 1190]) == "1203,1,1,-15"
"""

from __future__ import annotations

from collections.abc import Iterable


class RefsError(ValueError):
    """A packed list that this module did not write."""


def pack(ids: Iterable[int]) -> str:
    out: list[str] = []
    previous = 0
    for i in ids:
        out.append(str(i - previous))
        previous = i
    return ",".join(out)


def unpack(packed: str) -> list[int]:
    if not packed:
        return []
    ids: list[int] = []
    current = 0
    try:
        for delta in packed.split(","):
            current += int(delta)
            ids.append(current)
    except ValueError:
        raise RefsError(f"not a packed id list: {packed[:40]!r}") from None
    return ids
