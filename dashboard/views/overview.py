"""Overview: every repository with its head's counts, trends and environments."""

from __future__ import annotations

import streamlit as st

from depaudit.dashboard import charts, queries, widgets

st.title("depaudit: training code in serving")
st.caption(
    "Per repository: training leftovers in serving, drift between training and serving, and what is shared."
)

store = widgets.open_store()
if store is not None:
    try:
        table = queries.repos(store.url, store.marker)
    except queries.StoreUnavailable as exc:
        st.warning(str(exc))
        st.stop()
    total_high = int(table["leftover_high"].sum())
    cols = st.columns(4)
    cols[0].metric("repositories", len(table))
    cols[1].metric("high-severity leftovers at head", total_high)
    cols[2].metric("drift at head", int(table["drift"].sum()))
    cols[3].metric("shared at head", int(table["shared"].sum()))
    shown = table.drop(columns=["head_sha"])
    st.dataframe(
        shown,
        hide_index=True,
        column_config={
            "leftover_high": st.column_config.NumberColumn("leftovers high"),
            "leftover_medium": st.column_config.NumberColumn("leftovers medium"),
            "leftover_low": st.column_config.NumberColumn("leftovers low"),
            "leftover_trend": st.column_config.LineChartColumn("leftovers over history", y_min=0),
            "drift_trend": st.column_config.LineChartColumn("drift over history", y_min=0),
            "last_collected_at": st.column_config.DatetimeColumn(
                "last collected", format="YYYY-MM-DD HH:mm"
            ),
            "projects": st.column_config.NumberColumn(
                "projects", help="training + serving sides compared together"
            ),
            "environments": st.column_config.TextColumn("environments (role, found by)"),
            "found_by": st.column_config.TextColumn("assignment"),
        },
        key="table_overview",
    )
    st.download_button(
        "Download CSV",
        widgets.frames.table_csv(shown.drop(columns=["leftover_trend", "drift_trend"])),
        file_name="depaudit-overview.csv",
        mime="text/csv",
        key="download_overview",
    )
    no_envs = table[table["environments"] == "none found"]["repo"].tolist()
    if no_envs:
        st.info(
            "No training or serving environment was found in: "
            + ", ".join(no_envs)
            + ". Add a `.depaudit.toml` naming which files belong to which environment."
        )
    for name in table["repo"]:
        with st.expander(f"{name}: leftovers and drift over history", expanded=len(table) == 1):
            timeline = queries.timeline_frame(store.url, store.marker, name)
            st.plotly_chart(charts.trend_chart(timeline), key=f"trend_{name}")
