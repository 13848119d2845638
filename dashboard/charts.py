"""Pure chart functions: a DataFrame in, a plotly Figure out.

No streamlit import here (the pages place the figures), so every chart can be tested
and reused on its own. Frames come from :mod:`depaudit.dashboard.frames`; the column names each
function needs are listed in its docstring.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go
from packaging.version import InvalidVersion, Version

# One colour per severity everywhere in the dashboard, ordered worst first.
SEVERITY_COLORS: dict[str, str] = {
    "high": "#d62728",
    "medium": "#ff7f0e",
    "low": "#bcbd22",
    "info": "#1f77b4",
}
SIDE_COLORS: dict[str, str] = {"training": "#9467bd", "serving": "#2ca02c"}
# Below this many commits every point gets a marker (easy to click); above, lines only.
_MARKER_LIMIT = 300
_HOVER_COMMIT = (
    "<b>%{customdata[0]}</b> %{customdata[3]}<br>%{customdata[1]}<br>%{customdata[2]}"
    "<br>%{fullData.name}: %{y}<extra></extra>"
)


def changes_only(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """The rows where any of ``columns`` differs from the row before, plus the last row.

    Step lines (``shape="hv"``) through these rows draw exactly the same picture as through
    every commit, and a 10,000-commit history with 60 environment states sends 60 points
    to the browser instead of 10,000.
    """
    if len(frame) <= 2 or not columns:
        return frame
    values = frame[list(columns)]
    changed = values.ne(values.shift()).any(axis=1)
    changed.iloc[0] = True
    changed.iloc[-1] = True
    return frame[changed]


def _count_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if "_" in c and c.split("_")[-1] in SEVERITY_COLORS]


def _empty(title: str, message: str) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(
        title=title,
        annotations=[
            {
                "text": message,
                "showarrow": False,
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 0.5,
            }
        ],
        xaxis={"visible": False},
        yaxis={"visible": False},
    )
    return fig


def _commit_customdata(timeline: pd.DataFrame) -> list[list[str]]:
    """Per point: short sha, author, summary, date, full sha (last: a click selects it)."""
    return [
        [short, author, summary, date, sha]
        for short, author, summary, date, sha in zip(
            timeline["short"].astype(str),
            timeline["author"].astype(str),
            timeline["summary"].astype(str),
            timeline["committed_at"].astype(str),
            timeline["sha"].astype(str),
            strict=True,
        )
    ]


def history_chart(timeline: pd.DataFrame, *, status: str = "leftover") -> go.Figure:
    """Counts of ``status`` findings per commit, stacked by severity, oldest commit first.

    ``timeline``: one row per commit with ``sha, short, committed_at, author, summary``
    and count columns ``{status}_{severity}``. Hovering a point shows the commit; the
    points carry the commit sha in ``customdata`` so a click can select it.
    """
    title = f"{status.replace('_', ' ')} findings per commit"
    if timeline.empty:
        return _empty(title, "no commits collected yet")
    timeline = changes_only(
        timeline, [c for c in _count_columns(timeline) if c.startswith(f"{status}_")]
    )
    custom = _commit_customdata(timeline)
    mode = "lines+markers" if len(timeline) <= _MARKER_LIMIT else "lines"
    fig = go.Figure()
    for severity, color in SEVERITY_COLORS.items():
        column = f"{status}_{severity}"
        if column not in timeline or not timeline[column].any():
            continue
        fig.add_trace(
            go.Scatter(
                x=timeline["committed_at"],
                y=timeline[column],
                name=severity,
                mode=mode,
                stackgroup="severity",
                line={"color": color, "width": 1, "shape": "hv"},
                customdata=custom,
                hovertemplate=_HOVER_COMMIT,
            )
        )
    if not fig.data:
        # Still one (all-zero) trace so that points stay clickable and the axis shows time.
        fig.add_trace(
            go.Scatter(
                x=timeline["committed_at"],
                y=[0] * len(timeline),
                name="none",
                mode=mode,
                line={"color": "#999999", "shape": "hv"},
                customdata=custom,
                hovertemplate=_HOVER_COMMIT,
            )
        )
    fig.update_layout(
        title=title,
        xaxis_title="commit date",
        yaxis_title="findings",
        hovermode="closest",
        legend_title="severity",
        margin={"t": 50, "b": 40, "l": 40, "r": 10},
    )
    return fig


def trend_chart(
    timeline: pd.DataFrame, *, statuses: Sequence[str] = ("leftover", "drift")
) -> go.Figure:
    """Small line chart of the total of each status per commit (the Overview trend).

    ``timeline``: ``committed_at`` plus ``{status}_{severity}`` count columns.
    """
    if timeline.empty:
        return _empty("trend", "no commits")
    timeline = changes_only(timeline, _count_columns(timeline))
    fig = go.Figure()
    colors = {
        "leftover": SEVERITY_COLORS["high"],
        "drift": SEVERITY_COLORS["medium"],
        "shared": "#2ca02c",
    }
    for status in statuses:
        columns = [c for c in timeline.columns if c.startswith(f"{status}_")]
        total = timeline[columns].sum(axis=1) if columns else pd.Series([0] * len(timeline))
        fig.add_trace(
            go.Scatter(
                x=timeline["committed_at"],
                y=total,
                name=status,
                mode="lines",
                line={"color": colors.get(status, "#7f7f7f"), "shape": "hv"},
            )
        )
    fig.update_layout(height=220, margin={"t": 10, "b": 10, "l": 10, "r": 10}, showlegend=True)
    return fig


def _version_key(value: str) -> tuple[int, Version | str]:
    text = value.lstrip("=~<>!^ v")
    try:
        return (0, Version(text))
    except InvalidVersion:
        return (1, value)


def value_timeline_chart(history: pd.DataFrame, *, item: str) -> go.Figure:
    """Each side's value of one item over the commits (e.g. numpy's pin, python, base image).

    ``history``: one row per commit with ``committed_at, short, training, serving``;
    an empty value means the item is absent on that side at that commit. Values are
    categories ordered as versions when they parse as versions.
    """
    title = f"{item}: training vs serving over history"
    if history.empty:
        return _empty(title, "no history for this item")
    history = changes_only(history, ["training", "serving"])
    values = sorted(
        {v for side in ("training", "serving") for v in history[side].astype(str) if v},
        key=_version_key,
    )
    fig = go.Figure()
    for side, color in SIDE_COLORS.items():
        shown = [v if v else None for v in history[side].astype(str)]
        fig.add_trace(
            go.Scatter(
                x=history["committed_at"],
                y=shown,
                name=side,
                mode="lines+markers",
                line={
                    "color": color,
                    "shape": "hv",
                    "dash": "solid" if side == "serving" else "dot",
                },
                customdata=history["short"].astype(str),
                hovertemplate=f"{side}: %{{y}}<br>%{{customdata}} %{{x}}<extra></extra>",
                connectgaps=False,
            )
        )
    fig.update_layout(
        title=title,
        yaxis={"type": "category", "categoryorder": "array", "categoryarray": values},
        xaxis_title="commit date",
        height=320,
        margin={"t": 50, "b": 40, "l": 40, "r": 10},
    )
    return fig


def shared_share_chart(timeline: pd.DataFrame) -> go.Figure:
    """Share of shared findings among all compared items per commit (0..1).

    Compared items are every non-error finding: shared, drift, leftover and the
    one-sided ones. ``timeline``: ``committed_at`` plus ``{status}_{severity}`` counts.
    """
    title = "shared share of all compared items"
    if timeline.empty:
        return _empty(title, "no commits")
    timeline = changes_only(timeline, _count_columns(timeline))
    share = shared_share(timeline)
    fig = go.Figure(
        go.Scatter(
            x=timeline["committed_at"],
            y=share,
            mode="lines+markers" if len(timeline) <= _MARKER_LIMIT else "lines",
            line={"color": "#2ca02c", "shape": "hv"},
            customdata=_commit_customdata(timeline),
            hovertemplate="<b>%{customdata[0]}</b> %{customdata[3]}<br>shared: %{y:.0%}<extra></extra>",
            name="shared",
        )
    )
    fig.update_layout(
        title=title,
        yaxis={"range": [0, 1.05], "tickformat": ".0%"},
        xaxis_title="commit date",
        height=320,
        margin={"t": 50, "b": 40, "l": 40, "r": 10},
    )
    return fig


def shared_share(timeline: pd.DataFrame) -> pd.Series:
    """Per commit: shared / (shared + drift + leftover + training_only + serving_only)."""

    def total(status: str) -> pd.Series:
        columns = [c for c in timeline.columns if c.startswith(f"{status}_")]
        if not columns:
            return pd.Series([0] * len(timeline), index=timeline.index, dtype="float64")
        return timeline[columns].sum(axis=1).astype("float64")

    shared = total("shared")
    compared = (
        shared + total("drift") + total("leftover") + total("training_only") + total("serving_only")
    )
    return (shared / compared.where(compared > 0)).fillna(0.0)


def severity_bar_chart(findings: pd.DataFrame, *, title: str = "findings by severity") -> go.Figure:
    """Horizontal bars: how many findings per kind, stacked by severity.

    ``findings``: rows with ``kind`` and ``severity`` (a findings frame).
    """
    if findings.empty:
        return _empty(title, "no findings")
    counts = findings.groupby(["kind", "severity"]).size().reset_index(name="count")
    fig = go.Figure()
    for severity, color in SEVERITY_COLORS.items():
        part = counts[counts["severity"] == severity]
        if part.empty:
            continue
        fig.add_trace(
            go.Bar(
                y=part["kind"], x=part["count"], name=severity, orientation="h", marker_color=color
            )
        )
    fig.update_layout(
        title=title,
        barmode="stack",
        height=80 + 40 * counts["kind"].nunique(),
        margin={"t": 40, "b": 20, "l": 10, "r": 10},
    )
    return fig
