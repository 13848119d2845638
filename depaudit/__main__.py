"""``python -m depaudit`` runs the CLI."""

from depaudit.cli import main

main()
