"""Migration step 3 -> 4: rewrite a store's environments and findings by content.

Before v4 each environment row held its whole snapshot as JSON and each state its own
copy of every finding. This step, run inside :func:`~depaudit.store.schema.migrate`'s
transaction (a failure leaves the v3 store as it was):

1. cuts every environment into parts (:mod:`.parts`), keeping its id (live
   observations and states point at it) and replacing its ``data`` by the header;
2. replaces each state's JSON list of unassigned paths by references to path parts;
3. moves the findings to one row per distinct finding of a repo, and gives each state
   the ordered list of its findings and their counts.

It works through the store a bounded number of rows at a time, so a store of several
GB is migrated in the memory a collect uses. It is idempotent: a store created at v4
(``create_all``) has nothing to convert.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, inspect, select, text, update

from depaudit.model import EnvironmentSnapshot, Finding
from depaudit.store import schema as s
from depaudit.store.finding_rows import FIELDS, FindingWriter, counts_json
from depaudit.store.parts import PartWriter, chunks
from depaudit.store.refs import pack

_ENV_BATCH = 50  # environments decoded at a time (one can be MBs of JSON)


def compact(conn: Connection) -> None:
    s.parts.create(conn, checkfirst=True)
    _add_columns(
        conn,
        "environments",
        {"files": "TEXT NOT NULL DEFAULT ''", "facts": "TEXT NOT NULL DEFAULT ''"},
    )
    _add_columns(
        conn,
        "states",
        {"finding_ids": "TEXT NOT NULL DEFAULT ''", "counts": "TEXT NOT NULL DEFAULT '{}'"},
    )
    writer = PartWriter()
    _compact_environments(conn, writer)
    _compact_unassigned(conn, writer)
    if "state_id" in _columns(conn, "findings"):
        _compact_findings(conn)


def _columns(conn: Connection, table: str) -> set[str]:
    return {c["name"] for c in inspect(conn).get_columns(table)}


def _add_columns(conn: Connection, table: str, columns: dict[str, str]) -> None:
    have = _columns(conn, table)
    for name, ddl in columns.items():
        if name not in have:
            conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {name} {ddl}")


def _compact_environments(conn: Connection, writer: PartWriter) -> None:
    e = s.environments.c
    # v3 rows are the ones without parts; an empty environment converts to empty lists
    todo = [
        int(i)
        for i in conn.execute(
            select(e.id).where(e.files == "", e.facts == "").order_by(e.id)
        ).scalars()
    ]
    for batch in chunks(todo, _ENV_BATCH):
        rows = conn.execute(select(e.id, e.data).where(e.id.in_(batch))).all()
        for env_id, data in rows:
            doc = json.loads(data)
            if "facts" not in doc and "files" not in doc:
                continue  # already a v4 header
            encoded = writer.encoder.encode(EnvironmentSnapshot.from_dict(doc))
            part_ids = writer.part_ids(conn, encoded.parts)
            conn.execute(
                update(s.environments)
                .where(e.id == env_id)
                .values(
                    data=encoded.header,
                    files=pack(part_ids[h] for h in encoded.files),
                    facts=pack(part_ids[h] for h in encoded.facts),
                )
            )
        writer.commit()


def _compact_unassigned(conn: Connection, writer: PartWriter) -> None:
    st = s.states.c
    for state_id, raw in conn.execute(
        select(st.id, st.unassigned).where(st.unassigned.startswith("[")).order_by(st.id)
    ).all():
        paths = [str(p) for p in json.loads(raw)]
        conn.execute(
            update(s.states)
            .where(st.id == state_id)
            .values(unassigned=pack(writer.path_ids(conn, paths)))
        )
    writer.commit()


def _compact_findings(conn: Connection) -> None:
    """Rename the v3 table away, create the v4 one, move each state's findings."""
    if conn.dialect.name == "postgresql":
        # the new table's primary key index and id sequence take the usual names
        conn.exec_driver_sql("ALTER TABLE findings RENAME TO findings_v3")
        conn.exec_driver_sql("ALTER INDEX IF EXISTS findings_pkey RENAME TO findings_v3_pkey")
        conn.exec_driver_sql(
            "ALTER SEQUENCE IF EXISTS findings_id_seq RENAME TO findings_v3_id_seq"
        )
    else:
        conn.exec_driver_sql("ALTER TABLE findings RENAME TO findings_v3")
    s.findings.create(conn)
    st = s.states.c
    for repo_id in conn.execute(select(s.repos.c.id).order_by(s.repos.c.id)).scalars():
        writer = FindingWriter(int(repo_id))
        state_ids = list(
            conn.execute(select(st.id).where(st.repo_id == repo_id).order_by(st.id)).scalars()
        )
        for state_id in state_ids:
            findings = list(_old_findings(conn, int(state_id)))
            ids = writer.ids(conn, findings)
            writer.commit()
            conn.execute(
                update(s.states)
                .where(st.id == state_id)
                .values(finding_ids=pack(ids), counts=counts_json(findings))
            )
    conn.exec_driver_sql("DROP TABLE findings_v3")


def _old_findings(conn: Connection, state_id: int) -> Iterator[Finding]:
    columns = ", ".join(FIELDS)
    rows: Any = conn.execute(
        text(f"SELECT {columns} FROM findings_v3 WHERE state_id = :sid ORDER BY position"),
        {"sid": state_id},
    )
    for row in rows:
        yield Finding(**dict(zip(FIELDS, row, strict=True)))
