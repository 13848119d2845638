"""Helpers of the AppTest page tests: open a page as a shared link would, read its tables
and its downloads."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest
from streamlit.testing.v1 import app_test as app_test_module

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
PAGES = ["overview", "leftovers", "drift", "shared", "history", "environment", "rules"]


class RecordingStorage(app_test_module.MemoryMediaFileStorage):  # type: ignore[misc]
    """AppTest's in-memory media storage, kept reachable so a test can read downloads."""

    last: RecordingStorage | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        RecordingStorage.last = self


def open_page(url: str, page: str, **params: str) -> AppTest:
    import os

    os.environ["DEPAUDIT_DASHBOARD_DB"] = url
    at = AppTest.from_file(APP, default_timeout=60)
    for name, value in params.items():
        at.query_params[name] = value
    at.run()
    if page != "overview":
        at.switch_page(f"views/{page}.py")
        for name, value in params.items():
            at.query_params[name] = value
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def download_text(at: AppTest, key: str) -> str:
    url = next(b.proto.url for b in at.download_button if b.proto.id.endswith(f"download_{key}"))
    storage = RecordingStorage.last
    assert storage is not None
    file_id = url.rsplit("/", 1)[-1].split(".")[0]
    return bytes(storage.get_file(file_id).content).decode("utf-8")


def _walk(node: Any) -> Iterator[Any]:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def table(at: AppTest, key: str) -> Any:
    """The dataframe drawn right before the ``download_{key}`` button (dataframes carry no id)."""
    last = None
    for node in _walk(at._tree):
        if node.type == "dataframe":
            last = node
        elif node.type == "download_button" and node.proto.id.endswith(f"download_{key}"):
            assert last is not None
            return last.value
    raise AssertionError(f"no table {key!r} on the page")


def texts(at: AppTest) -> str:
    parts: list[str] = []
    for kind in (
        "markdown",
        "caption",
        "title",
        "subheader",
        "info",
        "warning",
        "success",
        "code",
        "metric",
    ):
        parts.extend(str(getattr(e, "value", "")) for e in getattr(at, kind))
    for df in at.dataframe:
        parts.append(df.value.to_csv())
    return "\n".join(parts)
