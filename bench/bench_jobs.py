"""Benchmark the scheduled job's parallelism: ``depaudit collect --repos ... --jobs N``.

    .venv/bin/python bench/bench_jobs.py [--repos 20] [--commits 2000] [--jobs 1,2]

Generates (once, with ``git fast-import``) ``--repos`` repositories of ``--commits``
commits each under ``bench/out/jobs/`` (about 1 commit in 10 changes an environment
file of training/ or serving/, the rest docs), writes a repos.toml, then for each
``--jobs`` value collects all of them into a fresh SQLite store and prints the wall
time and the speed-up over the first value, then a second, no-op run (nothing new: the
cost per repository that a nightly run pays). ``--jobs N`` runs N collector processes,
so the speed-up is bounded by the cores (2 on the CI machines) and by SQLite's single
writer.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
OUT = ROOT / "out" / "jobs"

ENV_FILES = {
    "training/requirements.txt": [
        f"torch==2.{i}.0\nnumpy==1.26.4\nwandb==0.16.{i}\noptuna==3.6.1\n" for i in range(4)
    ],
    "serving/requirements.txt": [
        f"torch==2.{i}.0\nnumpy==1.26.{i % 2}\nfastapi==0.110.{i}\n" for i in range(4)
    ],
    "serving/Dockerfile": [f"FROM python:3.1{v}-slim\nCOPY . /app\n" for v in (0, 1, 2)],
    "training/Dockerfile": [f"FROM nvidia/cuda:12.{v}.0-devel-ubuntu22.04\n" for v in (1, 2)],
    "serving/config.yaml": [f"log_level: info\nbatch_size: {16 * (i + 1)}\n" for i in range(3)],
    "serving/app.py": [
        f"import fastapi\nimport numpy as np\n\n\ndef predict(x):\n    return np.asarray(x) * {i}\n"
        for i in range(3)
    ],
}


def _blob(text: str) -> bytes:
    data = text.encode("utf-8")
    return b"data %d\n" % len(data) + data + b"\n"


def fast_import_stream(commits: int, seed: int) -> bytes:
    rng = random.Random(seed)
    out: list[bytes] = []
    when = 1_700_000_000
    for n in range(commits):
        when += 600
        message = f"commit {n}"
        out.append(b"commit refs/heads/main\n")
        out.append(b"committer Bench <bench@example.com> %d +0000\n" % when)
        out.append(_blob(message))
        if n == 0:
            for path, versions in ENV_FILES.items():
                out.append(f"M 100644 inline {path}\n".encode())
                out.append(_blob(versions[0]))
        elif rng.random() < 0.1:
            path = rng.choice(sorted(ENV_FILES))
            out.append(f"M 100644 inline {path}\n".encode())
            out.append(_blob(rng.choice(ENV_FILES[path])))
        else:
            out.append(f"M 100644 inline docs/notes-{n % 50}.md\n".encode())
            out.append(_blob(f"note {n}\n"))
        out.append(b"\n")
    return b"".join(out)


def make_repo(path: Path, commits: int, seed: int) -> None:
    if (path / "HEAD").exists() or (path / ".git").exists():
        return
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    subprocess.run(
        ["git", "-C", str(path), "fast-import", "--quiet"],
        input=fast_import_stream(commits, seed),
        check=True,
    )
    subprocess.run(["git", "-C", str(path), "reset", "-q", "--hard", "main"], check=True)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repos", type=int, default=20)
    parser.add_argument("--commits", type=int, default=2000)
    parser.add_argument("--jobs", default="1,2", help="comma-separated --jobs values")
    args = parser.parse_args()
    jobs = [int(j) for j in args.jobs.split(",")]

    base = OUT / f"{args.repos}x{args.commits}"
    started = time.monotonic()
    repos = [base / f"repo{i:02d}" for i in range(args.repos)]
    for i, repo in enumerate(repos):
        make_repo(repo, args.commits, seed=i)
    print(
        f"generated {args.repos} repos x {args.commits} commits in {time.monotonic() - started:.1f} s ({base})"
    )
    toml = base / "repos.toml"
    toml.write_text(
        "".join(f'[[repos]]\nname = "{r.name}"\npath = "{r}"\n\n' for r in repos), "utf-8"
    )

    depaudit = [sys.executable, "-m", "depaudit"]
    env = {**os.environ, "PYTHONPATH": str(ROOT.parent)}
    times: dict[int, float] = {}
    for n in jobs:
        store = base / f"store-jobs{n}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{store}{suffix}").unlink(missing_ok=True)
        command = [
            *depaudit,
            "collect",
            "--repos",
            str(toml),
            "--db",
            f"sqlite:///{store}",
            "--jobs",
            str(n),
            "--lock-timeout",
            "600",
        ]
        # the first run collects everything; the second finds nothing new, as most
        # nightly runs do: what is left is the cost per repository
        for run in ("full", "no-op"):
            cpu0, t0 = _children_cpu(), time.monotonic()
            done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
            wall, cpu = time.monotonic() - t0, _children_cpu() - cpu0
            failed = [ln for ln in done.stderr.splitlines() if ln.startswith("FAILED")]
            if done.returncode != 0 or failed:
                print(done.stderr[-2000:], file=sys.stderr)
                sys.exit(f"collect --jobs {n} failed")
            if run == "full":
                times[n] = wall
            print(
                f"--jobs {n} {run}: {wall:.2f} s wall, {cpu:.2f} s CPU for {args.repos} repos, "
                f"{args.repos * args.commits if run == 'full' else 0} new commits "
                f"({wall / args.repos:.2f} s wall per repo)"
            )
    first = jobs[0]
    for n in jobs[1:]:
        print(
            f"speed-up --jobs {n} vs --jobs {first}: {times[first] / times[n]:.2f}x (cores: {os.cpu_count()})"
        )


if __name__ == "__main__":
    main()
