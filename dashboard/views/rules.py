"""Rules: every rule id with its title and the section of the rules documentation."""

from __future__ import annotations

import streamlit as st

from depaudit.catalog import RULE_INFOS, rules_doc_sections

st.title("Rules")
sections = rules_doc_sections()
for info in RULE_INFOS:
    st.subheader(f"{info.id} {info.title}", anchor=info.id.lower())
    st.caption(f"{info.kind} · default severity {info.severity}")
    st.markdown(sections.get(info.id) or info.summary)
