"""The dashboard's one entrypoint: ``streamlit run dashboard/app.py -- --db URL``.

``depaudit dashboard`` starts it bound to 127.0.0.1. The store URL comes from ``--db``
or ``$DEPAUDIT_DASHBOARD_DB`` / ``$DEPAUDIT_DB`` (see :func:`depaudit.dashboard.queries.store_url`)
and is opened read-only. Pages live in ``dashboard/views/`` and only arrange widgets,
queries and charts.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

# Not "pages/": Streamlit treats a folder of that name as a legacy multipage app and runs
# a deep-linked page (/leftovers?repo=x) without this entrypoint: no navigation, no config.
PAGES_DIR = Path(__file__).resolve().parent / "views"

st.set_page_config(page_title="depaudit", page_icon=":mag:", layout="wide")

pages = [
    # The default page is served at "/"; its url_path only names it internally.
    st.Page(
        PAGES_DIR / "overview.py",
        title="Overview",
        icon=":material/dashboard:",
        url_path="home",
        default=True,
    ),
    # The same page at /overview, so links written by hand (or shared from an older
    # version) work; hidden, so the menu lists Overview once.
    st.Page(
        PAGES_DIR / "overview.py",
        title="Overview",
        icon=":material/dashboard:",
        url_path="overview",
        visibility="hidden",
    ),
    st.Page(
        PAGES_DIR / "leftovers.py",
        title="Leftovers",
        icon=":material/warning:",
        url_path="leftovers",
    ),
    st.Page(
        PAGES_DIR / "drift.py", title="Drift", icon=":material/compare_arrows:", url_path="drift"
    ),
    st.Page(
        PAGES_DIR / "shared.py", title="Shared", icon=":material/handshake:", url_path="shared"
    ),
    st.Page(
        PAGES_DIR / "history.py", title="History", icon=":material/timeline:", url_path="history"
    ),
    st.Page(
        PAGES_DIR / "environment.py",
        title="Environment",
        icon=":material/inventory_2:",
        url_path="environment",
    ),
    st.Page(PAGES_DIR / "rules.py", title="Rules", icon=":material/menu_book:", url_path="rules"),
]

st.navigation(pages).run()
