"""Widgets every page uses: the store guard, the repository and commit pickers, downloads.

The selected repository, commit and filters live in ``st.query_params`` (so a view can
be shared as a link) and in ``st.session_state`` (so they survive a page switch).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from depaudit.dashboard import frames, queries


@dataclass(frozen=True, slots=True)
class Store:
    url: str
    marker: str


def open_store() -> Store | None:
    """The store and its marker, or None after showing why it cannot be used."""
    url = queries.store_url()
    try:
        status = queries.store_status(url)
    except queries.StoreUnavailable as exc:
        st.warning(str(exc))
        return None
    if status.collecting:
        st.info(
            "A collector is writing "
            + ", ".join(status.collecting)
            + " right now: new commits show up as it goes (reload in a few seconds)."
        )
    if status.repo_count == 0:
        st.info("The store holds no repository yet. Run `depaudit collect PATH` to audit one.")
        return None
    return Store(url, status.marker)


def _remember(name: str, value: str | None) -> None:
    if value:
        st.query_params[name] = value
        st.session_state[f"_keep_{name}"] = value
    else:
        st.query_params.pop(name, None)
        st.session_state.pop(f"_keep_{name}", None)


def _wanted(name: str) -> str | None:
    value = st.query_params.get(name)
    return value if value else st.session_state.get(f"_keep_{name}")


def pick_repo(store: Store) -> str | None:
    try:
        names = queries.repo_names(store.url, store.marker)
    except queries.StoreUnavailable as exc:
        st.warning(str(exc))
        return None
    if not names:
        st.info("The store holds no repository yet.")
        return None
    wanted = _wanted("repo")
    index = names.index(wanted) if wanted in names else 0
    repo = st.sidebar.selectbox("Repository", names, index=index, key="repo_select")
    _remember("repo", repo)
    return repo


def pick_commit(
    store: Store, repo: str, *, label: str = "Commit", param: str = "commit"
) -> str | None:
    """A commit of ``repo``: the head by default; options are the head and every commit that
    changed the repo's environments (typing a sha reaches any other one)."""
    history = queries.commits(store.url, store.marker, repo)
    if history.empty:
        st.info(f"No commit of {repo} has been collected yet.")
        return None
    wanted = _wanted(param)
    head = str(history.iloc[-1]["sha"])
    shown = history[history["changed"] | (history["sha"] == head)].iloc[::-1].head(500)
    if wanted and wanted not in set(shown["sha"]):
        match = history[history["sha"].str.startswith(wanted.lower())]
        if not match.empty:
            shown = pd.concat([match.head(1), shown])
    options = list(shown["sha"])
    labels = {row.sha: frames.commit_label(row._asdict()) for row in shown.itertuples(index=False)}
    labels[head] = labels[head] + "  (head)"
    index = 0
    if wanted:
        for i, sha in enumerate(options):
            if sha.startswith(wanted.lower()):
                index = i
                break
    sha = st.selectbox(
        label, options, index=index, format_func=labels.__getitem__, key=f"pick_{param}"
    )
    _remember(param, None if sha == head and param == "commit" else sha)
    return str(sha)


ALL_PROJECTS = ""


def pick_project(store: Store, repo: str, sha: str) -> str | None:
    """The project to show (None: all of them), in the sidebar and the URL as ``project=``.

    Offered only when the commit has several projects (a monorepo of examples); a
    repository that is one project shows everything without asking.
    """
    try:
        projects = queries.projects_at(store.url, store.marker, repo, sha)
    except queries.StoreUnavailable as exc:
        st.warning(str(exc))
        return None
    if len(projects) < 2:
        return None
    options = [ALL_PROJECTS, *projects]
    wanted = _wanted("project")
    index = options.index(wanted) if wanted in options else 0
    choice = st.sidebar.selectbox(
        "Project",
        options,
        index=index,
        format_func=lambda p: (
            f"All {len(projects)} projects" if p == ALL_PROJECTS else frames.project_label(p)
        ),
        key="project_select",
    )
    _remember("project", choice or None)
    return choice or None


def multi_filter(label: str, options: Sequence[str], *, param: str) -> list[str]:
    """A multiselect whose selection is kept in the URL as ``param=a,b``."""
    wanted = [v for v in (_wanted(param) or "").split(",") if v in options]
    chosen = st.multiselect(label, list(options), default=wanted, key=f"filter_{param}")
    _remember(param, ",".join(chosen))
    return list(chosen)


def single_choice(
    label: str,
    options: Sequence[str],
    *,
    param: str,
    labels: Mapping[str, str] | None = None,
) -> str | None:
    """One choice kept in the URL; ``labels`` shows readable names for raw option values."""
    if not options:
        return None
    wanted = _wanted(param)
    index = list(options).index(wanted) if wanted is not None and wanted in options else 0
    shown = labels or {}
    choice = st.selectbox(
        label,
        list(options),
        index=index,
        key=f"choice_{param}",
        format_func=lambda value: shown.get(value, value),
    )
    _remember(param, choice)
    return str(choice)


def findings_table(
    frame: pd.DataFrame, *, columns: Sequence[str], key: str, file_name: str
) -> None:
    """A findings table with rule links, and its download as the report CSV."""
    st.dataframe(
        frame[list(columns)],
        hide_index=True,
        column_config={
            "rule_url": st.column_config.LinkColumn("rule", display_text=r"#(da\d+)$"),
            "rule_title": st.column_config.TextColumn("rule title"),
            "introduced_at": st.column_config.DatetimeColumn("since", format="YYYY-MM-DD"),
            "days_open": st.column_config.NumberColumn("days", format="%d"),
            "line": st.column_config.NumberColumn("line", format="%d"),
        },
        key=f"table_{key}",
    )
    st.download_button(
        "Download CSV",
        frames.findings_csv(frame),
        file_name=file_name,
        mime="text/csv",
        key=f"download_{key}",
    )


def plain_table(frame: pd.DataFrame, *, key: str, file_name: str) -> None:
    """Any other table, with its CSV download."""
    st.dataframe(frame, hide_index=True, key=f"table_{key}")
    st.download_button(
        "Download CSV",
        frames.table_csv(frame),
        file_name=file_name,
        mime="text/csv",
        key=f"download_{key}",
    )
