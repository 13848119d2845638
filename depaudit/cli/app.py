"""The Typer application and helpers shared by the sub-commands.

Heavy modules (pandas, streamlit, sqlalchemy) are imported inside the commands that need
them so that ``depaudit --help`` and a no-op ``collect`` start fast.
"""

from __future__ import annotations

import sys
from typing import NoReturn

import typer

from depaudit.dburl import DEFAULT_DB_PATH, default_db_url, normalize_db_url

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

__all__ = ["DEFAULT_DB_PATH", "app", "default_db_url", "fail", "log", "normalize_db_url"]


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
