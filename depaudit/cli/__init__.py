"""``depaudit`` command line: the only place that wires collectors, rules, store and reports.

Each sub-command lives in its own module and registers itself on :data:`app` when that
module is imported. :func:`main` imports only the module of the command it runs, so a CI
gate's ``depaudit check`` does not pay for building and importing the store, dashboard and
live commands (start-up is most of a small repository's check); ``depaudit --help``, an
unknown command and :func:`load_commands` with no argument import them all.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterable

from depaudit.cli.app import EXIT_USAGE, app

# command -> the module under depaudit.cli that registers it, in the order help lists them
COMMAND_MODULES: dict[str, str] = {
    "check": "check",
    "collect": "collect",
    "dashboard": "dashboard",
    "demo": "demo",
    "live": "live",
    "report": "report",
    "history": "report",
    "split": "split",
}


def load_commands(commands: Iterable[str] = COMMAND_MODULES) -> None:
    """Register ``commands`` (all by default) on :data:`app` by importing their modules."""
    for module in dict.fromkeys(COMMAND_MODULES[name] for name in commands):
        importlib.import_module(f"depaudit.cli.{module}")


def main() -> None:
    """Run the CLI; an unexpected error is one line on stderr, not a traceback.

    Set ``DEPAUDIT_DEBUG=1`` to see the traceback when reporting a bug.
    """
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    load_commands([command] if command in COMMAND_MODULES else COMMAND_MODULES)
    try:
        app()
    except KeyboardInterrupt:
        print("depaudit: interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("DEPAUDIT_DEBUG"):
            raise
        print(
            f"depaudit: internal error: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
            " (DEPAUDIT_DEBUG=1 shows details)",
            file=sys.stderr,
        )
        sys.exit(EXIT_USAGE)


__all__ = ["COMMAND_MODULES", "app", "load_commands", "main"]
