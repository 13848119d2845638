"""Findings stored once per repository, and listed in order by each state.

A finding that stays the same over 300 states of a history is one ``findings`` row,
and each state lists the ids of its findings in order (``states.finding_ids``, packed
by :mod:`.refs`) with their counts per status and severity (``states.counts``). Only
one collector writes a repository at a time (the lease of :mod:`.lock`), so the rows
of a repo need no conflict handling; its writer remembers them by value.
"""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, insert, select

from depaudit.model import Finding, finding_fields
from depaudit.store import schema as s
from depaudit.store.parts import chunks

FIELDS = tuple(f.name for f in dataclasses.fields(Finding))


def counts_of(findings: Iterable[Finding]) -> dict[str, dict[str, int]]:
    """{status: {severity: n}}: what the timeline shows of a state."""
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for f in findings:
        out[f.status][f.severity] = out[f.status].get(f.severity, 0) + 1
    return {status: dict(sorted(per.items())) for status, per in sorted(out.items())}


def counts_json(findings: Iterable[Finding]) -> str:
    return json.dumps(counts_of(findings), sort_keys=True, separators=(",", ":"))


def finding_of(row: Any) -> Finding:
    return Finding(**{name: getattr(row, name) for name in FIELDS})


def insert_returning_ids(conn: Connection, table: Any, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert ``rows``; their new ids in the same order."""
    if not rows:
        return []
    if conn.dialect.insert_executemany_returning_sort_by_parameter_order:
        result = conn.execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True), list(rows)
        )
        return [int(i) for i in result.scalars()]
    ids = []
    for row in rows:  # a driver without ordered RETURNING: one statement per row
        key = conn.execute(insert(table).values(row)).inserted_primary_key
        assert key is not None
        ids.append(int(key[0]))
    return ids


def load(conn: Connection, *, repo_id: int, ids: Iterable[int] | None = None) -> dict[int, Finding]:
    """Findings of a repo by id: all of them, or those of ``ids``."""
    f = s.findings.c
    columns = [f.id, *(getattr(f, name) for name in FIELDS)]
    out: dict[int, Finding] = {}
    if ids is None:
        for row in conn.execute(select(*columns).where(f.repo_id == repo_id)):
            out[int(row.id)] = finding_of(row)
        return out
    for batch in chunks(sorted(set(ids))):
        for row in conn.execute(select(*columns).where(f.id.in_(batch))):
            out[int(row.id)] = finding_of(row)
    return out


class FindingWriter:
    """Writes the findings of one repository, each distinct finding once.

    What the repo holds is read on the first new state (a collect with nothing new
    reads nothing). Ids written in a transaction are remembered only after
    :meth:`commit`, so a batch that rolled back leaves no id behind.
    """

    def __init__(self, repo_id: int) -> None:
        self.repo_id = repo_id
        self._ids: dict[Finding, int] | None = None
        self._keys: dict[int, str] = {}
        self._staged: dict[Finding, int] = {}

    def _known(self, conn: Connection) -> dict[Finding, int]:
        if self._ids is None:
            stored = load(conn, repo_id=self.repo_id)
            self._ids = {finding: i for i, finding in stored.items()}
            self._keys = {i: finding.key for i, finding in stored.items()}
        return self._ids

    def ids(self, conn: Connection, findings: Sequence[Finding]) -> list[int]:
        """The row ids of ``findings`` in order, inserting the new ones."""
        known = self._known(conn)
        fresh: dict[Finding, None] = {}
        for f in findings:
            if f not in known and f not in self._staged:
                fresh[f] = None
        if fresh:
            rows = [{"repo_id": self.repo_id, **finding_fields(f)} for f in fresh]
            self._staged.update(
                zip(fresh, insert_returning_ids(conn, s.findings, rows), strict=True)
            )
        return [known[f] if f in known else self._staged[f] for f in findings]

    def keys_of(self, conn: Connection, ids: Iterable[int]) -> frozenset[str]:
        """The finding keys of stored finding ids."""
        self._known(conn)
        return frozenset(self._keys[i] for i in ids)

    def commit(self) -> None:
        if self._staged:
            known = self._ids if self._ids is not None else {}
            known.update(self._staged)
            self._keys.update({i: f.key for f, i in self._staged.items()})
            self._ids = known
        self._staged = {}

    def rollback(self) -> None:
        self._staged = {}
