"""Leftovers: training-specific things present in serving at one commit."""

from __future__ import annotations

import streamlit as st

from depaudit.dashboard import charts, frames, queries, split_panel, widgets
from depaudit.model import KINDS, SEVERITIES

st.title("Training leftovers in serving")

store = widgets.open_store()
repo = widgets.pick_repo(store) if store else None
if store is not None and repo is not None:
    sha = widgets.pick_commit(store, repo)
    if sha is not None:
        try:
            found = queries.findings(store.url, store.marker, repo, sha)
        except queries.StoreUnavailable as exc:
            st.warning(str(exc))
            st.stop()
        if not queries.environments_at(store.url, store.marker, repo, sha):
            st.info(
                f"No training or serving environment was found in {repo} at this commit, so nothing was compared."
            )
        project = widgets.pick_project(store, repo, sha)
        found = frames.in_project(found, project)
        # one row per fact, however many pairs of its project saw it
        leftovers = frames.sort_by_severity(
            frames.group_by_fact(found[found["status"] == "leftover"])
        )
        cols = st.columns(3)
        with cols[0]:
            severities = widgets.multi_filter("Severity", SEVERITIES, param="severity")
        with cols[1]:
            kinds = widgets.multi_filter("Kind", KINDS, param="kind")
        with cols[2]:
            pairs = widgets.multi_filter(
                "Environments (training → serving)", frames.pair_options(found), param="pair"
            )
        shown = frames.filter_findings(leftovers, severities=severities, kinds=kinds, pairs=pairs)
        if leftovers.empty:
            st.success("No training leftover in serving at this commit.")
        else:
            st.caption(
                f"{len(shown)} of {len(leftovers)} leftovers"
                + (f" in {frames.project_label(project)}" if project else "")
                + " (one row per leftover; `pairs` lists every pair that has it)"
            )
            shown = shown.assign(
                where=[
                    f"{f}:{n}" if n else f
                    for f, n in zip(shown["file"], shown["line"], strict=True)
                ]
            )
            widgets.findings_table(
                shown,
                columns=[
                    "severity",
                    "kind",
                    "item",
                    "where",
                    "rule_url",
                    "rule_title",
                    "message",
                    "introduced_in",
                    "introduced_by",
                    "introduced_at",
                    "days_open",
                    "pairs",
                ],
                key="leftovers",
                file_name=f"depaudit-{repo}-leftovers.csv",
            )
            st.plotly_chart(
                charts.severity_bar_chart(shown, title="leftovers by kind"), key="leftovers_bar"
            )
            with_evidence = shown[shown["evidence"] != ""]
            if not with_evidence.empty:
                st.subheader("Evidence")
                for row in with_evidence.itertuples(index=False):
                    with st.expander(f"{row.rule} {row.item} ({row.where})"):
                        if frames.is_unified_diff(row.evidence):
                            st.code(row.evidence, language="diff")
                        else:
                            st.code(frames.evidence_chain(row.evidence), language="text")
        split_panel.show(store, repo, sha, found)
