"""``depaudit demo`` (what ``make demo`` runs) builds, collects and reports the samples."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DEPAUDIT = str(Path(sys.executable).parent / "depaudit")


def test_demo_builds_collects_and_reports_without_the_dashboard(tmp_path: Path) -> None:
    done = subprocess.run(
        [DEPAUDIT, "demo", "--no-dashboard", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    for name in ("tabular_fraud", "vision_gpu", "monorepo_uv"):
        assert (tmp_path / name / ".git").is_dir()
    assert (tmp_path / "demo.db").is_file()
    # the Markdown report of the vision_gpu head, with its remaining leftovers
    assert "# depaudit" in done.stdout or "Training leftovers in serving" in done.stdout
    assert "DA401" in done.stdout
    assert "Traceback" not in done.stderr
