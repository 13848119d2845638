"""Per-commit cost of ``depaudit collect`` against the size of the tree.

    .venv/bin/python bench/bench_tree_size.py                       # 5,000 commits at 1k / 5k / 20k files
    .venv/bin/python bench/bench_tree_size.py --sizes 1000,20000 --commits 2000

For each size it generates (once, cached under ``bench/out/``) the realistic ML-service history
of ``bench_collect.py`` (same commit mix, see ``synth_repo.py``) whose first commit has that
many files. As in real repositories most of them are not code: docs, CSV and Parquet data,
figures, JSON samples, experiment configs and notebooks; 10% are Python (the packages grow with
the tree: modules in sub-packages, tests). In one run, per size:

1. the floor: ``git log --raw --no-renames --first-parent`` (best of 3);
2. a collect of the first commit alone (the whole tree once: interpreter start, first parse);
3. a full collect into a fresh store; the per-commit cost is (full - first) / (commits - 1),
   i.e. what each later commit costs once the tree is known.

A collector whose per-commit cost follows what a commit changed, not the tree, costs about
the same per commit at every size: the target is the 20,000-file cost within 2x the 1,000-file
cost. CPU time (user + system, git children included) is used for the ratios; the machine is
shared, so wall time is printed but not compared.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from fastimport import OUT
from measure import Run, collect, commit_count, fresh_store, git_log_floor, load_note, store_mb
from synth_repo import Shape, describe, realistic_repository

CODE_FRACTION = 0.10
TARGET = 2.0  # largest tree's per-commit cost within 2x the smallest's


@dataclass(slots=True)
class SizeResult:
    files: int
    python: int
    env_paths: int | None
    commits: int
    floor: Run
    first: Run
    full: Run
    store_mb: float

    @property
    def per_commit_cpu(self) -> float:
        return max(self.full.cpu - self.first.cpu, 0.0) / max(self.commits - 1, 1)

    @property
    def per_commit_wall(self) -> float:
        return max(self.full.wall - self.first.wall, 0.0) / max(self.commits - 1, 1)


def _tree(repo: Path, rev: str) -> list[str]:
    out = subprocess.run(
        ["git", "-C", str(repo), "ls-tree", "-r", "--name-only", rev],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.splitlines()


def _env_paths(paths: list[str]) -> int | None:
    """How many of ``paths`` the collector treats as environment files (its own rule)."""
    try:
        from depaudit.collectors.snapshot import is_environment_path
    except ImportError:  # the collector is being restructured: the count is only informative
        return None
    return sum(1 for p in paths if is_environment_path(p))


def measure_size(files: int, commits: int, seed: int) -> SizeResult:
    started = time.perf_counter()
    repo, reused, stats = realistic_repository(commits, Shape(files, CODE_FRACTION), seed)
    how = "reused" if reused else f"generated in {time.perf_counter() - started:.1f} s"
    n = commit_count(repo)
    print(f"\n== {files} files: {repo} ({n} commits, {how})")
    print("\n".join(describe(stats, n)[:1]))
    first_sha = subprocess.run(
        ["git", "-C", str(repo), "rev-list", "--max-parents=0", "main"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[0]
    paths = _tree(repo, first_sha)
    floor = git_log_floor(repo)
    db = OUT / f"bench-tree-{repo.name}.db"
    fresh_store(db)
    first = collect(repo, db, "--branch", first_sha)
    fresh_store(db)
    full = collect(repo, db)
    for label, r in (("first commit", first), ("full", full)):
        if r.returncode != 0:
            raise SystemExit(f"bench_tree_size: {label} collect failed: {r.last_line()}")
    print(f"   first commit: {first.cpu:.2f} s CPU [{first.last_line()}]")
    print(f"   full collect: {full.cpu:.2f} s CPU, {full.wall:.2f} s wall [{full.last_line()}]")
    result = SizeResult(
        files=len(paths),
        python=sum(p.endswith(".py") for p in paths),
        env_paths=_env_paths(paths),
        commits=n,
        floor=floor,
        first=first,
        full=full,
        store_mb=store_mb(db),
    )
    fresh_store(db)
    return result


def print_table(results: list[SizeResult]) -> None:
    header = (
        f"{'files':>6} {'python':>6} {'env':>5} {'commits':>7} {'first s':>8} {'full s':>8} "
        f"{'wall s':>8} {'ms/commit':>9} {'floor ms':>8} {'ratio':>6} {'rss MB':>6} {'store MB':>8}"
    )
    print("\n" + header)
    print("-" * len(header))
    for r in results:
        floor_per = r.floor.cpu / max(r.commits, 1)
        env = "?" if r.env_paths is None else str(r.env_paths)
        print(
            f"{r.files:>6} {r.python:>6} {env:>5} {r.commits:>7} {r.first.cpu:>8.2f} "
            f"{r.full.cpu:>8.2f} {r.full.wall:>8.1f} {1000 * r.per_commit_cpu:>9.2f} "
            f"{1000 * floor_per:>8.3f} {r.full.cpu / max(r.floor.cpu, 1e-9):>6.0f} "
            f"{r.full.max_rss_mb:>6.0f} {r.store_mb:>8.1f}"
        )
    print(
        "(files / python / env: in the first commit; env = paths the collector reads as environment "
        "files; first s, full s: collect CPU seconds of the first commit alone and of the whole "
        "history; ms/commit: (full - first) / (commits - 1), CPU; floor ms: git log --raw per "
        "commit, CPU; ratio: full / git log, CPU)"
    )
    if len(results) >= 2:
        small, large = results[0], results[-1]
        growth = large.per_commit_cpu / max(small.per_commit_cpu, 1e-9)
        verdict = "ok" if growth <= TARGET else "over"
        print(
            f"per-commit cost at {large.files} files / at {small.files} files: {growth:.1f}x CPU "
            f"(target within {TARGET:.0f}x: {verdict})"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        epilog="Repositories are cached in bench/out/ (git-ignored); delete it to regenerate.",
    )
    parser.add_argument("--commits", type=int, default=5000, help="history length (default 5000)")
    parser.add_argument(
        "--sizes",
        default="1000,5000,20000",
        help="comma-separated file counts of the first commit (default 1000,5000,20000)",
    )
    parser.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")
    args = parser.parse_args(argv)
    try:
        sizes = sorted(int(s) for s in args.sizes.split(","))
    except ValueError:
        parser.error(f"--sizes: not a comma-separated list of integers: {args.sizes!r}")
    if args.commits < 2:
        parser.error("--commits must be at least 2")
    print(f"machine: {load_note()} (ratios use CPU time; wall time depends on that load)")
    results = [measure_size(size, args.commits, args.seed) for size in sizes]
    print_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
