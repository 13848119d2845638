"""Benchmark: ``depaudit check`` on a repository with 50 environment files, and on a small
one side by side with deptry.

Prints the median wall time of ``depaudit check`` (working tree and ``--rev HEAD``) and
ratios against baselines measured in the same run: ``git ls-files`` + ``git cat-file
--batch`` reading the same files (the I/O floor) and ``python -c pass`` (interpreter start).

Then ``depaudit check`` and ``deptry .`` on the same 5-file repository (pyproject.toml,
requirements.txt, Dockerfile, two Python files), where start-up is nearly all the time: the
ratio is the cost of depaudit's imports next to a tool users run in the same CI step
(target: within 2x). deptry is not a depaudit dependency; install it apart:

    python3 -m venv /tmp/deptry && /tmp/deptry/bin/pip install deptry
    .venv/bin/python bench/bench_check.py [--repeat 5] [--deptry /tmp/deptry/bin/deptry]
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
    commit_files(root, files, "bench")
    return sum(1 for p in files if not p.endswith(".py"))


# A small service repository: a pyproject for deptry and depaudit alike, the image's
# requirements, its Dockerfile, the served app and the training script.
SMALL_REPO = {
    "pyproject.toml": (
        '[project]\nname = "fraud-model"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
        'dependencies = ["fastapi>=0.110", "scikit-learn==1.4.2", "joblib>=1.3"]\n\n'
        '[project.optional-dependencies]\ntrain = ["mlflow==2.11.1", "optuna>=3.6"]\n'
    ),
    "requirements.txt": "fastapi==0.110.0\nscikit-learn==1.4.2\njoblib==1.3.2\nmlflow==2.11.1\n",
    "Dockerfile": (
        "FROM python:3.11-slim\nCOPY requirements.txt .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\nCOPY app/ app/\n"
        'CMD ["uvicorn", "app.serve:app"]\n'
    ),
    "app/serve.py": (
        "import joblib\nfrom fastapi import FastAPI\n\napp = FastAPI()\n"
        'model = joblib.load("model.joblib")\n'
    ),
    "train.py": "import mlflow\nimport optuna\nfrom sklearn.ensemble import RandomForestClassifier\n",
}


def build_small_repo(root: Path) -> None:
    commit_files(root, SMALL_REPO, "small")


def commit_files(root: Path, files: dict[str, str], message: str) -> None:
    """A new git repository at ``root`` whose one commit holds ``files``."""
    for path, text in files.items():
        full = root / path
        full.parent.mkdir(parents=True, exist_ok=True)
        full.write_text(text)
    run(["git", "init", "-q", "-b", "main"], root)
    run(["git", "add", "-A"], root)
    run(["git", "-c", "user.name=b", "-c", "user.email=b@x", "commit", "-qm", message], root)


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
    parser.add_argument(
        "--deptry", default=shutil.which("deptry"), help="deptry executable (default: on PATH)"
    )
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="depaudit-bench-check-"))
    small = Path(tempfile.mkdtemp(prefix="depaudit-bench-small-"))
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
        compare_with_deptry(small, args.deptry, args.repeat)
    finally:
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(small, ignore_errors=True)


def compare_with_deptry(small: Path, deptry: str | None, repeat: int) -> None:
    """``depaudit check`` and ``deptry .`` side by side on the 5-file repository.

    The two runs alternate, so a load that comes and goes on a shared machine weighs on
    both alike; the ratio is of the medians.
    """
    build_small_repo(small)
    check = [str(BIN / "depaudit"), "check", ".", "-q", "--format", "csv", "--fail-on", "never"]
    commands = {"depaudit check": check}
    if deptry is not None:
        commands["deptry ."] = [deptry, "."]
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, cmd in commands.items():
            start = time.perf_counter()
            # both exit non-zero on what they find in it; only the time is compared
            subprocess.run(cmd, cwd=small, capture_output=True)
            samples[name].append(time.perf_counter() - start)
    median = {name: statistics.median(values) for name, values in samples.items()}
    print(f"\nsmall repository: {len(SMALL_REPO)} files (median of {repeat}, runs alternating)")
    for name, value in median.items():
        print(f"{name + ':':<41}{value * 1000:8.1f} ms")
    if deptry is None:
        print(
            "deptry: not found (python3 -m venv /tmp/deptry && /tmp/deptry/bin/pip install deptry)"
        )
        return
    ratio = median["depaudit check"] / median["deptry ."]
    print(f"{'depaudit check / deptry:':<41}{ratio:8.2f}x (target: within 2x)")


if __name__ == "__main__":
    main()
