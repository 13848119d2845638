"""The Typer application and helpers shared by the sub-commands.

Heavy modules (pandas, streamlit, sqlalchemy) are imported inside the commands that need
them so that ``depaudit --help`` and a no-op ``collect`` start fast.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NoReturn

import typer

app = typer.Typer(
    name="depaudit",
    help="Audit ML repositories for training code, libraries, config and access leaking into serving.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2

DEFAULT_DB_PATH = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "depaudit" / "depaudit.db"


def default_db_url() -> str:
    """``$DEPAUDIT_DB``, else the embedded SQLite file under the user's data directory."""
    env = os.environ.get("DEPAUDIT_DB")
    if env:
        return env if "://" in env else f"sqlite:///{Path(env).expanduser().resolve()}"
    return f"sqlite:///{DEFAULT_DB_PATH}"


def normalize_db_url(value: str | None) -> str:
    if not value:
        return default_db_url()
    return value if "://" in value else f"sqlite:///{Path(value).expanduser().resolve()}"


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print one line to stderr and exit: the user never sees a traceback."""
    print(f"depaudit: error: {message}", file=sys.stderr)
    raise typer.Exit(code)


def log(message: str) -> None:
    """Progress and logs go to stderr so reports on stdout stay clean."""
    print(message, file=sys.stderr)


@app.callback()
def _root() -> None:
    """depaudit: find training code, libraries, config and access that leaked into serving."""
