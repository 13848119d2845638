"""The Environment page's "Live (observed)" section, on a store made by ``depaudit collect``
and ``depaudit live --pipdeptree-json`` (a capture taken on a server)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "dashboard" / "app.py")
GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": "Ada Ops",
    "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada Ops",
    "GIT_COMMITTER_EMAIL": "ada@example.com",
}
FILES = {
    "training/requirements.txt": "numpy==1.26.4\nwandb==0.16.3\n",
    "training/train.py": "import numpy\n",
    "serving/requirements.txt": "numpy==1.26.4\nfastapi==0.110.0\n",
    "serving/app.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
}


def _pkg(name: str, version: str, deps: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "key": name,
        "package_name": name,
        "installed_version": version,
        "required_version": version,
        "dependencies": deps or [],
    }


# `pipdeptree --json-tree` on the server: fastapi is missing, wandb was pip-installed by hand
CAPTURE = [
    _pkg("pip", "24.0"),
    _pkg("numpy", "1.26.4"),
    _pkg(
        "wandb",
        "0.16.3",
        [
            {
                "key": "requests",
                "package_name": "requests",
                "installed_version": "2.31.0",
                "required_version": ">=2.0",
                "dependencies": [],
            }
        ],
    ),
]


def _depaudit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "depaudit", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", *args], cwd=repo, env={**os.environ, **GIT_ENV}, check=True, capture_output=True
    )


def _store(tmp_path: Path, *, observe: bool) -> str:
    repo = tmp_path / "fraud_api"
    for rel, body in FILES.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(body, "utf-8")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "Training and serving")
    url = f"sqlite:///{tmp_path / 'store.db'}"
    result = _depaudit("collect", str(repo), "--db", url)
    assert result.returncode in (0, 1), result.stderr
    if observe:
        capture = tmp_path / "prod-pipdeptree.json"
        capture.write_text(json.dumps(CAPTURE), "utf-8")
        result = _depaudit(
            "live",
            "--pipdeptree-json",
            str(capture),
            "--repo",
            "fraud_api",
            "--env",
            "serving",
            "--db",
            url,
        )
        assert result.returncode == 0, result.stderr
    return url


@pytest.fixture(autouse=True)
def _fresh_caches(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    import streamlit as st

    monkeypatch.delenv("DEPAUDIT_DB", raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield


def _environment_page(url: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("DEPAUDIT_DASHBOARD_DB", url)
    params = {"repo": "fraud_api", "env": "serving"}
    at = AppTest.from_file(APP, default_timeout=60)
    for name, value in params.items():
        at.query_params[name] = value
    at.run()
    at.switch_page("views/environment.py")
    for name, value in params.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _frames(at: AppTest) -> list[Any]:
    return [d.value for d in at.dataframe]


def test_environment_page_shows_the_observed_packages_and_live_findings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _environment_page(_store(tmp_path, observe=True), monkeypatch)
    assert any(h.value == "Live (observed)" for h in at.subheader)
    live_packages = next(
        f for f in _frames(at) if list(f.columns) == ["name", "version", "direct", "requires"]
    )
    rows = {r["name"]: r for r in live_packages.to_dict("records")}
    assert rows["wandb"]["version"] == "0.16.3"
    assert rows["wandb"]["requires"] == "requests"
    assert not rows["requests"]["direct"]  # a dependency of wandb, not a top-level install
    findings = next(f for f in _frames(at) if "rule_title" in f.columns)
    by_rule = {
        (r["item"], r["rule_url"].rsplit("#", 1)[-1].upper()) for _, r in findings.iterrows()
    }
    assert ("wandb", "DA701") in by_rule  # installed, declared by no serving file
    assert ("fastapi", "DA702") in by_rule  # declared, not installed
    assert any(b.proto.id.endswith("download_live_packages") for b in at.download_button)
    assert any(b.proto.id.endswith("download_live_findings") for b in at.download_button)


def test_without_observations_the_page_says_how_to_record_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _environment_page(_store(tmp_path, observe=False), monkeypatch)
    captions = " ".join(c.value for c in at.caption)
    assert "depaudit live --python PATH --repo fraud_api --env serving" in captions
    assert not any(b.proto.id.endswith("download_live_packages") for b in at.download_button)


def test_observation_without_stored_findings_says_so_and_computes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    url = _store(tmp_path, observe=True)
    # a row written without its findings (e.g. by an older `depaudit live`)
    with sqlite3.connect(tmp_path / "store.db") as conn:
        conn.execute("UPDATE live_snapshots SET findings = '', finding_count = 0")
    at = _environment_page(url, monkeypatch)
    # the dashboard shows what `depaudit live` recorded; it never runs rules itself
    assert any("No findings were stored" in c.value for c in at.caption)
    assert not any("DA701" in str(f.get("rule", "")) for f in _frames(at) if "rule" in f)


def _page(url: str, page: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("DEPAUDIT_DASHBOARD_DB", url)
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["repo"] = "fraud_api"
    at.run()
    at.switch_page(f"views/{page}.py")
    at.query_params["repo"] = "fraud_api"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_findings_pages_show_the_live_findings_as_report_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``report`` includes the newest observation's findings; so do the findings pages, and
    the History download stays byte for byte the report CSV."""
    from streamlit.testing.v1 import app_test as app_test_module

    from tests.dashboard.pages import RecordingStorage, download_text

    monkeypatch.setattr(app_test_module, "MemoryMediaFileStorage", RecordingStorage)
    url = _store(tmp_path, observe=True)
    leftovers = _page(url, "leftovers", monkeypatch)
    frame = next(f for f in _frames(leftovers) if "pairs" in f.columns)
    live = frame[frame["pairs"] == "training → serving@live"]
    assert "wandb" in set(live["item"])  # really installed on the server
    history = _page(url, "history", monkeypatch)
    report = subprocess.run(
        [sys.executable, "-m", "depaudit", "report", "--db", url, "--format", "csv"],
        cwd=ROOT,
        capture_output=True,
        timeout=120,
    )
    assert report.returncode == 0, report.stderr
    text = report.stdout.decode("utf-8")
    assert ",serving@live," in text
    assert download_text(history, "history_commit") == text
