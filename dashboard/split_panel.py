"""The Leftovers page's "Proposed split": what ``depaudit split`` changes for one pair.

The store keeps facts and findings, never file texts (they may hold secrets, and the
dashboard reads the store only). So the page shows the proposal's *outline*, computed by
the pure split layer from stored data (:func:`depaudit.split.outline_split`: every change
with its file and line, the serving copy of a shared file, what needs a human), and the
exact command that makes the diff from the repository, with a copy button; the plan
(outline and command) downloads as a text file.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from depaudit.dashboard import frames, queries, widgets
from depaudit.split.render import summary

# what a split edits: package leftovers and drift, undeclared imports, a CUDA devel image
SPLIT_RULES = frozenset({"DA101", "DA106", "DA102", "DA103", "DA107", "DA204", "DA504"})


def command(sha: str, training: str, serving: str) -> str:
    """The command that makes the proposal's diff in a clone of the repository."""
    return f"depaudit split . --rev {sha} --training {training} --serving {serving} > split.patch"


def plan_text(outline_text: str, run: str) -> str:
    return f"{outline_text}# the diff: in a clone of the repository, run\n#   {run}\n"


def show(store: widgets.Store, repo: str, sha: str, found: pd.DataFrame) -> None:
    """The section for the pairs of ``found`` (the page's findings, of its project) that
    have something split edits."""
    stored = {(p.training, p.serving) for p in queries.pairs_at(store.url, store.marker, repo, sha)}
    fixable = found[found["rule"].isin(SPLIT_RULES)]
    pairs = sorted(
        pair
        for pair in zip(fixable["training_env"], fixable["serving_env"], strict=True)
        if pair in stored
    )
    pairs = sorted(set(pairs))
    st.subheader("Proposed split")
    if not pairs:
        st.caption("No package leftover or drift for `depaudit split` to remove at this commit.")
        return
    labels = {frames.pair_label(t, s): (t, s) for t, s in pairs}
    choice = widgets.single_choice("Pair to split", list(labels), param="split")
    if choice is None:
        return
    training, serving = labels[choice]
    outline = queries.split_outline(store.url, store.marker, repo, sha, training, serving)
    if outline is None:
        st.info(f"{choice} is not a pair of this commit.")
        return
    run = command(sha, training, serving)
    st.caption(
        "What `depaudit split` changes for this pair, from the stored facts and findings. "
        "The store keeps no file text, so the diff itself is made from the repository: run "
        "the command in a clone of it (`git apply split.patch`, or `--write` instead of "
        "`--rev`, applies it)."
    )
    text = summary(outline)
    st.code(text, language="text")
    st.code(run, language="bash")
    st.download_button(
        "Download the plan",
        plan_text(text, run),
        file_name=f"depaudit-split-{repo}-{serving.replace('/', '_')}.txt",
        mime="text/plain",
        key="download_split",
    )
