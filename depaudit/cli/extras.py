"""Optional dependency groups: say which extra to install instead of failing on an import.

``pip install depaudit`` is the light core a CI gate needs (``check``, ``collect``,
``report``, ``history``, ``live``, ``split``). The dashboard's packages (Streamlit, pandas,
plotly: about 570 MB with numpy and pyarrow) come with ``depaudit[dashboard]``, and
pipdeptree, which only ``live --python`` runs, with ``depaudit[live]``. Nothing here imports
them: ``find_spec`` only looks for them, so the check costs no start-up time.
"""

from __future__ import annotations

import importlib.util

from depaudit.cli.app import fail

# What dashboard/ imports; the server itself is started as ``python -m streamlit``.
DASHBOARD_MODULES = ("streamlit", "pandas", "plotly")
# ``live --python`` runs ``python -m pipdeptree --python PATH`` from this environment.
LIVE_MODULES = ("pipdeptree",)


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


def require_extra(command: str, extra: str, modules: tuple[str, ...]) -> None:
    """Exit 2 with one line naming ``extra`` when any of its ``modules`` is missing."""
    missing = missing_modules(modules)
    if missing:
        fail(
            f"depaudit {command} needs the {extra} extra: pip install 'depaudit[{extra}]'"
            f" (missing: {', '.join(missing)})"
        )


def require_dashboard_extra(command: str) -> None:
    require_extra(command, "dashboard", DASHBOARD_MODULES)


def require_live_extra(command: str) -> None:
    require_extra(command, "live", LIVE_MODULES)
