"""Ordered lists of row ids packed into one text column. Pure, no I/O.

An environment lists hundreds of parts and a state thousands of findings; one row per
reference would cost more than the data it points at (a row and an index entry each,
about 40 bytes on PostgreSQL). Packed, a list is one column: the first id, then the
difference to each next one, and a run of equal differences as ``difference*count``.
Rows are written in the order they are first listed, so a new list is mostly a run of
``1`` and a later version of it the same runs with a few jumps:

    pack([1203, 1204, 1205, 1206, 1190]) == "1203,1*3,-16"
"""

from __future__ import annotations

from collections.abc import Iterable

_MIN_RUN = 3  # "1,1" is as short as "1*2"
_MAX_RUN = 10_000_000  # far beyond any list written; a damaged row must not fill memory


class RefsError(ValueError):
    """A packed list that this module did not write."""


def pack(ids: Iterable[int]) -> str:
    out: list[str] = []
    previous = 0
    run_delta, run_length = 0, 0

    def close_run() -> None:
        if run_length >= _MIN_RUN:
            out.append(f"{run_delta}*{run_length}")
        else:
            out.extend([str(run_delta)] * run_length)

    for i in ids:
        delta = i - previous
        previous = i
        if run_length and delta == run_delta:
            run_length += 1
            continue
        close_run()
        run_delta, run_length = delta, 1
    close_run()
    return ",".join(out)


def unpack(packed: str) -> list[int]:
    if not packed:
        return []
    ids: list[int] = []
    current = 0
    try:
        for item in packed.split(","):
            delta, star, count = item.partition("*")
            step, repeat = int(delta), int(count) if star else 1
            if not 0 < repeat <= _MAX_RUN:
                raise ValueError(item)
            for _ in range(repeat):
                current += step
                ids.append(current)
    except ValueError:
        raise RefsError(f"not a packed id list: {packed[:40]!r}") from None
    return ids
