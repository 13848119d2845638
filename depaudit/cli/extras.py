"""Optional dependency groups: say which extra to install instead of failing on an import.

``pip install depaudit`` is the light core a CI gate needs (``check``, ``collect``,
``report``, ``history``, ``live``, ``split``). The dashboard's packages (Streamlit, pandas,
plotly: about 570 MB with numpy and pyarrow) come with ``depaudit[dashboard]``. Nothing
here imports them: ``find_spec`` only looks for them, so the check costs no start-up time.
"""

from __future__ import annotations

import importlib.util

from depaudit.cli.app import fail

# What dashboard/ imports; the server itself is started as ``python -m streamlit``.
DASHBOARD_MODULES = ("streamlit", "pandas", "plotly")


def missing_modules(names: tuple[str, ...]) -> list[str]:
    """The top-level modules of ``names`` that cannot be imported here."""
    missing = []
    for name in names:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):  # a broken install or a blocked import
            found = False
        if not found:
            missing.append(name)
    return missing


def require_dashboard_extra(command: str) -> None:
    """Exit 2 with one line naming the extra when the dashboard's packages are missing."""
    missing = missing_modules(DASHBOARD_MODULES)
    if missing:
        fail(
            f"depaudit {command} needs the dashboard extra: pip install 'depaudit[dashboard]'"
            f" (missing: {', '.join(missing)})"
        )
