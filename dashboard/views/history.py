"""History: findings per commit over the branch, one commit's findings, and what changed."""

from __future__ import annotations

import streamlit as st

from depaudit.dashboard import charts, frames, queries, widgets
from depaudit.model import STATUSES

st.title("History")

store = widgets.open_store()
repo = widgets.pick_repo(store) if store else None
if store is not None and repo is not None:
    try:
        timeline = queries.timeline_frame(store.url, store.marker, repo)
    except queries.StoreUnavailable as exc:
        st.warning(str(exc))
        st.stop()
    if timeline.empty:
        st.info(f"No commit of {repo} has been collected yet.")
        st.stop()
    status = (
        widgets.single_choice(
            "Findings", [s for s in STATUSES if s != "training_only"], param="status"
        )
        or "leftover"
    )
    event = st.plotly_chart(
        charts.history_chart(timeline, status=status),
        key="history_chart",
        on_select="rerun",
        selection_mode="points",
    )
    # A click on a point selects that commit (its full sha is the last customdata field).
    points = event.get("selection", {}).get("points", []) if event else []
    if points and points[0].get("customdata"):
        clicked = str(points[0]["customdata"][-1])
        if clicked != st.session_state.get("_history_clicked"):
            st.session_state["_history_clicked"] = clicked
            st.query_params["commit"] = clicked
            st.session_state["_keep_commit"] = clicked
            st.session_state.pop("pick_commit", None)
    sha = widgets.pick_commit(store, repo, label="Commit")
    project = widgets.pick_project(store, repo, sha) if sha is not None else None
    if sha is not None:
        # one row per finding and pair: with every project shown, the download is
        # byte for byte `depaudit report --format csv --commit SHA`
        found = frames.in_project(queries.findings(store.url, store.marker, repo, sha), project)
        row = timeline[timeline["sha"] == sha]
        if not row.empty:
            r = row.iloc[0]
            st.markdown(
                f"**{r['short']}** by {r['author']} on {r['committed_at']:%Y-%m-%d %H:%M} UTC — {r['summary']}"
            )
        widgets.findings_table(
            frames.sort_by_severity(found),
            columns=[
                "status",
                "severity",
                "kind",
                "item",
                "training",
                "serving",
                "rule_url",
                "rule_title",
                "file",
                "line",
                "introduced_in",
                "pair",
                "message",
            ],
            key="history_commit",
            file_name=f"depaudit-{repo}-{sha[:10]}.csv",
        )

    st.subheader("Compare two commits")
    history = queries.commits(store.url, store.marker, repo)
    cols = st.columns(2)
    with cols[0]:
        before_sha = widgets.pick_commit(store, repo, label="From (older)", param="a")
    with cols[1]:
        after_sha = widgets.pick_commit(store, repo, label="To (newer)", param="b")
    if before_sha and after_sha:
        before = frames.in_project(
            queries.findings(store.url, store.marker, repo, before_sha), project
        )
        after = frames.in_project(
            queries.findings(store.url, store.marker, repo, after_sha), project
        )
        added, resolved = frames.finding_changes(before, after)
        cols = st.columns(2)
        cols[0].metric("findings added", len(added))
        cols[1].metric("findings resolved", len(resolved))
        st.markdown("**Added**")
        if added.empty:
            st.caption("none")
        else:
            widgets.findings_table(
                added,
                columns=[
                    "status",
                    "severity",
                    "kind",
                    "item",
                    "serving",
                    "rule",
                    "pair",
                    "message",
                ],
                key="added",
                file_name=f"depaudit-{repo}-added.csv",
            )
        st.markdown("**Resolved**")
        if resolved.empty:
            st.caption("none")
        else:
            widgets.findings_table(
                resolved,
                columns=[
                    "status",
                    "severity",
                    "kind",
                    "item",
                    "serving",
                    "rule",
                    "pair",
                    "message",
                ],
                key="resolved",
                file_name=f"depaudit-{repo}-resolved.csv",
            )
