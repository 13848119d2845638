"""Server-side render time of every dashboard page on a 10,000-commit repository.

By default the store is made by ``depaudit collect`` of the 10,000-commit repository that
``bench_collect.py --mix env-only`` generates (577 distinct states); ``--source writer`` instead writes
10,000 commits cycling through 60 synthetic states with the store's own ``RepoWriter``. Each page
is rendered with Streamlit's AppTest cold (caches cleared, as a fresh server) and warm
(the same AppTest rerun). Targets: cold < 3 s, warm < 1 s.

    .venv/bin/python bench/bench_dashboard.py [--commits 10000] [--db PATH]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from depaudit.model import (  # noqa: E402
    CommitInfo,
    ConfigEntry,
    EnvironmentSnapshot,
    FileAssignment,
    Finding,
    Package,
    Runtime,
    TreeAudit,
)
from depaudit.store.engine import open_engine  # noqa: E402
from depaudit.store.writer import RepoWriter  # noqa: E402

PAGES = ["overview", "leftovers", "drift", "shared", "history", "environment", "rules"]
STATES = 60


def state(i: int) -> TreeAudit:
    packages = [f"lib{j}" for j in range(40)]
    training = EnvironmentSnapshot(
        "training",
        "training",
        "convention",
        files=(FileAssignment("training/requirements.txt", 'convention: folder "training/"'),),
        facts=(
            *tuple(
                Package(p, "training/requirements.txt", n + 1, f"==1.{n}.0", f"1.{n}.0")
                for n, p in enumerate(packages)
            ),
            Runtime("python", "3.11", "training/Dockerfile", 1),
        ),
    )
    serving = EnvironmentSnapshot(
        "serving",
        "serving",
        "convention",
        files=(FileAssignment("serving/requirements.txt", 'convention: folder "serving/"'),),
        facts=(
            *tuple(
                Package(
                    p,
                    "serving/requirements.txt",
                    n + 1,
                    f"==1.{n + (i % 3 if n < 5 else 0)}.0",
                    f"1.{n + (i % 3 if n < 5 else 0)}.0",
                )
                for n, p in enumerate(packages)
            ),
            Runtime("python", "3.11" if i % 2 else "3.10", "serving/Dockerfile", 1),
            ConfigEntry("ENV.WANDB_API_KEY", "****", "serving/.env", 1, secret=True),
        ),
    )
    findings = [
        Finding(
            "shared",
            "package",
            p,
            "info",
            "DA104",
            f"{p} shared",
            "training",
            "serving",
            "1.0",
            "1.0",
            "serving/requirements.txt",
            n,
        )
        for n, p in enumerate(packages[5:])
    ]
    findings += [
        Finding(
            "drift",
            "package",
            p,
            "medium",
            "DA102",
            f"{p} differs",
            "training",
            "serving",
            f"1.{n}.0",
            f"1.{n + i % 3}.0",
            "serving/requirements.txt",
            n,
        )
        for n, p in enumerate(packages[:5])
        if i % 3
    ]
    findings += [
        Finding(
            "leftover",
            "package",
            f"train{k}",
            ("high", "medium", "low")[k % 3],
            "DA101",
            f"train{k} in serving",
            "training",
            "serving",
            "",
            "1.0",
            "serving/requirements.txt",
            50 + k,
        )
        for k in range(i % 7)
    ]
    return TreeAudit((training, serving), tuple(findings), config_origin="conventions")


def build_store(url: str, commits: int) -> None:
    engine = open_engine(url)
    states = [state(i) for i in range(STATES)]
    start = datetime(2020, 1, 1, tzinfo=UTC)
    with RepoWriter(engine, "big_repo", batch_size=1000) as writer:
        hashes = [writer.add_state(s) for s in states]
        for n in range(commits):
            # a new state every ~166 commits, like real environment-file changes
            index = (n * STATES) // commits
            sha = f"{n:040x}"
            info = CommitInfo(
                sha,
                (f"{n - 1:040x}",) if n else (),
                f"dev{n % 13}",
                f"dev{n % 13}@example.com",
                (start + timedelta(hours=6 * n)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                f"change {n}",
            )
            writer.add_commit(info, signature=f"sig{index}", state_hash=hashes[index])
        writer.finish(branch="main", shallow=False, since=None, seconds=0.0)
    engine.dispose()


def collect_store(url: str, commits: int) -> str:
    """A store made the way users make one: ``depaudit collect`` of bench_collect's
    env-only repository."""
    import subprocess

    sys.path.insert(0, str(ROOT / "bench"))
    from bench_collect import env_only_repository

    repo, _ = env_only_repository(commits)
    subprocess.run(
        [str(Path(sys.executable).parent / "depaudit"), "collect", str(repo), "--db", url],
        check=True,
        capture_output=True,
    )
    return repo.name


def render(url: str, page: str, repo: str = "big_repo") -> tuple[float, float]:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    os.environ["DEPAUDIT_DASHBOARD_DB"] = url
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=120)
    at.query_params["repo"] = repo
    if page != "overview":
        at.switch_page(f"views/{page}.py")
    t0 = time.perf_counter()
    at.run()
    cold = time.perf_counter() - t0
    if at.exception:
        raise SystemExit(f"{page}: {at.exception[0].value}")
    t1 = time.perf_counter()
    at.run()
    warm = time.perf_counter() - t1
    return cold, warm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=10_000)
    parser.add_argument("--db", type=Path, default=None, help="reuse / keep the store here")
    parser.add_argument(
        "--source",
        choices=("collect", "writer"),
        default="collect",
        help="collect: depaudit collect of bench_collect.py's repository (577 states); "
        "writer: RepoWriter with 60 synthetic states",
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench_dashboard_"))
    db = args.db or workdir / "big.db"
    url = f"sqlite:///{db.resolve()}"
    repo = "big_repo"
    t0 = time.perf_counter()
    if args.source == "collect":
        repo = collect_store(url, args.commits)  # incremental: a kept --db is reused
        print(f"store: {args.commits} commits collected in {time.perf_counter() - t0:.1f} s ({db})")
    elif not db.exists():
        build_store(url, args.commits)
        print(
            f"store: {args.commits} commits, {STATES} states written in {time.perf_counter() - t0:.1f} s ({db})"
        )
    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    render(
        url, "rules", repo
    )  # untimed: imports streamlit, pandas and plotly once, as a started server has
    print(f"{'page':<12} {'cold s':>8} {'warm s':>8}  target cold<3 warm<1")
    worst_cold = worst_warm = 0.0
    for page in PAGES:
        cold, warm = render(url, page, repo)
        worst_cold, worst_warm = max(worst_cold, cold), max(worst_warm, warm)
        ok = "ok" if cold < 3 and warm < 1 else "SLOW"
        print(f"{page:<12} {cold:>8.2f} {warm:>8.2f}  {ok}")
    print(f"worst: cold {worst_cold:.2f} s, warm {worst_warm:.2f} s")


if __name__ == "__main__":
    main()
