"""Shared: what is standardized between training and serving (the good news)."""

from __future__ import annotations

import streamlit as st

from depaudit.dashboard import charts, frames, queries, widgets

st.title("Shared by training and serving")
st.caption(
    "What must be standardized (OS, Python, inference libraries, inference code) and already is."
)

store = widgets.open_store()
repo = widgets.pick_repo(store) if store else None
if store is not None and repo is not None:
    sha = widgets.pick_commit(store, repo)
    if sha is not None:
        try:
            found = queries.findings(store.url, store.marker, repo, sha)
            timeline = queries.timeline_frame(store.url, store.marker, repo)
        except queries.StoreUnavailable as exc:
            st.warning(str(exc))
            st.stop()
        project = widgets.pick_project(store, repo, sha)
        # one row per fact, however many pairs of its project saw it
        facts = frames.group_by_fact(frames.in_project(found, project))
        shared = (
            facts[facts["status"] == "shared"].sort_values(["kind", "item"]).reset_index(drop=True)
        )
        compared = facts[facts["status"] != "error"]
        cols = st.columns(3)
        cols[0].metric("shared items", len(shared))
        cols[1].metric("compared items", len(compared))
        cols[2].metric(
            "shared share", f"{len(shared) / len(compared):.0%}" if len(compared) else "n/a"
        )
        kinds = widgets.multi_filter("Kind", sorted(set(shared["kind"])), param="kind")
        shown = frames.filter_findings(shared, kinds=kinds)
        if shared.empty:
            st.info("Nothing is shared at this commit.")
        else:
            widgets.findings_table(
                shown,
                columns=[
                    "kind",
                    "item",
                    "training",
                    "serving",
                    "rule_url",
                    "rule_title",
                    "pairs",
                    "introduced_at",
                    "message",
                ],
                key="shared",
                file_name=f"depaudit-{repo}-shared.csv",
            )
        st.plotly_chart(charts.shared_share_chart(timeline), key="shared_share")
