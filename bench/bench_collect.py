"""Benchmark ``depaudit collect`` on a realistic ML-service history against the git floor.

    .venv/bin/python bench/bench_collect.py                  # 10,000 commits, realistic mix
    .venv/bin/python bench/bench_collect.py --profile 15     # and the collector's top 15 (cProfile)
    .venv/bin/python bench/bench_collect.py --mix env-only   # the older, flattering history

The repository is generated once with ``git fast-import`` and cached under ``bench/out/``
(keyed by its parameters). ``--mix realistic`` (default) is a training / serving / common
Python service whose commits mostly edit code, as real ML repositories do: of the commits,
~88% edit code (80% of those change a function body or add a function without touching an
import, most of them moving the lines below, 10% add or remove an import, 5% add a module, 5% rename or delete one), ~10% edit an
environment file (bump a pin, add a package, change a base image, add an env var, change a
config value; a quarter revert the previous change of that file, A -> B -> A) and the rest
docs, data or notebooks (see ``synth_repo.py``). ``--mix env-only`` is the history this script
used before: 10% of commits switch an environment file between fixed variants, the rest touch
docs and data only.

In one run it measures, as subprocesses:

1. the floor: ``git log --raw --no-renames --first-parent`` over the history (best of 3);
2. a full ``depaudit collect`` into a fresh SQLite store: time, ratio to the floor
   (target <= 20x, aim 10x), per-commit cost, peak RSS, store size after a WAL checkpoint,
   and, per kind of commit, how many made a new state (audited and stored; the rest cost
   only their state key);
3. a no-op re-collect (target < 1.5 s, interpreter start included);
4. with ``--sample N``: the naive way, a checkout and ``depaudit check`` of N sampled commits.

Ratios use CPU time (user + system of the child and the git processes it ran): the machine
is shared, and CPU time is what another load disturbs least. Wall time is printed next to it.
"""

from __future__ import annotations

import argparse
import pstats
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from fastimport import OUT, Commit, cached_repository, import_history
from measure import (
    DEPAUDIT,
    Run,
    collect,
    commit_count,
    fresh_store,
    git_log_floor,
    load_note,
    run,
    store_mb,
)
from synth_repo import Shape, commit_kinds, describe, realistic_repository

TARGET_RATIO, AIM_RATIO, NOOP_TARGET = 20.0, 10.0, 1.5


# -- the env-only history (kept to compare with earlier numbers, and for bench_dashboard) ----


def _variants() -> dict[str, list[str]]:
    """Environment files and a few versions of each (versions repeat: A -> B -> A)."""
    torch = ["2.0.1", "2.1.0", "2.1.2", "2.2.0"]
    files: dict[str, list[str]] = {}
    for side, extra in (
        ("training", "wandb==0.16.{v}\noptuna==3.6.1\n"),
        ("serving", "fastapi==0.110.{v}\nuvicorn==0.29.0\n"),
    ):
        files[f"{side}/requirements.txt"] = [
            f"torch=={t}\nnumpy==1.26.4\npandas==2.1.4\n" + extra.format(v=i)
            for i, t in enumerate(torch)
        ]
        files[f"{side}/requirements-dev.txt"] = [
            f"pytest==8.{i}.0\nruff==0.4.{i}\n" for i in range(3)
        ]
        files[f"{side}/Dockerfile"] = [
            f"FROM python:3.1{v}-slim\nRUN apt-get update && apt-get install -y libgomp1\nCOPY . /app\n"
            f'CMD ["python", "-m", "{side}.main"]\n'
            for v in (0, 1, 2)
        ]
        files[f"{side}/pyproject.toml"] = [
            f'[project]\nname = "{side}"\nversion = "0.{i}.0"\ndependencies = ["scikit-learn==1.{3 + i}.0"]\n'
            for i in range(3)
        ]
        files[f"{side}/config.yaml"] = [
            f"batch_size: {32 * (i + 1)}\nlog_level: info\nepochs: {10 + i}\n" for i in range(3)
        ]
        files[f"{side}/main.py"] = [
            f"import numpy as np\n\n\ndef preprocess(x):\n    return np.asarray(x) * {i + 1}\n"
            for i in range(3)
        ]
        files[f"{side}/features.py"] = [
            f"def scale(v):\n    return v / {i + 2}\n" for i in range(2)
        ]
    files["training/k8s/job.yaml"] = [
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: trainer\nspec:\n  template:\n    spec:\n"
        "      containers:\n      - name: trainer\n        image: trainer:1\n        resources:\n"
        f"          limits:\n            nvidia.com/gpu: {g}\n            memory: 64Gi\n"
        for g in (1, 2, 4)
    ]
    files["serving/k8s/deployment.yaml"] = [
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n"
        "      containers:\n      - name: api\n        image: api:1\n        resources:\n"
        f"          requests:\n            cpu: {c}\n            memory: 2Gi\n"
        for c in ("500m", "1", "2")
    ]
    files["docker-compose.yml"] = [
        f"services:\n  trainer:\n    build: training\n  api:\n    build: serving\n    ports: ['{p}:8000']\n"
        for p in (8000, 8080)
    ]
    return files


def env_only_history(commits: int, seed: int = 7) -> Iterator[Commit]:
    """10% of commits switch one environment file to one of its variants; the rest touch docs
    and data (the same trees as this script's history before the realistic mix existed)."""
    rng = random.Random(seed)
    variants = _variants()
    env_paths = sorted(variants)
    for n in range(commits):
        if n == 0:
            changes = {p: v[0] for p, v in variants.items()}
            changes["README.md"] = "# bench\n"
        elif rng.random() < 0.10:
            p = rng.choice(env_paths)
            changes = {p: rng.choice(variants[p])}
        else:
            changes = {
                f"docs/notes-{n % 50}.md": f"note {n}\n",
                f"data/sample-{n % 20}.csv": f"a,b\n{n},{n * 2}\n",
            }
        yield Commit(f"commit {n}", {p: c.encode() for p, c in changes.items()})


def env_only_repository(commits: int, seed: int = 7) -> tuple[Path, bool]:
    return cached_repository(
        "env-only",
        {"generator": "env-only-1", "commits": commits, "seed": seed},
        lambda path: import_history(path, env_only_history(commits, seed)),
    )


# -- measuring ----------------------------------------------------------------------------


def row(label: str, r: Run, note: str = "") -> None:
    print(f"  {label:<34} {r.cpu:>9.2f} {r.wall:>9.2f}  {note}")


def new_states_by_kind(repo: Path, db: Path) -> list[str]:
    """Lines saying, per kind of commit, how many made a state the store had not seen (the
    collector audited and stored it): the commits that cost more than a key computation.
    Empty when the history records no kinds or the store's tables are not as expected."""
    kinds = commit_kinds(repo)
    if kinds is None:
        return []
    shas = subprocess.run(
        ["git", "-C", str(repo), "rev-list", "--first-parent", "--reverse", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    kind_of = dict(zip(shas, kinds, strict=False))
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            rows = conn.execute("SELECT sha, state_id FROM commits ORDER BY seq").fetchall()
        conn.close()
    except sqlite3.Error as exc:  # the store's schema is not this script's: say so, go on
        return [f"  (new states by kind of commit: not read from the store: {exc})"]
    seen: set[object] = set()
    total: Counter[str] = Counter()
    new: Counter[str] = Counter()
    for sha, state in rows:
        kind = kind_of.get(sha, "?")
        total[kind] += 1
        if state not in seen:
            seen.add(state)
            new[kind] += 1
    width = max(len(k) for k in total)
    lines = [
        f"  commits that made a new state (audited and stored), by kind: {sum(new.values())} "
        f"of {sum(total.values())} ({100 * sum(new.values()) / max(sum(total.values()), 1):.0f}%)"
    ]
    for kind, count in sorted(total.items(), key=lambda kv: -kv[1]):
        lines.append(
            f"    {kind:<{width}} {new[kind]:>6} of {count:>6}  {100 * new[kind] / count:5.1f}%"
        )
    return lines


def profile(repo: Path, top: int, commits: int) -> None:
    """One collect of the first ``commits`` commits under cProfile (slower than the timed
    run): the collector's own functions by cumulative time, then all functions by self time."""
    shas = subprocess.run(
        ["git", "-C", str(repo), "rev-list", "--first-parent", "--reverse", "main"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    last = shas[min(commits, len(shas)) - 1]
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        db, out = Path(tmp) / "store.db", Path(tmp) / "collect.prof"
        cmd = [sys.executable, "-m", "cProfile", "-o", str(out), DEPAUDIT]
        done = run(
            [*cmd, "collect", str(repo), "--db", str(db), "--branch", last], keep_stdout=False
        )
        if done.returncode != 0:
            print(f"profiled collect failed: {done.last_line()}", file=sys.stderr)
            return
        n = min(commits, len(shas))
        print(
            f"\ncProfile of a collect of the first {n} commits ({done.wall:.1f} s wall, "
            f"{done.cpu:.1f} s CPU under the profiler)"
        )
        stats = pstats.Stats(str(out), stream=sys.stdout)
        print(f"top {top} functions of depaudit and collectors by cumulative time:")
        stats.sort_stats("cumulative").print_stats(r"/(depaudit|collectors)/", top)
        print(f"top {top} functions by self time:")
        stats.sort_stats("tottime").print_stats(top)


def naive(repo: Path, sample: int, per_commit_cpu: float, per_commit_wall: float) -> None:
    work = OUT / "naive-worktree"
    shutil.rmtree(work, ignore_errors=True)
    shas = subprocess.run(
        ["git", "rev-list", "main"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.split()
    picked = random.Random(1).sample(shas, min(sample, len(shas)))
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(repo), str(work)], check=True)
    cpu = wall = 0.0
    for sha in picked:
        for cmd in (
            ["git", "-C", str(work), "checkout", "-q", "-f", sha],
            [DEPAUDIT, "check", str(work), "--format", "csv", "--fail-on", "never", "--quiet"],
        ):
            r = run(cmd, keep_stdout=False)
            cpu, wall = cpu + r.cpu, wall + r.wall
    shutil.rmtree(work, ignore_errors=True)
    n = len(picked)
    print(
        f"  naive checkout + check, per commit: {1000 * cpu / n:.0f} ms CPU, {1000 * wall / n:.0f} ms wall "
        f"(sampled {n}); naive / collect: {cpu / n / per_commit_cpu:.0f}x CPU, "
        f"{wall / n / per_commit_wall:.0f}x wall (target >= 100x)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        epilog="The repository is cached in bench/out/ (git-ignored); delete it to regenerate.",
    )
    parser.add_argument(
        "--commits", type=int, default=10_000, help="history length (default 10000)"
    )
    parser.add_argument(
        "--mix",
        choices=("realistic", "env-only"),
        default="realistic",
        help="realistic: mostly code edits, as in real ML repositories (default); "
        "env-only: the older history of environment edits and docs only",
    )
    parser.add_argument(
        "--files",
        type=int,
        default=200,
        help="files in the first commit (realistic mix; default 200)",
    )
    parser.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")
    parser.add_argument(
        "--sample",
        type=int,
        default=20,
        metavar="N",
        help="also time checkout + `depaudit check` of N sampled commits, the naive way (default 20; 0 skips)",
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="TOP",
        help="also run one collect under cProfile and print its TOP functions by cumulative time",
    )
    parser.add_argument(
        "--profile-commits",
        type=int,
        default=1000,
        metavar="N",
        help="profile a collect of the first N commits only (default 1000)",
    )
    args = parser.parse_args(argv)

    print(f"machine: {load_note()} (ratios use CPU time; wall time depends on that load)")
    started = time.perf_counter()
    if args.mix == "realistic":
        repo, reused, stats = realistic_repository(args.commits, Shape(files=args.files), args.seed)
    else:
        (repo, reused), stats = env_only_repository(args.commits, args.seed), Counter()
    how = "reused" if reused else f"generated in {time.perf_counter() - started:.1f} s"
    commits = commit_count(repo)
    print(f"repository: {repo} ({commits} commits, {args.mix} mix, {how})")
    if stats:
        print("\n".join(describe(stats, commits)))

    print(f"\n  {'':<34} {'CPU s':>9} {'wall s':>9}")
    floor = git_log_floor(repo)
    row("git log --raw (floor, best of 3)", floor)
    db = OUT / f"bench-collect-{repo.name}.db"
    fresh_store(db)
    full = collect(repo, db)
    if full.returncode != 0:
        print(full.stderr, file=sys.stderr)
        return 1
    row("full collect, fresh store", full, f"[{full.last_line()}]")
    noop = collect(repo, db)
    row("no-op re-collect", noop, f"target < {NOOP_TARGET} s  [{noop.last_line()}]")

    ratio_cpu, ratio_wall = full.cpu / max(floor.cpu, 1e-9), full.wall / max(floor.wall, 1e-9)
    print()
    print(
        f"  ratio full collect / floor: {ratio_cpu:.0f}x CPU, {ratio_wall:.0f}x wall "
        f"(target <= {TARGET_RATIO:.0f}x, aim {AIM_RATIO:.0f}x)"
    )
    print(
        f"  per commit: {1000 * full.cpu / commits:.2f} ms CPU, {1000 * full.wall / commits:.2f} ms wall "
        f"(floor: {1000 * floor.cpu / commits:.3f} ms CPU)"
    )
    print(f"  peak RSS of the collector: {full.max_rss_mb:.0f} MB")
    print(f"  store: {store_mb(db):.1f} MB (SQLite, after a WAL checkpoint)")
    breakdown = new_states_by_kind(repo, db)
    if breakdown:
        print("\n".join(["", *breakdown]))
    if args.sample:
        naive(repo, args.sample, full.cpu / commits, full.wall / commits)
    if args.profile:
        profile(repo, args.profile, args.profile_commits)
    return 0


if __name__ == "__main__":
    sys.exit(main())
