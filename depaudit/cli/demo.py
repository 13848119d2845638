"""``depaudit demo``: sample repositories -> collect their history -> open the dashboard.

The sample scenarios live in the source checkout (``sample_repos/``), not in the installed
package: they are declarative histories materialized into real git repositories.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from depaudit.cli.app import app, fail, log
from depaudit.cli.extras import require_dashboard_extra

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ("tabular_fraud", "vision_gpu", "monorepo_uv")


def _run(args: list[str]) -> None:
    done = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, check=False)
    if done.returncode != 0:
        fail(f"demo step failed: {' '.join(args[:3])} (exit {done.returncode})")


@app.command()
def demo(
    out: Annotated[
        Path, typer.Option(help="Where the sample repositories and the demo store are built.")
    ] = ROOT / "sample_repos" / "build",
    port: Annotated[int, typer.Option(help="Dashboard port on 127.0.0.1.")] = 8501,
    no_dashboard: Annotated[
        bool, typer.Option("--no-dashboard", help="Stop after collecting and reporting.")
    ] = False,
) -> None:
    """Build the sample repositories, collect their history, print a report, open the dashboard."""
    if not no_dashboard:  # checked first: the samples take a while to build
        require_dashboard_extra("demo")
    if not (ROOT / "sample_repos" / "materialize.py").is_file():
        fail(
            "depaudit demo needs a source checkout (sample_repos/ is not installed with the package)"
        )
    out = out.resolve()
    db_file = out / "demo.db"
    _run(["sample_repos.materialize", "--out", str(out), *SCENARIOS])
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_file}{suffix}").unlink(missing_ok=True)
    db = f"sqlite:///{db_file}"
    _run(["depaudit", "collect", *(str(out / name) for name in SCENARIOS), "--db", db])
    _run(["depaudit", "report", "--db", db, "--repo", "vision_gpu", "--format", "markdown"])
    if no_dashboard:
        log(f"demo store: {db}")
        return
    _run(["depaudit", "dashboard", "--db", db, "--port", str(port)])
