"""``depaudit`` command line: the only place that wires collectors, rules, store and reports.

Each sub-command lives in its own module and registers itself on :data:`app`.
"""

from __future__ import annotations

import os
import sys

# Importing the command modules registers their commands on ``app``.
from depaudit.cli import check as _check  # noqa: F401
from depaudit.cli import collect as _collect  # noqa: F401
from depaudit.cli import dashboard as _dashboard  # noqa: F401
from depaudit.cli import demo as _demo  # noqa: F401
from depaudit.cli import live as _live  # noqa: F401
from depaudit.cli import report as _report  # noqa: F401
from depaudit.cli import split as _split  # noqa: F401
from depaudit.cli.app import EXIT_USAGE, app


def main() -> None:
    """Run the CLI; an unexpected error is one line on stderr, not a traceback.

    Set ``DEPAUDIT_DEBUG=1`` to see the traceback when reporting a bug.
    """
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


__all__ = ["app", "main"]
