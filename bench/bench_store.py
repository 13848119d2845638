"""Benchmark the size of the store against the size of the history it holds.

    .venv/bin/python bench/bench_store.py [--commits 2000] [--repo PATH ...]

Without ``--repo`` it generates (once, with ``git fast-import``) a repository under
``bench/out/`` shaped like a growing ML code base: every commit edits a Python module
of training/, serving/ or common/ (a changed function body is a new environment
state), one in 20 adds a module and one in 10 changes a requirements file. With
``--repo`` it measures the given repositories instead (a bare mirror or a clone; no
checkout needed).

For each repository, in one run: the size of ``git log --raw --no-renames`` (the
baseline: what the history itself says about its files), a full ``depaudit collect``
into a fresh SQLite store (wall time and peak memory of the collector), and the store
file after a WAL checkpoint. It prints MB per 1,000 commits and the ratio
store / git log, with the largest tables (SQLite's dbstat). Target: the store within
20x the git log of the same history (the v3 layout, one JSON copy of every changed
environment, was over 1,000x on real repositories).
"""

from __future__ import annotations

import argparse
import random
import resource
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
OUT = ROOT / "out"
DEPAUDIT = str(Path(sys.executable).parent / "depaudit")


def _data(text: str) -> bytes:
    raw = text.encode()
    return b"data %d\n%s\n" % (len(raw), raw)


def _module(name: str, version: int) -> str:
    """A module with a few functions; ``version`` changes one body."""
    funcs = "\n\n".join(
        f"def {name}_step_{i}(frame):\n"
        f"    values = np.asarray(frame) * {version if i == version % 6 else i + 1}\n"
        f"    return pd.DataFrame(values).fillna({i})\n"
        for i in range(6)
    )
    return f"import numpy as np\nimport pandas as pd\nfrom sklearn.preprocessing import StandardScaler\n\n\n{funcs}\n"


def generate(path: Path, commits: int, seed: int = 11) -> None:
    if (path / ".git").exists():
        return
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    rng = random.Random(seed)
    folders = ("training", "serving", "common")
    modules = [f"{folder}/m{i}.py" for folder in folders for i in range(10)]
    chunks: list[bytes] = []
    ts = 1_700_000_000
    for n in range(commits):
        lines = [b"commit refs/heads/main\n", b"mark :%d\n" % (n + 1)]
        lines.append(b"committer Bench <bench@example.com> %d +0000\n" % (ts + n * 600))
        lines.append(_data(f"commit {n}"))
        if n:
            lines.append(b"from :%d\n" % n)
        changes: dict[str, str] = {}
        if n == 0:
            changes = {m: _module(Path(m).stem, 0) for m in modules}
            changes["training/requirements.txt"] = "torch==2.1.0\nwandb==0.16.0\noptuna==3.6.1\n"
            changes["serving/requirements.txt"] = "torch==2.1.0\nfastapi==0.110.0\nwandb==0.16.0\n"
            changes["serving/Dockerfile"] = "FROM python:3.11-slim\nCOPY . /app\n"
        else:
            if rng.random() < 0.05:
                modules.append(f"{rng.choice(folders)}/added_{n}.py")
            target = rng.choice(modules)
            changes[target] = _module(Path(target).stem, n)
            if rng.random() < 0.10:
                side = rng.choice(("training", "serving"))
                changes[f"{side}/requirements.txt"] = (
                    f"torch==2.{n % 3}.0\nfastapi==0.110.{n % 5}\nwandb==0.16.{n % 4}\n"
                )
        for p, content in changes.items():
            lines.append(f"M 100644 inline {p}\n".encode())
            lines.append(_data(content))
        chunks.append(b"".join(lines))
    subprocess.run(["git", "fast-import", "--quiet"], cwd=path, input=b"".join(chunks), check=True)


def git_log_bytes(repo: Path) -> tuple[int, int]:
    """(bytes of ``git log --raw --no-renames --first-parent``, commits)."""
    log = subprocess.run(
        [
            "git",
            "log",
            "--raw",
            "--no-renames",
            "--first-parent",
            "--format=%H %P%n%an %ae %cI%n%s",
        ],
        cwd=repo,
        capture_output=True,
        check=True,
    ).stdout
    count = subprocess.run(
        ["git", "rev-list", "--first-parent", "--count", "HEAD"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return len(log), int(count)


def store_bytes(db: Path) -> tuple[int, list[tuple[str, int]]]:
    """Size of the SQLite file after a WAL checkpoint, and the largest tables."""
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    tables = con.execute(
        "SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC LIMIT 6"
    ).fetchall()
    con.close()
    wal = Path(f"{db}-wal")
    return db.stat().st_size + (wal.stat().st_size if wal.exists() else 0), tables


def measure(repo: Path, name: str) -> int:
    log_size, commits = git_log_bytes(repo)
    db = OUT / f"store-{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    start = time.perf_counter()
    proc = subprocess.run(
        [DEPAUDIT, "collect", str(repo), "--db", str(db), "--name", name],
        capture_output=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        print(proc.stderr.decode(), file=sys.stderr)
        return 1
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    size, tables = store_bytes(db)
    mb = 1024 * 1024
    print(
        f"{name}: {commits} commits, collect {seconds:.1f} s, peak memory so far {peak_mb:.0f} MB"
    )
    print(
        f"  git log --raw: {log_size / mb:.2f} MB ({log_size / mb / commits * 1000:.2f} MB per 1,000 commits) (baseline)"
    )
    print(
        f"  store: {size / mb:.2f} MB ({size / mb / commits * 1000:.2f} MB per 1,000 commits); "
        f"ratio store / git log: {size / log_size:.1f}x (target <= 20x)"
    )
    print("  largest tables: " + ", ".join(f"{t} {b / mb:.1f} MB" for t, b in tables))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=2000)
    parser.add_argument("--repo", type=Path, action="append", default=[])
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    repos = [(r, r.resolve().name.removesuffix(".git")) for r in args.repo]
    if not repos:
        path = OUT / f"store-repo-{args.commits}"
        t0 = time.perf_counter()
        generate(path, args.commits)
        print(f"repository: {path} (generated/reused in {time.perf_counter() - t0:.1f} s)")
        repos = [(path, f"generated-{args.commits}")]
    return max(measure(repo, name) for repo, name in repos)


if __name__ == "__main__":
    sys.exit(main())
