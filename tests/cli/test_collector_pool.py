"""``collect --repos --jobs N`` on a pool of long-lived collector processes.

A worker collects many repositories (the interpreter starts once, not once per repo),
and a repository that kills its worker fails alone: its log line says how the worker
died, the next repository gets a new worker, and the exit code is 2. The crash is real:
a worker process dies of a signal (a stand-in worker that segfaults on one repository,
and the real worker killed with SIGKILL as the OOM killer would).
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from sqlalchemy import insert

from depaudit.app.scheduler import (
    JobOptions,
    RepoSpec,
    collect_one,
    collector_env,
    run_job,
)
from depaudit.app.worker_pool import WORKER_COMMAND, CollectorPool
from depaudit.store import schema
from depaudit.store.engine import open_engine
from depaudit.store.reader import StoreReader
from tests.gitrepo import GitRepo

ROOT = Path(__file__).resolve().parents[2]


def make_repo(path: Path, commits: int) -> GitRepo:
    repo = GitRepo(path)
    repo.commit(
        "initial",
        {
            "training/requirements.txt": "numpy==1.26.4\noptuna==3.6.1\n",
            "serving/requirements.txt": "numpy==1.26.4\nfastapi==0.110.0\n",
        },
    )
    for i in range(1, commits):
        repo.commit(f"api {i}", {"serving/app.py": f"import fastapi\n\nVERSION = {i}\n"})
    return repo


# the real worker, except that it segfaults on the repository named "segfaults" (as a
# C extension would) and, with EXIT_AFTER_ONE set, quits after its first repository
STAND_IN = textwrap.dedent(
    """
    import json, os, signal, sys
    from depaudit.app.collect_worker import STARTED, CollectRequest, Worker

    worker = Worker()
    for line in sys.stdin:
        request = CollectRequest.from_line(line)
        sys.stdout.write(json.dumps({STARTED: request.name}) + "\\n")
        sys.stdout.flush()
        if request.name == "segfaults":
            print("Fatal Python error: Segmentation fault", file=sys.stderr, flush=True)
            os.kill(os.getpid(), signal.SIGSEGV)
        sys.stdout.write(worker.handle(request).to_line())
        sys.stdout.flush()
        if os.environ.get("EXIT_AFTER_ONE"):
            break
    """
)


def run_with(
    pool: CollectorPool, specs: list[RepoSpec], options: JobOptions
) -> tuple[list[str], list[bool]]:
    out = io.StringIO()
    results = run_job(specs, options, out=out, collect=lambda s, o: collect_one(s, o, pool))
    return out.getvalue().splitlines(), [r.ok for r in results]


def test_a_worker_collects_many_repositories_and_a_crash_fails_one(tmp_path: Path) -> None:
    repos = {name: make_repo(tmp_path / name, 3) for name in ("a", "segfaults", "b", "c")}
    db = f"sqlite:///{tmp_path / 'store.db'}"
    options = JobOptions(db_url=db, cache_dir=tmp_path / "m", jobs=1)
    specs = [RepoSpec(name=n, path=r.path) for n, r in repos.items()]
    with CollectorPool(1, collector_env(options), command=[sys.executable, "-c", STAND_IN]) as pool:
        lines, ok = run_with(pool, specs, options)
        started = pool.started
    assert ok == [True, False, True, True]
    assert lines[1].startswith("FAILED segfaults (")
    assert lines[1].endswith(
        "the collector crashed (killed by SIGSEGV): Fatal Python error: Segmentation fault"
    )
    assert all(lines[i].startswith(f"ok     {n} (") for i, n in ((0, "a"), (2, "b"), (3, "c")))
    # one worker for "a" and "segfaults", one new worker for the two after the crash
    assert started == 2
    reader = StoreReader(db)
    assert {r.name: r.commit_count for r in reader.list_repos()} == {"a": 3, "b": 3, "c": 3}
    reader.close()


def test_a_worker_that_died_idle_costs_no_repository(tmp_path: Path) -> None:
    repos = {name: make_repo(tmp_path / name, 2) for name in ("a", "b", "c")}
    options = JobOptions(db_url=f"sqlite:///{tmp_path / 's.db'}", cache_dir=tmp_path / "m")
    env = {**collector_env(options), "EXIT_AFTER_ONE": "1"}
    specs = [RepoSpec(name=n, path=r.path) for n, r in repos.items()]
    with CollectorPool(1, env, command=[sys.executable, "-c", STAND_IN]) as pool:
        lines, ok = run_with(pool, specs, options)
        started = pool.started
    assert ok == [True, True, True], lines
    assert started == 3


def test_the_real_pool_reuses_its_workers(tmp_path: Path) -> None:
    repos = {f"svc{i}": make_repo(tmp_path / f"svc{i}", 2) for i in range(5)}
    options = JobOptions(db_url=f"sqlite:///{tmp_path / 's.db'}", cache_dir=tmp_path / "m", jobs=2)
    specs = [RepoSpec(name=n, path=r.path) for n, r in repos.items()]
    specs.append(RepoSpec(name="gone", path=tmp_path / "nope"))
    with CollectorPool(2, collector_env(options), command=WORKER_COMMAND) as pool:
        lines, ok = run_with(pool, specs, options)
        started = pool.started
    assert sorted(ok) == [False] + [True] * 5
    assert any(ln.startswith("FAILED gone (") and "no such directory" in ln for ln in lines)
    assert started <= 2  # an ordinary failure does not cost a worker


def worker_pids(parent: int) -> list[int]:
    """Children of ``parent`` running the collector worker (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        if ppid == parent and b"depaudit.app.collect_worker" in cmdline:
            found.append(int(entry.name))
    return found


def test_a_killed_worker_fails_its_repository_and_the_job_goes_on(tmp_path: Path) -> None:
    first = make_repo(tmp_path / "src" / "stuck", 2)
    second = make_repo(tmp_path / "src" / "after", 2)
    toml = tmp_path / "repos.toml"
    toml.write_text(
        f'[[repos]]\nname = "stuck"\npath = "{first.path}"\n\n'
        f'[[repos]]\nname = "after"\npath = "{second.path}"\n',
        "utf-8",
    )
    db = f"sqlite:///{tmp_path / 'store.db'}"
    engine = open_engine(db)
    schema.migrate(engine)
    # another machine's collector holds "stuck": the worker waits for the lock
    now = int(time.time())
    with engine.begin() as conn:
        conn.execute(
            insert(schema.locks).values(
                repo_name="stuck", holder="collector-7:4242:x", acquired_at=now, heartbeat_at=now
            )
        )
    engine.dispose()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "depaudit",
            "collect",
            "--repos",
            str(toml),
            "--db",
            db,
            "--lock-timeout",
            "300",
            "--log-format",
            "json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 120
        while not (pids := worker_pids(proc.pid)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert pids, "no collector worker started"
        time.sleep(1.0)  # let it reach the lock wait
        os.kill(pids[0], signal.SIGKILL)
        _, err = proc.communicate(timeout=300)
    finally:
        proc.kill()
    assert proc.returncode == 2, err
    lines = {d["repo"]: d for d in map(json.loads, err.splitlines())}
    assert lines["stuck"]["status"] == "failed"
    assert lines["stuck"]["message"].startswith("the collector crashed (killed by SIGKILL)")
    assert lines["after"]["status"] == "ok" and lines["after"]["commits"] == 2
