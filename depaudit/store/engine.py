"""Open the store: SQLite (WAL) by default, PostgreSQL or any SQLAlchemy URL unchanged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

# A second collector (or the dashboard) waits this long for SQLite's write lock
# instead of failing at once with "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 30_000
# The databases the store is written and tested for.
SUPPORTED_BACKENDS = ("sqlite", "postgresql")


class StoreError(Exception):
    """A store that cannot be opened; the message is one line for the user."""


def display_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(invalid URL)"


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///PATH`` URL, None for other databases or in-memory."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"not a database URL: {url!r}") from None
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        database = database[5:]
    return Path(database)


def open_engine(url: str, *, read_only: bool = False) -> Engine:
    """An engine for ``url``. SQLite gets WAL, a busy timeout and foreign keys.

    ``read_only`` opens a SQLite file with ``mode=ro`` (the dashboard and reports can
    never write, and never create an empty store by accident).
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"not a database URL: {url!r}") from None
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        # before SQLAlchemy tries the dialect's driver ("No module named 'MySQLdb'")
        shown = parsed.render_as_string(hide_password=True)
        raise StoreError(f"{shown}: unsupported store URL (sqlite or postgresql)")
    if backend != "sqlite":
        try:
            return create_engine(url, pool_pre_ping=True)
        except (ArgumentError, ImportError) as exc:
            raise StoreError(
                f"cannot open {parsed.render_as_string(hide_password=True)}: {exc}"
            ) from None

    path = sqlite_path(url)
    connect_args: dict[str, Any] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    if path is not None and read_only:
        if not path.exists():
            raise StoreError(f"no depaudit store at {path} (run `depaudit collect` first)")
        engine = create_engine(
            f"sqlite:///file:{path.resolve()}?mode=ro&uri=true",
            connect_args={**connect_args, "uri": True},
        )
    else:
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create {path.parent}: {exc.strerror}") from None
        engine = create_engine(url, connect_args=connect_args)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        if not read_only and path is not None:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    return engine
