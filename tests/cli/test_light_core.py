"""``pip install depaudit`` (no extra): every command but the dashboard works without
Streamlit, pandas, plotly or pyarrow, ``live --pipdeptree-json`` works without pipdeptree,
and the dashboard and ``live --python`` name the extra to install.

The extras' packages are hidden from a subprocess by a meta-path finder that refuses
them, the way a virtualenv without the extras refuses them. The finder also logs every
attempt, so a command that imports one and swallows the ImportError still fails here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.gitrepo import GitRepo

DASHBOARD_PACKAGES = ("streamlit", "pandas", "plotly", "pyarrow")
LIVE_PACKAGES = ("pipdeptree", "nab")

# Run as ``python -c``: install the blocker, then the real CLI entry point.
BLOCKED_CLI = textwrap.dedent(
    """
    import os, sys

    BLOCKED = {blocked!r}
    LOG = os.environ["BLOCKED_IMPORT_LOG"]

    class Refuse:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                with open(LOG, "a") as log:
                    log.write(name + "\\n")
                raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
            return None

    sys.meta_path.insert(0, Refuse())
    sys.argv = ["depaudit", *sys.argv[1:]]
    from depaudit.cli import main
    main()
    """
).format(blocked=DASHBOARD_PACKAGES + LIVE_PACKAGES)

FILES = {
    "training/requirements.txt": "scikit-learn==1.3.2\nmlflow==2.11.1\noptuna==3.6.1\n",
    "training/train.py": "import optuna\nimport sklearn\n",
    "serving/requirements.txt": "scikit-learn==1.3.2\nfastapi==0.110.0\nmlflow==2.11.1\n",
    "serving/app.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
}


def run_light_core(
    tmp_path: Path, *args: str, cwd: Path | None = None
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """``depaudit ARGS`` with the extras' packages refused; (result, imports attempted)."""
    log = tmp_path / "blocked-imports.log"
    log.unlink(missing_ok=True)
    result = subprocess.run(
        [sys.executable, "-c", BLOCKED_CLI, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd or tmp_path,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "BLOCKED_IMPORT_LOG": str(log),
        },
    )
    attempts = log.read_text().split() if log.exists() else []
    return result, attempts


def sample_repo(tmp_path: Path) -> Path:
    repo = GitRepo(tmp_path / "fraud")
    repo.commit("training and serving", FILES)
    return repo.path


def test_the_blocker_refuses_the_dashboard_packages(tmp_path: Path) -> None:
    # the check itself must be able to fail: importing pandas under the blocker is refused
    result = subprocess.run(
        [sys.executable, "-c", BLOCKED_CLI.replace("main()", "import pandas")],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "BLOCKED_IMPORT_LOG": str(tmp_path / "log")},
    )
    assert result.returncode != 0 and "No module named 'pandas'" in result.stderr
    assert (tmp_path / "log").read_text().split() == ["pandas"]


def test_check_works_without_the_dashboard_packages(tmp_path: Path) -> None:
    repo = sample_repo(tmp_path)
    result, attempts = run_light_core(
        tmp_path, "check", str(repo), "--format", "json", "--fail-on", "medium"
    )
    # mlflow in serving is a medium leftover: the gate fails on it, as with every package
    assert result.returncode == 1, result.stderr
    assert '"DA101"' in result.stdout and '"mlflow"' in result.stdout
    assert "Traceback" not in result.stderr
    assert attempts == []
    result, attempts = run_light_core(tmp_path, "check", str(repo), "--fail-on", "high")
    assert result.returncode == 0, result.stderr
    assert attempts == []


def test_collect_report_history_and_split_work_without_them(tmp_path: Path) -> None:
    repo = sample_repo(tmp_path)
    db = f"sqlite:///{tmp_path / 'store.db'}"
    outputs = {}
    for args in (
        ("collect", str(repo), "--db", db),
        ("report", "--db", db, "--repo", "fraud", "--format", "csv"),
        ("history", "--db", db, "--repo", "fraud", "--format", "json"),
        ("split", str(repo)),
    ):
        result, attempts = run_light_core(tmp_path, *args)
        assert result.returncode == 0, (args, result.stderr)
        assert "Traceback" not in result.stderr, args
        assert attempts == [], args
        outputs[args[0]] = result.stdout
    assert "DA101" in outputs["report"] and "mlflow" in outputs["report"]
    (head,) = json.loads(outputs["history"])["commits"]
    # mlflow in serving (DA101) and scikit-learn that only training code imports (DA106)
    assert head["leftover_medium"] == 2 and head["leftover_high"] == 0
    assert "-mlflow==2.11.1" in outputs["split"]


def test_dashboard_and_demo_name_the_extra(tmp_path: Path) -> None:
    for args in (("dashboard",), ("demo",), ("dashboard", "--db", "sqlite:///nowhere.db")):
        result, _ = run_light_core(tmp_path, *args)
        assert result.returncode == 2, (args, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, lines
        assert "pip install 'depaudit[dashboard]'" in lines[0]
        assert "missing: streamlit, pandas, plotly" in lines[0]


def test_dashboard_with_the_extra_goes_on_to_its_own_checks(tmp_path: Path) -> None:
    # with the packages installed, the extra check passes and the store check speaks
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "depaudit",
            "dashboard",
            "--db",
            f"sqlite:///{tmp_path / 'nope.db'}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "no depaudit store" in result.stderr and "depaudit[dashboard]" not in result.stderr


# `pipdeptree --json-tree` captured on the server: serving declares mlflow==2.11.1, 2.9.2 runs
LIVE_CAPTURE = [
    {
        "key": "mlflow",
        "package_name": "mlflow",
        "installed_version": "2.9.2",
        "required_version": "2.9.2",
        "dependencies": [],
    },
    {
        "key": "fastapi",
        "package_name": "fastapi",
        "installed_version": "0.110.0",
        "required_version": "0.110.0",
        "dependencies": [],
    },
    {
        "key": "scikit-learn",
        "package_name": "scikit-learn",
        "installed_version": "1.3.2",
        "required_version": "1.3.2",
        "dependencies": [],
    },
]


def test_live_from_a_capture_needs_no_pipdeptree_and_live_python_names_the_extra(
    tmp_path: Path,
) -> None:
    repo = sample_repo(tmp_path)
    db = f"sqlite:///{tmp_path / 'store.db'}"
    result, _ = run_light_core(tmp_path, "collect", str(repo), "--db", db)
    assert result.returncode == 0, result.stderr
    capture = tmp_path / "prod-pipdeptree.json"
    capture.write_text(json.dumps(LIVE_CAPTURE))
    live = ("live", "--repo", "fraud", "--env", "serving", "--db", db, "--format", "csv")
    result, attempts = run_light_core(tmp_path, *live, "--pipdeptree-json", str(capture))
    assert result.returncode == 0, result.stderr
    assert "mlflow" in result.stdout and "2.9.2" in result.stdout
    assert attempts == []

    result, attempts = run_light_core(tmp_path, *live, "--python", sys.executable)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        "depaudit: error: depaudit live --python needs the live extra: pip install 'depaudit[live]'"
        " (missing: pipdeptree)"
    ]
    assert attempts == ["pipdeptree"]
