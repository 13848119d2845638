"""Benchmark ``depaudit collect`` against the git floor and a naive checkout loop.

    .venv/bin/python bench/bench_collect.py [--commits 10000] [--sample 30]

Generates (once, with ``git fast-import``) a repository under ``bench/out/`` whose
history has ``--commits`` commits, about 10% of them touching one of 20+ environment
files (requirements, Dockerfiles, compose, Kubernetes manifests, pyproject, code) in
training/ and serving/, the rest touching docs and data. Then, in one run, it times:

1. ``git log --raw --no-renames`` over the history (the floor);
2. a full ``depaudit collect`` into a fresh store (subprocess);
3. a second, no-op ``depaudit collect`` (interpreter start included; target < 1.5 s);
4. the naive way: check out each of ``--sample`` commits and run ``depaudit check``
   on it, extrapolated per commit;

and prints peak memory of the collector and the ratios (targets: full collect within
20x the git floor; naive per commit at least 100x the collector's per commit).
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
OUT = ROOT / "out"
DEPAUDIT = str(Path(sys.executable).parent / "depaudit")


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


def generate(path: Path, commits: int, seed: int = 7) -> None:
    if (path / "HEAD").exists() or (path / ".git").exists():
        return
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    rng = random.Random(seed)
    variants = _variants()
    env_paths = sorted(variants)
    chunks: list[bytes] = []

    def data(text: str) -> bytes:
        raw = text.encode()
        return b"data %d\n%s\n" % (len(raw), raw)

    ts = 1_700_000_000
    for n in range(commits):
        lines = [b"commit refs/heads/main\n", b"mark :%d\n" % (n + 1)]
        lines.append(b"committer Bench <bench@example.com> %d +0000\n" % (ts + n * 60))
        lines.append(data(f"commit {n}"))
        if n:
            lines.append(b"from :%d\n" % n)
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
        for p, content in changes.items():
            lines.append(f"M 100644 inline {p}\n".encode())
            lines.append(data(content))
        chunks.append(b"".join(lines))
    subprocess.run(["git", "fast-import", "--quiet"], cwd=path, input=b"".join(chunks), check=True)
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=path, check=True)


CPU: dict[str, float] = {}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(
    cmd: list[str], label: str = "", **kwargs: object
) -> tuple[float, subprocess.CompletedProcess[bytes]]:
    """Wall seconds; the CPU seconds (user + sys) go to CPU[label]. On a shared machine
    CPU time is the steadier number, so both are printed."""
    cpu0, start = _children_cpu(), time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, check=False, **kwargs)  # type: ignore[call-overload]
    if label:
        CPU[label] = CPU.get(label, 0.0) + _children_cpu() - cpu0
    return time.perf_counter() - start, proc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=30)
    args = parser.parse_args()

    repo = OUT / f"repo-{args.commits}"
    t0 = time.perf_counter()
    generate(repo, args.commits)
    print(
        f"repository: {repo} ({args.commits} commits, generated/reused in {time.perf_counter() - t0:.1f} s)"
    )

    floor, _ = timed(["git", "log", "--raw", "--no-renames", "--format=%H"], "floor", cwd=repo)
    print(f"git log --raw --no-renames: {floor:.3f} s wall, {CPU['floor']:.3f} s CPU (floor)")

    db = OUT / f"bench-{args.commits}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    full, proc = timed([DEPAUDIT, "collect", str(repo), "--db", str(db)], "full")
    if proc.returncode != 0:
        print(proc.stderr.decode(), file=sys.stderr)
        return 1
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"full collect: {full:.2f} s wall, {CPU['full']:.2f} s CPU  [{proc.stderr.decode().strip()}]"
    )
    print(f"peak memory (largest child so far): {peak_mb:.0f} MB")
    noop, proc = timed([DEPAUDIT, "collect", str(repo), "--db", str(db)], "noop")
    print(
        f"no-op collect: {noop:.2f} s wall, {CPU['noop']:.2f} s CPU (target < 1.5 s)  [{proc.stderr.decode().strip()}]"
    )

    work = OUT / "naive-worktree"
    shutil.rmtree(work, ignore_errors=True)
    shas = subprocess.run(
        ["git", "rev-list", "main"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.split()
    sample = random.Random(1).sample(shas, min(args.sample, len(shas)))
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(repo), str(work)], check=True)
    naive_total = 0.0
    for sha in sample:
        t, _ = timed(["git", "checkout", "-q", "-f", sha], "naive", cwd=work)
        c, _ = timed(
            [DEPAUDIT, "check", str(work), "--format", "csv", "--fail-on", "never", "--quiet"],
            "naive",
        )
        naive_total += t + c
    shutil.rmtree(work, ignore_errors=True)
    naive_per = naive_total / len(sample)
    collect_per = full / args.commits
    print(f"naive checkout + check: {naive_per * 1000:.0f} ms per commit (sampled {len(sample)})")
    print(f"collect: {collect_per * 1000:.2f} ms per commit")
    naive_cpu_per, collect_cpu_per = CPU["naive"] / len(sample), CPU["full"] / args.commits
    print(
        f"ratio full collect / git log floor: {full / floor:.1f}x wall, {CPU['full'] / CPU['floor']:.1f}x CPU (target <= 20x)"
    )
    print(
        f"ratio naive / collect per commit: {naive_per / collect_per:.0f}x wall, "
        f"{naive_cpu_per / collect_cpu_per:.0f}x CPU (target >= 100x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
