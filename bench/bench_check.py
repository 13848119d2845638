"""Benchmark: ``depaudit check`` on a repository with 50 environment files.

Prints the median wall time of ``depaudit check`` (working tree and ``--rev HEAD``) and
ratios against baselines measured in the same run: ``git ls-files`` + ``git cat-file
--batch`` reading the same files (the I/O floor) and ``python -c pass`` (interpreter start).

    .venv/bin/python bench/bench_check.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def build_repo(root: Path) -> int:
    """A realistic repo: 5 environments x 10 environment files each, plus code."""
    files: dict[str, str] = {}
    envs = ["training", "pipelines", "serving", "api", "inference"]
    for i, env in enumerate(envs):
        base = f"{env}"
        files[f"{base}/requirements.txt"] = "\n".join(
            [
                f"pandas==2.{i}.0",
                "numpy==1.26.4",
                f"scikit-learn==1.{3 + i % 2}.0",
                "optuna==3.6.1" if i % 2 == 0 else "fastapi==0.110.0",
                "-r base.txt",
            ]
        )
        files[f"{base}/base.txt"] = "requests>=2.31\npydantic>=2,<3\n"
        files[f"{base}/requirements-dev.txt"] = "pytest==8.0.0\nruff\n"
        files[f"{base}/Dockerfile"] = (
            f"ARG BASE=python:3.1{i % 2}-slim\nFROM ${{BASE}} AS build\nRUN apt-get update && apt-get install -y build-essential\n"
            "COPY requirements.txt .\nRUN pip install -r requirements.txt\nFROM python:3.11-slim\nCOPY --from=build /usr/local /usr/local\n"
            'ENV MLFLOW_TRACKING_URI=http://mlflow.internal:5000\nCMD ["uvicorn", "app:app"]\n'
        )
        files[f"{base}/config.yaml"] = (
            f"model:\n  name: fraud-{i}\n  threshold: 0.{i}\ndatabase:\n  url: postgresql://svc:pw{i}@db.internal/x\n"
        )
        files[f"{base}/settings.toml"] = f"[server]\nport = 80{i}0\nworkers = {i + 1}\n"
        files[f"{base}/.env"] = f"BIGQUERY_PROJECT=acme-{i}\nAPI_TOKEN=tok{i}abcdefabcdef\n"
        files[f"{base}/k8s.yaml"] = (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: "
            + env
            + "\nspec:\n  template:\n    spec:\n      containers:\n"
            "        - name: main\n          image: python:3.11-slim\n          resources:\n            limits:\n              cpu: '4'\n              memory: 8Gi\n"
        )
        files[f"{base}/pyproject.toml"] = (
            f'[project]\nname = "{env}"\nversion = "0.1"\ndependencies = ["numpy>=1.26", "joblib==1.3.2"]\nrequires-python = ">=3.10"\n'
        )
        files[f"{base}/.python-version"] = f"3.1{i % 2}\n"
        files[f"{base}/app.py"] = (
            "import numpy\nimport pandas\nfrom common import features\n\n\ndef main():\n    return features.build()\n"
        )
    files["common/features.py"] = "def build():\n    return 1\n"
    for path, text in files.items():
        full = root / path
        full.parent.mkdir(parents=True, exist_ok=True)
        full.write_text(text)
    run(["git", "init", "-q", "-b", "main"], root)
    run(["git", "add", "-A"], root)
    run(["git", "-c", "user.name=b", "-c", "user.email=b@x", "commit", "-qm", "bench"], root)
    return sum(1 for p in files if not p.endswith(".py"))


def run(cmd: list[str], cwd: Path, stdin: bytes | None = None) -> None:
    subprocess.run(
        cmd, cwd=cwd, input=stdin, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def timed(fn: object, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="depaudit-bench-check-"))
    try:
        n_files = build_repo(root)
        listing = subprocess.run(
            ["git", "ls-files", "-s"], cwd=root, capture_output=True, check=True
        ).stdout
        shas = b"\n".join(line.split()[1] for line in listing.splitlines()) + b"\n"

        def floor() -> None:
            subprocess.run(["git", "ls-files", "-s"], cwd=root, capture_output=True, check=True)
            run(["git", "cat-file", "--batch"], root, stdin=shas)

        depaudit = str(BIN / "depaudit")
        t_floor = timed(floor, args.repeat)
        t_python = timed(lambda: run([sys.executable, "-c", "pass"], root), args.repeat)
        t_check = timed(
            lambda: subprocess.run(
                [depaudit, "check", str(root), "-q", "--format", "csv", "--fail-on", "never"],
                capture_output=True,
                check=True,
            ),
            args.repeat,
        )
        t_rev = timed(
            lambda: subprocess.run(
                [
                    depaudit,
                    "check",
                    str(root),
                    "--rev",
                    "HEAD",
                    "-q",
                    "--format",
                    "csv",
                    "--fail-on",
                    "never",
                ],
                capture_output=True,
                check=True,
            ),
            args.repeat,
        )
        print(f"repository: {n_files} environment files, 5 environments (median of {args.repeat})")
        print(f"git ls-files + cat-file --batch (floor): {t_floor * 1000:8.1f} ms")
        print(f"python -c pass (interpreter start):      {t_python * 1000:8.1f} ms")
        print(
            f"depaudit check (working tree):           {t_check * 1000:8.1f} ms  = {t_check / t_floor:5.1f}x floor, {t_check / t_python:5.1f}x python start"
        )
        print(
            f"depaudit check --rev HEAD:               {t_rev * 1000:8.1f} ms  = {t_rev / t_floor:5.1f}x floor, {t_rev / t_python:5.1f}x python start"
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
