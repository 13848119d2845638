"""Drift: what should be identical in training and serving but is not."""

from __future__ import annotations

import streamlit as st

from depaudit.dashboard import charts, frames, queries, widgets
from depaudit.model import SEVERITIES

st.title("Drift between training and serving")

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
        project = widgets.pick_project(store, repo, sha)
        found = frames.in_project(found, project)
        # one row per fact, however many pairs of its project saw it
        drift = frames.sort_by_severity(frames.drift_frame(frames.group_by_fact(found)))
        cols = st.columns(3)
        with cols[0]:
            kinds = widgets.multi_filter("Kind", sorted(set(drift["kind"])), param="kind")
        with cols[1]:
            severities = widgets.multi_filter("Severity", SEVERITIES, param="severity")
        with cols[2]:
            pairs = widgets.multi_filter(
                "Environments (training → serving)", frames.pair_options(found), param="pair"
            )
        shown = frames.filter_findings(drift, kinds=kinds, severities=severities, pairs=pairs)
        if drift.empty:
            st.success(
                "Nothing has drifted at this commit: every compared item is the same on both sides."
            )
        else:
            st.caption(
                f"{len(shown)} of {len(drift)} drifted items"
                + (f" in {frames.project_label(project)}" if project else "")
            )
            widgets.findings_table(
                shown,
                columns=[
                    "kind",
                    "item",
                    "training",
                    "serving",
                    "distance",
                    "severity",
                    "rule_url",
                    "rule_title",
                    "since",
                    "introduced_in",
                    "introduced_by",
                    "pairs",
                    "message",
                ],
                key="drift",
                file_name=f"depaudit-{repo}-drift.csv",
            )
            st.subheader("One item over history")
            # a live finding has no history of commits to draw
            declared = shown[~shown["serving_env"].str.endswith(frames.LIVE_SUFFIX)]
            labels = {
                key: f"{item} ({kind}, {pair})"
                for key, item, kind, pair in zip(
                    declared["key"],
                    declared["item"],
                    declared["kind"],
                    declared["pair"],
                    strict=True,
                )
            }
            key = (
                widgets.single_choice("Item", list(labels), param="item", labels=labels)
                if labels
                else None
            )
            if key is not None:
                history = queries.item_history(store.url, store.marker, repo, key)
                st.plotly_chart(
                    charts.value_timeline_chart(history, item=labels.get(key, key)),
                    key="drift_item",
                )
            code = shown[(shown["rule"] == "DA207") & (shown["evidence"] != "")]
            if not code.empty:
                st.subheader("Diverged inference code")
                for row in code.itertuples(index=False):
                    with st.expander(f"{row.item} ({row.pairs})", expanded=len(code) == 1):
                        left, right = st.columns(2)
                        training_side, serving_side = frames.split_unified_diff(row.evidence)
                        left.markdown(f"**training** `{row.training}`")
                        left.code(training_side, language="python")
                        right.markdown(f"**serving** `{row.serving}`")
                        right.code(serving_side, language="python")
                        st.code(row.evidence, language="diff")
