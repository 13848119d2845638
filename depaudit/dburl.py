"""Where the store is: ``--db URL``, else ``$DEPAUDIT_DB``, else the embedded SQLite file.

Shared by the CLI and the dashboard (which must not import the CLI).
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DB_PATH = (
    Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    / "depaudit"
    / "depaudit.db"
)


def default_db_url() -> str:
    """``$DEPAUDIT_DB``, else the embedded SQLite file under the user's data directory."""
    env = os.environ.get("DEPAUDIT_DB")
    if env:
        return normalize_db_url(env)
    return f"sqlite:///{DEFAULT_DB_PATH}"


def normalize_db_url(value: str | None) -> str:
    """A URL for a value that may be a plain file path."""
    if not value:
        return default_db_url()
    return value if "://" in value else f"sqlite:///{Path(value).expanduser().resolve()}"
