"""Benchmark fleet collection: 1, 2, 4 shard processes into one PostgreSQL store.

    .venv/bin/python bench/bench_fleet.py [--repos 100] [--commits 300] [--shards 1,2,4]
        [--jobs 1] [--rounds 1] [--admin-url postgresql+psycopg://USER:PW@HOST/DB]

Generates (once, with ``git fast-import``) ``--repos`` ML service repositories under
``bench/out/fleet/`` with about ``--commits`` commits each (from half to one and a half
times that): most commits edit code in serving/, training/ and common/ (a few of those
change imports), about one in ten edits a requirements file, a Dockerfile, a compose file
or a manifest, the rest tests and docs. Then, in one run:

1. ``git log --raw --no-renames`` of every repository, one after another (the floor);
2. for each ``--shards`` value S: S ``depaudit collect --repos FILE --shard K/S --jobs J``
   processes started together into a fresh PostgreSQL database;

and prints wall time, CPU time, repos/s and commits/s of each S, and the ratios against
S = first value and against the git floor (``--rounds R``: the S values interleaved R
times, medians). Every run checks that each repository was
collected by exactly one shard, and that the store holds every commit.

The PostgreSQL server comes from ``--admin-url`` or ``$DEPAUDIT_TEST_POSTGRES_URL`` (a
role that may CREATE DATABASE; each run gets its own database, dropped afterwards).
The speed-up is bounded by the cores: print them, and read a 2-core machine's ~2x as
the ceiling. On a shared machine the CPU seconds are the steadier number.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench_collect import _variants

ROOT = Path(__file__).resolve().parent
OUT = ROOT / "out" / "fleet"

SERVING_MODULES = ["serving/app/api.py", "serving/app/predict.py", "serving/app/schemas.py"]
TRAINING_MODULES = ["training/train.py", "training/evaluate.py", "training/data.py"]
COMMON_MODULES = ["common/features.py", "common/model.py"]
TEST_MODULES = ["tests/test_api.py", "tests/test_features.py"]
# imports a code edit may add: most are harmless, some leak training into serving
IMPORTS = {
    "serving": ["numpy as np", "fastapi", "pydantic", "common.features", "training.data", "mlflow"],
    "training": ["numpy as np", "pandas as pd", "torch", "wandb", "optuna", "common.model"],
    "common": ["numpy as np", "math"],
    "tests": ["pytest", "common.features"],
}


def module_text(path: str, version: int, imports: list[str], shape: random.Random) -> str:
    """A plausible module: imports, a few functions whose bodies change between versions.

    ``shape`` (seeded by repository and path) fixes the function names, as a module keeps
    its functions across most edits; ``version`` changes their bodies.
    Function names are the module's own; training/data.py and serving/app/predict.py
    both carry a ``preprocess`` (the copy of inference code that must not drift)."""
    stem = path.rsplit("/", 1)[-1].removesuffix(".py")
    lines = [f'"""{stem}."""', ""]
    lines += [f"import {name}" for name in imports]
    lines += ["", ""]
    if path in ("training/data.py", "serving/app/predict.py"):
        lines += [
            "def preprocess(rows):",
            f"    return [(r - {version % 3}) / 255.0 for r in rows]",
            "",
            "",
        ]
    for n in range(shape.randint(4, 9)):
        verb = shape.choice(["load", "score", "clean", "encode", "merge"])
        arg = shape.choice(["x", "batch", "features", "rows"])
        lines += [
            f"def {verb}_{stem}_{n}({arg}, scale=1):",
            f'    """Step {n} of {stem}."""',
            f"    total = sum(v * scale * {version % 7 + n} for v in {arg})",
            f"    return total / max(len({arg}), {n + 1})",
            "",
            "",
        ]
    return "\n".join(lines)


def fast_import_stream(commits: int, seed: int) -> bytes:
    rng = random.Random(seed)
    variants = _variants()
    env_paths = sorted(variants)
    code_paths = SERVING_MODULES + TRAINING_MODULES + COMMON_MODULES
    imports = {p: [IMPORTS[p.split("/")[0]][0]] for p in code_paths + TEST_MODULES}  # start clean
    chunks: list[bytes] = []

    def data(text: str) -> bytes:
        raw = text.encode()
        return b"data %d\n%s\n" % (len(raw), raw)

    ts = 1_700_000_000 + seed * 1000
    for n in range(commits):
        lines = [b"commit refs/heads/main\n", b"mark :%d\n" % (n + 1)]
        lines.append(b"committer Dev <dev@example.com> %d +0000\n" % (ts + n * 3600))
        lines.append(data(f"change {n}"))
        if n:
            lines.append(b"from :%d\n" % n)
        roll = rng.random()
        if n == 0:
            changes = {p: v[0] for p, v in variants.items()}
            changes.update(
                {
                    p: module_text(p, 0, imports[p], random.Random(f"{seed}:{p}"))
                    for p in code_paths + TEST_MODULES
                }
            )
            changes["README.md"] = "# service\n"
        elif roll < 0.70:  # code: mostly bodies, sometimes an import
            path = rng.choice(code_paths)
            if rng.random() < 0.1:
                side = IMPORTS[path.split("/")[0]]
                imports[path] = sorted(set(rng.sample(side, rng.randint(1, min(3, len(side))))))
            changes = {path: module_text(path, n, imports[path], random.Random(f"{seed}:{path}"))}
        elif roll < 0.80:  # requirements, Dockerfiles, compose, manifests
            path = rng.choice(env_paths)
            changes = {path: rng.choice(variants[path])}
        elif roll < 0.90:
            path = rng.choice(TEST_MODULES)
            changes = {path: module_text(path, n, imports[path], random.Random(f"{seed}:{path}"))}
        else:
            changes = {f"docs/notes-{n % 20}.md": f"notes {n}\n"}
        for path, content in changes.items():
            lines.append(f"M 100644 inline {path}\n".encode())
            lines.append(data(content))
        chunks.append(b"".join(lines))
    return b"".join(chunks)


def make_repo(path: Path, commits: int, seed: int) -> None:
    if (path / ".git").exists():
        return
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    subprocess.run(
        ["git", "-C", str(path), "fast-import", "--quiet"],
        input=fast_import_stream(commits, seed),
        check=True,
    )
    subprocess.run(["git", "-C", str(path), "checkout", "-q", "-f", "main"], check=True)


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"depaudit_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def stored_commits(url: str) -> dict[str, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT r.name, count(c.id) FROM repos r JOIN commits c ON c.repo_id = r.id "
                "GROUP BY r.name"
            )
        ).all()
    engine.dispose()
    return {str(name): int(count) for name, count in rows}


def run_shards(toml: Path, url: str, shards: int, jobs: int) -> tuple[float, float, list[dict]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT.parent)}
    cpu0, t0 = children_cpu(), time.perf_counter()
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "depaudit",
                "collect",
                "--repos",
                str(toml),
                "--db",
                url,
                "--shard",
                f"{k}/{shards}",
                "--jobs",
                str(jobs),
                "--lock-timeout",
                "600",
                "--log-format",
                "json",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for k in range(1, shards + 1)
    ]
    errs = [p.communicate()[1] for p in procs]
    wall, cpu = time.perf_counter() - t0, children_cpu() - cpu0
    lines = []
    for proc, err in zip(procs, errs, strict=True):
        if proc.returncode != 0:
            sys.exit(f"a shard failed (exit {proc.returncode}):\n{err[-2000:]}")
        lines += [json.loads(ln) for ln in err.splitlines() if ln.startswith("{")]
    return wall, cpu, lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repos", type=int, default=100)
    parser.add_argument("--commits", type=int, default=300)
    parser.add_argument("--shards", default="1,2,4", help="comma-separated shard counts")
    parser.add_argument("--jobs", type=int, default=1, help="--jobs of each shard")
    parser.add_argument("--rounds", type=int, default=1, help="repeat, report the median")
    parser.add_argument("--admin-url", default=os.environ.get("DEPAUDIT_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    if not args.admin_url:
        print(
            "needs a PostgreSQL server: --admin-url or $DEPAUDIT_TEST_POSTGRES_URL", file=sys.stderr
        )
        return 2
    shard_counts = [int(s) for s in args.shards.split(",")]

    base = OUT / f"{args.repos}x{args.commits}"
    t0 = time.perf_counter()
    sizes = random.Random(0)
    repos = [base / f"svc{i:03d}" for i in range(args.repos)]
    for i, repo in enumerate(repos):
        make_repo(repo, sizes.randint(args.commits // 2, args.commits * 3 // 2), seed=i)
    truth = {
        r.name: int(
            subprocess.run(
                ["git", "-C", str(r), "rev-list", "--count", "HEAD"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        for r in repos
    }
    total = sum(truth.values())
    print(
        f"fleet: {args.repos} repositories, {total} commits ({base}, generated/reused in "
        f"{time.perf_counter() - t0:.1f} s)"
    )
    toml = base / "repos.toml"
    toml.write_text(
        "".join(f'[[repos]]\nname = "{r.name}"\npath = "{r}"\n\n' for r in repos), "utf-8"
    )
    cores = os.cpu_count() or 1
    print(
        f"machine: {cores} cores (expect at most ~{cores}x from shards), "
        f"load average {os.getloadavg()[0]:.1f} (other users share these cores)"
    )

    cpu0, t0 = children_cpu(), time.perf_counter()
    for repo in repos:
        subprocess.run(
            ["git", "-C", str(repo), "log", "--raw", "--no-renames", "--format=%H"],
            stdout=subprocess.DEVNULL,
            check=True,
        )
    floor_wall, floor_cpu = time.perf_counter() - t0, children_cpu() - cpu0
    print(
        f"git log --raw of all repositories: {floor_wall:.2f} s wall, {floor_cpu:.2f} s CPU "
        f"({total / floor_wall:.0f} commits/s) [floor]"
    )

    runs: dict[int, list[tuple[float, float]]] = {s: [] for s in shard_counts}
    for round_ in range(1, args.rounds + 1):
        for shards in shard_counts:  # interleaved, so a burst of load hits every S alike
            with fresh_database(args.admin_url) as url:
                load = os.getloadavg()[0]
                wall, cpu, lines = run_shards(toml, url, shards, args.jobs)
                collected = sorted(str(line["repo"]) for line in lines)
                if collected != sorted(truth) or stored_commits(url) != truth:
                    sys.exit(f"{shards} shards: a repository was lost or collected twice")
            runs[shards].append((wall, cpu))
            print(
                f"round {round_}: {shards} shard(s) x --jobs {args.jobs}: {wall:.2f} s wall, "
                f"{cpu:.2f} s CPU, {args.repos / wall:.2f} repos/s, {total / wall:.0f} commits/s "
                f"(load {load:.1f} at start)",
                flush=True,
            )
    results = {
        s: (statistics.median(w for w, _ in r), statistics.median(c for _, c in r))
        for s, r in runs.items()
    }
    first = shard_counts[0]
    base_wall, base_cpu = results[first]
    print(f"median of {args.rounds} round(s):")
    for shards, (wall, cpu) in results.items():
        print(
            f"{shards} shard(s): {args.repos / wall:.2f} repos/s, {total / wall:.0f} commits/s, "
            f"throughput {base_wall / wall:.2f}x of {first} shard(s) (CPU {cpu / base_cpu:.2f}x), "
            f"{wall / floor_wall:.0f}x the git log floor's wall"
        )
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"largest process (a long-lived collector worker, after its share): {peak_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
