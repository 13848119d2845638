"""Environments (and a state's unassigned paths) stored by parts, each part once.

Consecutive commits share almost all of their facts, but an environment whose one file
changed is a new snapshot; stored whole (one JSON document, 650 KB on a real
repository) each new snapshot copied everything again. Here a snapshot is cut into
*parts*, each stored once in ``parts`` under the sha256 of its JSON:

- each run of consecutive facts of one type from one file, as ``[fact dict, ...]``
  (facts keep the snapshot's order, so concatenating the runs gives the same tuple
  back; a file's facts change together when its blob changes, and one part per file
  and type measured as small as one part per fact with a fifth of the references);
- each file assignment, as ``[path, reason]``;
- each unassigned path of a state, as ``"path"``.

An ``environments`` row keeps the name, the role, the rest of the header (JSON in
``data``) and the packed id lists of its file and fact parts (:mod:`.refs`).

Parts and environments are shared by every repository of the store, and collectors of
different repositories may write the same ones at once. Parts are inserted in the order
they are first listed (so reference lists pack into runs) with "on conflict do
nothing", and read back by hash; on PostgreSQL a transaction-scoped advisory lock makes
collectors insert parts one transaction at a time, or two inserting the same new parts
in different orders would deadlock (SQLite has one writer at a time anyway).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, insert, select, text

from depaudit.model import (
    EnvironmentSnapshot,
    Fact,
    FileAssignment,
    fact_from_dict,
    fact_to_dict,
)
from depaudit.store import schema as s
from depaudit.store.refs import pack, unpack

_CHUNK = 500  # ids per IN (...): well under every driver's parameter limit
# pg_advisory_xact_lock key of "inserting parts" (any constant no other code uses)
_PG_PARTS_LOCK = 0x6465_7061_7274  # "departs"


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


@dataclass(frozen=True, slots=True)
class Encoded:
    """An environment cut into parts: the header row and the parts' hashes in order."""

    name: str
    role: str
    header: str  # JSON of the rest: origin, entrypoints, observed, project (if any)
    files: tuple[str, ...]  # part hashes, one per file assignment
    facts: tuple[str, ...]  # part hashes, one per run of facts
    parts: dict[str, Any]  # hash -> what the part is made of (its JSON: part_json)


def fact_runs(facts: Iterable[Fact]) -> list[tuple[Fact, ...]]:
    """Maximal runs of consecutive facts with the same type and file."""
    runs: list[tuple[Fact, ...]] = []
    current: list[Fact] = []
    key: tuple[type, str] | None = None
    for fact in facts:
        k = (type(fact), getattr(fact, "file", ""))
        if k != key and current:
            runs.append(tuple(current))
            current = []
        key = k
        current.append(fact)
    if current:
        runs.append(tuple(current))
    return runs


def part_json(key: Any) -> str:
    """The JSON of a part: a fact run, a file assignment or a path."""
    if isinstance(key, FileAssignment):
        return _dumps([key.path, key.reason])
    if isinstance(key, str):
        return _dumps(key)
    return _dumps([fact_to_dict(f) for f in key])


class Encoder:
    """Cuts environments into parts, remembering the hashes of the parts it has seen (a
    new snapshot differs from the last one by a file or two). Only hashes are kept: a
    part's JSON is made again in the rare case it has to be written."""

    MAX_MEMO = 100_000

    def __init__(self) -> None:
        self._memo: dict[Any, str] = {}
        # a fact run by the ids of its facts: hashing the run itself hashes every field of
        # every fact (a module's definitions), as costly as its JSON; the run is kept with
        # the hash so that its ids stay its own while it is in the memo
        self._runs: dict[tuple[int, ...], tuple[tuple[Fact, ...], str]] = {}

    def hash(self, key: Any) -> str:
        if isinstance(key, tuple):
            return self._run_hash(key)
        known = self._memo.get(key)
        if known is None:
            if len(self._memo) >= self.MAX_MEMO:
                self._memo.clear()
            known = self._memo[key] = _sha(part_json(key))
        return known

    def _run_hash(self, run: tuple[Fact, ...]) -> str:
        ids = tuple(map(id, run))
        known = self._runs.get(ids)
        if known is not None and all(a is b for a, b in zip(known[0], run, strict=True)):
            return known[1]
        if len(self._runs) >= self.MAX_MEMO:
            self._runs.clear()
        digest = _sha(part_json(run))
        self._runs[ids] = (run, digest)
        return digest

    def encode(self, env: EnvironmentSnapshot) -> Encoded:
        parts: dict[str, Any] = {}
        files: list[str] = []
        for a in env.files:
            h = self.hash(a)
            parts[h] = a
            files.append(h)
        facts: list[str] = []
        for run in fact_runs(env.facts):
            h = self.hash(run)
            parts[h] = run
            facts.append(h)
        header = _dumps(
            {
                "origin": env.origin,
                "entrypoints": list(env.entrypoints),
                "observed": env.observed,
                **({"project": env.project} if env.project else {}),
            }
        )
        return Encoded(env.name, env.role, header, tuple(files), tuple(facts), parts)


def decode_part(text: str) -> list[Fact] | FileAssignment | str:
    """A fact run is a list of facts, a file assignment [path, reason], a path a string."""
    value = json.loads(text)
    if isinstance(value, str):
        return value
    if value and isinstance(value[0], str):
        return FileAssignment(*value)
    return [fact_from_dict(f) for f in value]


def decode(row: Any, parts: dict[int, Any]) -> EnvironmentSnapshot:
    """The snapshot of an ``environments`` row, given its parts decoded."""
    header = json.loads(row.data)
    facts: list[Fact] = []
    for part_id in unpack(row.facts):
        facts.extend(parts[part_id])
    return EnvironmentSnapshot(
        name=row.name,
        role=row.role,
        origin=header["origin"],
        files=tuple(parts[i] for i in unpack(row.files)),
        facts=tuple(facts),
        entrypoints=tuple(header.get("entrypoints", ())),
        observed=bool(header.get("observed", False)),
        project=str(header.get("project", "")),
    )


# ------------------------------------------------------------------ writing


def _insert_new(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows whose content_hash is not stored yet, in the given order."""
    if not rows:
        return
    dialect = conn.dialect.name
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as upsert
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert  # type: ignore[assignment]
    else:  # another database: no concurrent collectors of the same content assumed
        conn.execute(insert(table), rows)
        return
    for batch in chunks(rows, 200):
        conn.execute(
            upsert(table).on_conflict_do_nothing(index_elements=["content_hash"]), list(batch)
        )


def _ids_by_hash(conn: Connection, table: Table, hashes: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for batch in chunks(sorted(set(hashes))):
        for h, i in conn.execute(
            select(table.c.content_hash, table.c.id).where(table.c.content_hash.in_(batch))
        ):
            out[str(h)] = int(i)
    return out


def _lock_for_insert(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_PARTS_LOCK})


class PartWriter:
    """Writes parts and environments and remembers the ids of what the store holds.

    Its memory of ids is only extended by :meth:`commit` after the caller's transaction
    committed: ids read or written in a transaction that rolled back are forgotten.
    """

    def __init__(self) -> None:
        self.encoder = Encoder()
        self._env_ids: dict[str, int] = {}
        self._part_ids: dict[str, int] = {}
        self._staged_envs: dict[str, int] = {}
        self._staged_parts: dict[str, int] = {}

    def environment_ids(
        self, conn: Connection, envs: Iterable[tuple[str, EnvironmentSnapshot]]
    ) -> dict[str, int]:
        """environment hash -> row id for ``envs`` (hash, snapshot), writing the new ones
        (and their new parts) in ``conn``'s transaction."""
        wanted = dict(envs)
        out = {h: self._env_ids[h] for h in wanted if h in self._env_ids}
        out.update({h: self._staged_envs[h] for h in wanted if h in self._staged_envs})
        missing = [h for h in wanted if h not in out]
        if not missing:
            return out
        found = _ids_by_hash(conn, s.environments, missing)
        out.update(found)
        self._staged_envs.update(found)
        new = {h: self.encoder.encode(wanted[h]) for h in missing if h not in found}
        if not new:
            return out
        parts = {h: t for e in new.values() for h, t in e.parts.items()}
        part_ids = self.part_ids(conn, parts)
        rows = [
            {
                "content_hash": h,
                "name": e.name,
                "role": e.role,
                "data": e.header,
                "files": pack(part_ids[p] for p in e.files),
                "facts": pack(part_ids[p] for p in e.facts),
            }
            for h, e in new.items()
        ]
        _insert_new(conn, s.environments, rows)
        written = _ids_by_hash(conn, s.environments, new)
        out.update(written)
        self._staged_envs.update(written)
        return out

    def part_ids(self, conn: Connection, parts: dict[str, Any]) -> dict[str, int]:
        """part hash -> row id for ``parts`` (hash -> what it is made of, in the order
        first listed), inserting the new ones in that order."""
        out = {h: self._part_ids[h] for h in parts if h in self._part_ids}
        out.update({h: self._staged_parts[h] for h in parts if h in self._staged_parts})
        missing = [h for h in parts if h not in out]
        if missing:
            _lock_for_insert(conn)
            found = _ids_by_hash(conn, s.parts, missing)
            fresh = [
                {"content_hash": h, "data": part_json(parts[h])} for h in missing if h not in found
            ]
            if fresh:
                _insert_new(conn, s.parts, fresh)
                found = _ids_by_hash(conn, s.parts, missing)
            out.update(found)
            self._staged_parts.update(found)
        return out

    def path_ids(self, conn: Connection, paths: Sequence[str]) -> list[int]:
        """The part ids of ``paths``, in order."""
        hashes = [self.encoder.hash(p) for p in paths]
        ids = self.part_ids(conn, dict(zip(hashes, paths, strict=True)))
        return [ids[h] for h in hashes]

    def commit(self) -> None:
        """The caller's transaction committed: what it wrote is known from now on."""
        self._env_ids.update(self._staged_envs)
        self._part_ids.update(self._staged_parts)
        self.rollback()

    def rollback(self) -> None:
        self._staged_envs.clear()
        self._staged_parts.clear()


# ------------------------------------------------------------------ reading


def load_parts(conn: Connection, part_ids: Iterable[int]) -> dict[int, Any]:
    """Decoded parts by id."""
    parts: dict[int, Any] = {}
    p = s.parts.c
    for batch in chunks(sorted(set(part_ids))):
        for pid, data in conn.execute(select(p.id, p.data).where(p.id.in_(batch))):
            parts[int(pid)] = decode_part(data)
    return parts


def load_environments(conn: Connection, env_ids: Iterable[int]) -> dict[int, EnvironmentSnapshot]:
    """The snapshots of ``environments`` rows by id (missing ids are left out)."""
    e = s.environments.c
    rows: list[Any] = []
    for batch in chunks(sorted(set(env_ids))):
        rows.extend(
            conn.execute(
                select(e.id, e.name, e.role, e.data, e.files, e.facts).where(e.id.in_(batch))
            )
        )
    parts = load_parts(conn, (i for row in rows for i in (*unpack(row.files), *unpack(row.facts))))
    return {int(row.id): decode(row, parts) for row in rows}


def load_paths(conn: Connection, packed: str) -> list[str]:
    """The paths of a packed list of path parts, in order."""
    ids = unpack(packed)
    parts = load_parts(conn, ids)
    return [parts[i] for i in ids]
