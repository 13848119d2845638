"""The real server in a real browser: ``depaudit dashboard`` driven by Playwright + chromium."""

from __future__ import annotations

import csv
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing (apt-get install chromium)"
    ),
]
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(seeded_store: Any) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "depaudit",
            "dashboard",
            "--db",
            seeded_store.url,
            "--port",
            str(port),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(
                f"dashboard did not start: {proc.stderr.read().decode() if proc.stderr else ''}"
            )
        time.sleep(0.3)
    try:
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield b
        finally:
            b.close()


def open_page(browser: Any, url: str) -> Any:
    page = browser.new_page(viewport={"width": 1400, "height": 2200}, accept_downloads=True)
    page.goto(url)
    page.wait_for_selector("[data-testid='stApp']")
    page.wait_for_function(
        "document.querySelector('[data-testid=\"stStatusWidget\"]') === null", timeout=60000
    )
    page.wait_for_selector("h1")
    return page


def settle(page: Any) -> None:
    page.wait_for_timeout(500)
    page.wait_for_function(
        "document.querySelector('[data-testid=\"stStatusWidget\"]') === null", timeout=60000
    )


@pytest.mark.parametrize(
    "name", ["overview", "leftovers", "drift", "shared", "history", "environment", "rules"]
)
def test_every_page_loads_without_error_or_secret(
    server: str, browser: Any, seeded_store: Any, name: str
) -> None:
    from playwright.sync_api import expect

    path = "" if name == "overview" else name  # the default page lives at /
    page = open_page(browser, f"{server}/{path}?repo=leaky_api")
    expect(page.locator("[data-testid='stException']")).to_have_count(0)
    if name != "rules":
        expect(page.locator("[data-testid='stDataFrame']").first).to_be_visible(timeout=30_000)
    assert seeded_store.secret not in page.content()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"), full_page=True)
    page.close()


def test_leftovers_filter_and_download(server: str, browser: Any, seeded_store: Any) -> None:
    from playwright.sync_api import expect

    page = open_page(browser, f"{server}/leftovers?repo=leaky_api&severity=high")
    expect(page.locator("[data-testid='stDataFrame']").first).to_be_visible(timeout=30_000)
    with page.expect_download() as info:
        page.get_by_role("button", name="Download CSV").first.click()
    text = Path(info.value.path()).read_text("utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert text.startswith("repo,commit,committed_at,training_env,serving_env,status,kind,item")
    assert (
        rows
        and {r["severity"] for r in rows} == {"high"}
        and {r["repo"] for r in rows} == {"leaky_api"}
    )
    assert seeded_store.secret not in text
    # the canvas grid draws one row per finding plus its header
    grid_rows = page.locator("[data-testid='stDataFrame']").first.locator("[role='row']")
    expect(grid_rows).to_have_count(len(rows) + 1, timeout=30_000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{server}/leftovers?repo=tabular_fraud")
    settle(page)
    shot = ARTIFACTS / "dashboard-leftovers-tabular_fraud.png"
    page.screenshot(path=str(shot), full_page=True)
    if os.environ.get("DEPAUDIT_UPDATE_SCREENSHOT") == "1":
        page.set_viewport_size({"width": 1400, "height": 1100})
        settle(page)
        page.screenshot(path=str(ROOT / "docs" / "dashboard.png"), full_page=False)
        assert (ROOT / "docs" / "dashboard.png").stat().st_size < 400_000
    page.close()


def test_history_pick_a_commit(server: str, browser: Any, seeded_store: Any) -> None:
    from playwright.sync_api import expect

    from depaudit.store.reader import StoreReader

    first = StoreReader(seeded_store.url).commits("leaky_api")[0]
    page = open_page(browser, f"{server}/history?repo=leaky_api&commit={first.sha}")
    expect(page.locator("[data-testid='stDataFrame']").first).to_be_visible(timeout=30_000)
    assert first.sha[:10] in page.inner_text("body")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download CSV").first.click()
    rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text("utf-8"))))
    assert {r["commit"] for r in rows} <= {first.sha}
    assert "wandb" not in {r["item"] for r in rows}
    page.close()


def test_no_chromium_needed_for_import() -> None:
    assert shutil.which("git")


def test_overview_link_opens_the_overview(server: str, browser: Any) -> None:
    """A link to /overview (shared by hand, or by an older version) opens the Overview."""
    from playwright.sync_api import expect

    page = open_page(browser, f"{server}/overview?repo=leaky_api")
    expect(page.locator("h1").first).to_contain_text("training code in serving")
    expect(page.locator("[data-testid='stDataFrame']").first).to_be_visible(timeout=30_000)
    assert "Page not found" not in page.inner_text("body")
    assert page.url.split("?")[0].endswith("/overview")
    page.close()


def test_pick_a_project_of_a_monorepo(server: str, browser: Any) -> None:
    from playwright.sync_api import expect

    page = open_page(browser, f"{server}/leftovers?repo=course_examples")
    grid = page.locator("[data-testid='stDataFrame']").first
    expect(grid).to_be_visible(timeout=30_000)
    every = grid.locator("[role='row']")
    expect(every).not_to_have_count(0, timeout=30_000)
    total = every.count()
    selector = page.locator("[data-testid='stSidebar']").get_by_role("combobox", name="Project")
    expect(selector).to_have_value("All 3 projects")
    selector.click()
    page.get_by_role("option", name="02-churn").click()
    settle(page)
    assert "project=02-churn" in page.url
    # optuna is 02-churn's only leftover: one row under the header
    expect(page.locator("[data-testid='stDataFrame']").first.locator("[role='row']")).to_have_count(
        2, timeout=30_000
    )
    assert total > 2
    with page.expect_download() as info:
        page.get_by_role("button", name="Download CSV").first.click()
    rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text("utf-8"))))
    assert [(r["item"], r["pairs"]) for r in rows] == [
        ("optuna", "02-churn/training x 02-churn/serving")  # the report CSV's pairs
    ]
    # the link keeps the project: another page opens on it
    page.goto(f"{server}/environment?repo=course_examples&project=03-recsys")
    settle(page)
    expect(page.get_by_text("Pairs compared")).to_be_visible(timeout=30_000)
    body = page.inner_text("body")
    assert "03-recsys" in body and "01-fraud" not in body
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-environment-project.png"), full_page=True)
    page.close()
