"""Environment snapshots stored by their parts, each part once by content.

Consecutive commits share almost all of their facts, but an environment whose one file
changed is a new snapshot; stored whole (one JSON document, 650 KB on a real
repository) each new snapshot copied everything again. Here a snapshot is cut into
*parts*, each stored once in ``env_parts`` under the sha256 of its JSON:

- each run of consecutive facts of one type from one file (facts are kept in the
  snapshot's order, so concatenating the runs gives the same tuple back: a file's
  facts change together when its blob changes, and one part per file and type
  measured as small as one part per fact with a quarter of the references);
- each file assignment (path and why it is in the environment).

The ``environments`` row keeps the name, role and the rest of the header (JSON in
``data``) and the packed id lists of its file and fact parts (:mod:`.refs`). Parts and
environments are shared by every repository of the store; collectors of different
repositories may write the same ones at once, so rows are inserted with
"on conflict do nothing", in hash order (two transactions never wait on each other in
opposite orders), and read back by hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, insert, select

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
    header: str  # JSON of what is neither a file nor a fact (origin, entrypoints, observed)
    files: tuple[str, ...]  # part hashes, one per file assignment
    facts: tuple[str, ...]  # part hashes, one per run of facts
    parts: dict[str, str]  # hash -> JSON of every part named above


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


class Encoder:
    """Cuts environments into parts, remembering the hashes of parts it has seen (a
    new snapshot differs from the last one by a file or two)."""

    MAX_MEMO = 200_000

    def __init__(self) -> None:
        self._memo: dict[FileAssignment | tuple[Fact, ...], tuple[str, str]] = {}

    def _remember(self, key: FileAssignment | tuple[Fact, ...], value: Any) -> tuple[str, str]:
        if len(self._memo) >= self.MAX_MEMO:
            self._memo.clear()
        text = _dumps(value)
        known = self._memo[key] = (_sha(text), text)
        return known

    def encode(self, env: EnvironmentSnapshot) -> Encoded:
        parts: dict[str, str] = {}
        files: list[str] = []
        for a in env.files:
            h, text = self._memo.get(a) or self._remember(a, [a.path, a.reason])
            parts[h] = text
            files.append(h)
        facts: list[str] = []
        for run in fact_runs(env.facts):
            h, text = self._memo.get(run) or self._remember(run, [fact_to_dict(f) for f in run])
            parts[h] = text
            facts.append(h)
        header = _dumps(
            {"origin": env.origin, "entrypoints": list(env.entrypoints), "observed": env.observed}
        )
        return Encoded(env.name, env.role, header, tuple(files), tuple(facts), parts)


def decode(row: Any, parts: dict[int, Any]) -> EnvironmentSnapshot:
    """The snapshot of an ``environments`` row, given its parts decoded from JSON."""
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
    )


def _decode_part(text: str) -> list[Fact] | FileAssignment:
    """A fact run is a list of fact objects; a file assignment is [path, reason]."""
    value = json.loads(text)
    if value and isinstance(value[0], str):
        return FileAssignment(*value)
    return [fact_from_dict(f) for f in value]


# ------------------------------------------------------------------ writing


def _upsert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows whose content_hash is not stored yet, in hash order."""
    if not rows:
        return
    rows = sorted(rows, key=lambda r: str(r["content_hash"]))
    dialect = conn.dialect.name
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as upsert
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert  # type: ignore[assignment]
    else:  # another database: no concurrent collectors of the same content assumed
        known = _ids_by_hash(conn, table, [str(r["content_hash"]) for r in rows])
        fresh = [r for r in rows if r["content_hash"] not in known]
        if fresh:
            conn.execute(insert(table), fresh)
        return
    for batch in chunks(rows, 200):
        conn.execute(
            upsert(table).on_conflict_do_nothing(index_elements=["content_hash"]), list(batch)
        )


def _ids_by_hash(conn: Connection, table: Table, hashes: Sequence[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for batch in chunks(sorted(set(hashes))):
        for h, i in conn.execute(
            select(table.c.content_hash, table.c.id).where(table.c.content_hash.in_(batch))
        ):
            out[str(h)] = int(i)
    return out


class EnvironmentWriter:
    """Writes environments by parts and remembers the ids of what the store holds.

    Its memory of ids is only extended by :meth:`commit` after the caller's transaction
    committed: ids read or written in a transaction that rolled back are forgotten.
    """

    def __init__(self) -> None:
        self.encoder = Encoder()
        self._env_ids: dict[str, int] = {}
        self._part_ids: dict[str, int] = {}
        self._staged_envs: dict[str, int] = {}
        self._staged_parts: dict[str, int] = {}

    def ids(
        self, conn: Connection, envs: Iterable[tuple[str, EnvironmentSnapshot]]
    ) -> dict[str, int]:
        """environment hash -> row id for ``envs`` (hash, snapshot), writing the new ones
        (and their new parts) in ``conn``'s transaction."""
        wanted = {h: env for h, env in envs}
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
        part_ids = self.part_ids(conn, {h: t for e in new.values() for h, t in e.parts.items()})
        _upsert(
            conn,
            s.environments,
            [
                {
                    "content_hash": h,
                    "name": e.name,
                    "role": e.role,
                    "data": e.header,
                    "files": pack(part_ids[p] for p in e.files),
                    "facts": pack(part_ids[p] for p in e.facts),
                }
                for h, e in new.items()
            ],
        )
        written = _ids_by_hash(conn, s.environments, list(new))
        out.update(written)
        self._staged_envs.update(written)
        return out

    def part_ids(self, conn: Connection, parts: dict[str, str]) -> dict[str, int]:
        out = {h: self._part_ids[h] for h in parts if h in self._part_ids}
        out.update({h: self._staged_parts[h] for h in parts if h in self._staged_parts})
        missing = [h for h in parts if h not in out]
        if missing:
            found = _ids_by_hash(conn, s.env_parts, missing)
            _upsert(
                conn,
                s.env_parts,
                [{"content_hash": h, "data": parts[h]} for h in missing if h not in found],
            )
            if len(found) < len(missing):
                found = _ids_by_hash(conn, s.env_parts, missing)
            out.update(found)
            self._staged_parts.update(found)
        return out

    def commit(self) -> None:
        """The caller's transaction committed: what it wrote is known from now on."""
        self._env_ids.update(self._staged_envs)
        self._part_ids.update(self._staged_parts)
        self.rollback()

    def rollback(self) -> None:
        self._staged_envs.clear()
        self._staged_parts.clear()


# ------------------------------------------------------------------ reading


def load(conn: Connection, env_ids: Iterable[int]) -> dict[int, EnvironmentSnapshot]:
    """The snapshots of ``environments`` rows by id (missing ids are left out)."""
    e = s.environments.c
    rows: list[Any] = []
    for batch in chunks(sorted(set(env_ids))):
        rows.extend(
            conn.execute(
                select(e.id, e.name, e.role, e.data, e.files, e.facts).where(e.id.in_(batch))
            )
        )
    part_ids = sorted({i for row in rows for i in (*unpack(row.files), *unpack(row.facts))})
    parts: dict[int, Any] = {}
    p = s.env_parts.c
    for batch in chunks(part_ids):
        for pid, data in conn.execute(select(p.id, p.data).where(p.id.in_(batch))):
            parts[int(pid)] = _decode_part(data)
    return {int(row.id): decode(row, parts) for row in rows}
