"""``depaudit`` command line: the only place that wires collectors, rules, store and reports.

Each sub-command lives in its own module and registers itself on :data:`app`.
"""

from __future__ import annotations

from depaudit.cli.app import app

# Importing the command modules registers their commands on ``app``.
from depaudit.cli import check as _check  # noqa: E402,F401


def main() -> None:
    app()


__all__ = ["app", "main"]
