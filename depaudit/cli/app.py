"""The Typer application and helpers shared by the sub-commands.

Heavy modules (pandas, streamlit, sqlalchemy) are imported inside the commands that need
them so that ``depaudit --help`` and a no-op ``collect`` start fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from depaudit.dburl import DEFAULT_DB_PATH, default_db_url, normalize_db_url
from depaudit.model import SEVERITY_RANK, Finding

if TYPE_CHECKING:
    from depaudit.config import AuditConfig
    from depaudit.reports.base import ReportRow

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

FORMATS = ("table", "csv", "json", "markdown", "sarif")
FAIL_ON = ("high", "medium", "low", "never")

__all__ = [
    "DEFAULT_DB_PATH",
    "app",
    "check_output_path",
    "default_db_url",
    "fail",
    "failing",
    "log",
    "normalize_db_url",
    "read_config_file",
    "render",
    "write_output",
]


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print one line to stderr and exit: the user never sees a traceback."""
    print(f"depaudit: error: {message}", file=sys.stderr)
    raise typer.Exit(code)


def log(message: str) -> None:
    """Progress and logs go to stderr so reports on stdout stay clean."""
    print(message, file=sys.stderr)


def installed_version() -> str:
    """The installed distribution's version (what pip installed), not a copy in the source."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("depaudit")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def _print_version(value: bool) -> None:
    if value:
        print(f"depaudit {installed_version()}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the installed version and exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """depaudit: find training code, libraries, config and access that leaked into serving."""


def failing(findings: Sequence[Finding], fail_on: str) -> list[Finding]:
    """Findings at or above the ``--fail-on`` severity; ``shared`` is never a failure."""
    if fail_on == "never":
        return []
    floor = SEVERITY_RANK[fail_on]
    return [f for f in findings if f.status != "shared" and SEVERITY_RANK[f.severity] >= floor]


def render(rows: Sequence[ReportRow], format: str, *, to_terminal: bool) -> str:
    """The report text of ``rows`` in ``format`` (``table`` is coloured on a terminal)."""
    from depaudit.reports import report_for
    from depaudit.reports.table_report import TableReport

    if format == "table":
        return TableReport().render(rows, color=to_terminal)
    return report_for(format).render(rows)


def check_output_path(output: Path | None) -> None:
    """Exit 2 with one line before any work if ``output`` cannot be written: an audit of a
    large history should not run only to fail at its last step."""
    if output is None:
        return
    folder = output.parent if str(output.parent) else Path(".")
    if output.is_dir():
        fail(f"{output}: cannot write report: is a directory")
    if not folder.is_dir():
        fail(f"{output}: cannot write report: no such directory {folder}")
    if not os.access(folder, os.W_OK) or (output.exists() and not os.access(output, os.W_OK)):
        fail(f"{output}: cannot write report: permission denied")


def write_output(text: str, output: Path | None) -> None:
    """A report to stdout, or to ``output`` with a one-line error if it cannot be written."""
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, "utf-8")
    except OSError as exc:
        fail(f"{output}: cannot write report: {exc.strerror or exc}")


def read_config_file(config: Path) -> tuple[AuditConfig, str]:
    """``--config FILE``: the parsed config and a hash of its bytes (exit 2 if invalid)."""
    import hashlib

    from depaudit.config import ConfigError, parse_config

    try:
        data = config.read_bytes()
        parsed = parse_config(
            data.decode("utf-8"), str(config), from_pyproject=config.name == "pyproject.toml"
        )
    except OSError as exc:
        fail(f"{config}: cannot read config file: {exc.strerror}")
    except UnicodeDecodeError:
        fail(f"{config}: config file is not UTF-8 text")
    except ConfigError as exc:
        fail(str(exc))
    if parsed is None:
        fail(f"{config}: no [tool.depaudit] table")
    return parsed, hashlib.sha256(data).hexdigest()
