"""Rules: every rule id with its title, and its docs/rules.md section when installed."""

from __future__ import annotations

import streamlit as st

from dashboard import frames, queries

st.title("Rules")
titles = {**frames.RULE_TITLES, **queries.rule_titles()}
sections = frames.rules_doc_sections(queries.rules_doc())
for rule_id in sorted(titles):
    st.subheader(f"{rule_id} {titles[rule_id]}", anchor=rule_id.lower())
    body = sections.get(rule_id)
    if body:
        st.markdown(body)
