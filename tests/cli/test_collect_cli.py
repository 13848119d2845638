"""``depaudit collect`` end to end: real git histories built in the test, the CLI run as a
subprocess, the store read back with sqlite3 and the reader API.

Covers incremental runs, rewritten history, a run killed with SIGKILL and resumed (the
store must equal an uninterrupted run's, timing columns aside), broken files that are
fixed later, shallow clones, empty repositories and the per-repo lock.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from depaudit.store.reader import StoreReader
from tests.gitrepo import GitRepo
from tests.reliability.reliability_helpers import canonical_dump

DEPAUDIT = str(Path(sys.executable).parent / "depaudit")

TRAINING_REQS = "torch==2.1.0\nwandb==0.16.0\noptuna==3.6.1\npandas==2.1.4\n"
SERVING_REQS = "torch==2.1.0\nwandb==0.16.0\nfastapi==0.110.0\npandas==2.1.4\n"
TRAINING_DOCKERFILE = (
    "FROM nvidia/cuda:12.1.0-devel-ubuntu22.04\nRUN pip install -r requirements.txt\n"
)
SERVING_DOCKERFILE = 'FROM python:3.11-slim\nCOPY . /app\nCMD ["uvicorn", "serving.app:app"]\n'


def ml_repo(path: Path) -> GitRepo:
    repo = GitRepo(path)
    repo.commit(
        "initial layout",
        {
            "training/requirements.txt": TRAINING_REQS,
            "training/Dockerfile": TRAINING_DOCKERFILE,
            "serving/requirements.txt": SERVING_REQS,
            "serving/Dockerfile": SERVING_DOCKERFILE,
        },
    )
    return repo


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DEPAUDIT, *args],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, **(env or {})},
    )


def collect(repo: GitRepo | Path, db: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    path = repo.path if isinstance(repo, GitRepo) else repo
    proc = run("collect", str(path), "--db", str(db), *extra)
    assert "Traceback" not in proc.stderr
    return proc


def count_commits(db: Path) -> int:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return int(con.execute("SELECT count(*) FROM commits").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:
        return 0


# ----------------------------------------------------------------------------- tests


def test_collect_stores_every_commit_and_prints_one_summary_line(tmp_path: Path) -> None:
    repo = ml_repo(tmp_path / "ml-service")
    repo.commit("docs", {"README.md": "# service\n"})
    repo.commit(
        "bump torch in serving",
        {"serving/requirements.txt": SERVING_REQS.replace("2.1.0", "2.2.0")},
    )
    db = tmp_path / "store.db"
    proc = collect(repo, db)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("ml-service: 3 commits, 2 new states")
    assert proc.stdout == ""

    reader = StoreReader(f"sqlite:///{db}")
    (info,) = reader.list_repos()
    assert info.name == "ml-service" and info.branch == "main" and info.commit_count == 3
    commits = reader.commits("ml-service")
    assert [c.summary for c in commits] == ["initial layout", "docs", "bump torch in serving"]
    assert commits[0].state_id == commits[1].state_id != commits[2].state_id
    head_rows = reader.findings_at("ml-service", commits[-1].sha)
    rules = {(r.finding.rule, r.finding.item) for r in head_rows}
    assert ("DA101", "wandb") in rules  # training-only tracker client in serving
    drift = next(r for r in head_rows if r.finding.rule == "DA102" and r.finding.item == "torch")
    assert drift.introduced_in == commits[2].sha  # torch drift appeared with the bump
    leftover = next(r for r in head_rows if r.finding.rule == "DA101")
    assert leftover.introduced_in == commits[0].sha  # present since the root commit
    assert drift.committed_at == commits[2].committed_at == "2024-01-01T00:00:03Z"
    assert canonical_dump(db)["locks"] == []


def test_name_branch_and_since(tmp_path: Path) -> None:
    repo = ml_repo(tmp_path / "repo")
    first = repo.run("rev-parse", "HEAD")
    repo.commit("main work", {"README.md": "x\n"})
    repo.run("checkout", "-q", "-b", "release")
    repo.commit("release fix", {"serving/requirements.txt": "torch==2.1.0\nfastapi==0.110.0\n"})
    repo.run("checkout", "-q", "main")
    db = tmp_path / "s.db"
    assert (
        collect(
            repo, db, "--name", "svc-release", "--branch", "release", "--since", first
        ).returncode
        == 0
    )
    reader = StoreReader(f"sqlite:///{db}")
    assert [c.summary for c in reader.commits("svc-release")] == ["main work", "release fix"]
    assert reader.repo("svc-release").branch == "release"
    bad = collect(repo, db, "--branch", "no-such-branch")
    assert bad.returncode == 2
    assert "unknown revision 'no-such-branch'" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


def test_incremental_second_run_does_only_new_commits(tmp_path: Path) -> None:
    repo = ml_repo(tmp_path / "repo")
    db = tmp_path / "s.db"
    assert collect(repo, db).returncode == 0
    again = collect(repo, db)
    assert again.returncode == 0
    assert "repo: 0 commits" in again.stderr
    repo.commit("docs", {"README.md": "x\n"})
    repo.commit(
        "drop wandb from serving",
        {"serving/requirements.txt": SERVING_REQS.replace("wandb==0.16.0\n", "")},
    )
    third = collect(repo, db)
    assert "repo: 2 commits, 1 new states" in third.stderr
    assert "resolved" in third.stderr and " 0 resolved" not in third.stderr
    reader = StoreReader(f"sqlite:///{db}")
    head = reader.head("repo")
    assert head is not None and head.summary == "drop wandb from serving"
    runs = reader.finding_history("repo", "training|serving|DA101|package|wandb|leftover")
    assert len(runs) == 1
    assert runs[0]["resolved_sha"] == head.sha
    assert runs[0]["end_sha"] == reader.commits("repo")[1].sha


def test_file_broken_at_one_commit_and_fixed_later(tmp_path: Path) -> None:
    repo = ml_repo(tmp_path / "repo")
    broken = repo.commit(
        "serving reqs saved as latin-1", {"serving/requirements.txt": b"torch==2.1.0  # caf\xe9\n"}
    )
    fixed = repo.commit("fix encoding", {"serving/requirements.txt": SERVING_REQS})
    db = tmp_path / "s.db"
    assert collect(repo, db).returncode == 0
    reader = StoreReader(f"sqlite:///{db}")
    errors_at = {
        sha: [r for r in reader.findings_at("repo", sha) if r.finding.status == "error"]
        for sha in (repo.run("rev-parse", "HEAD~2"), broken, fixed)
    }
    assert [len(v) for v in errors_at.values()] == [0, 1, 0]
    err = errors_at[broken][0]
    assert err.finding.rule == "DA900" and err.finding.file == "serving/requirements.txt"
    assert "UTF-8" in err.finding.message
    assert err.introduced_in == broken
    # the leftover survives the broken commit's gap? no: its facts were unreadable there
    head_leftover = next(r for r in reader.findings_at("repo", fixed) if r.finding.rule == "DA101")
    assert head_leftover.introduced_in == fixed


def test_invalid_repo_config_is_an_error_finding_not_fatal(tmp_path: Path) -> None:
    repo = ml_repo(tmp_path / "repo")
    bad = repo.commit(
        "add config with a typo", {".depaudit.toml": "[environmnets.api]\nrole = 'serving'\n"}
    )
    db = tmp_path / "s.db"
    assert collect(repo, db).returncode == 0
    rows = StoreReader(f"sqlite:///{db}").findings_at("repo", bad)
    da901 = [r for r in rows if r.finding.rule == "DA901"]
    assert len(da901) == 1 and da901[0].finding.file == ".depaudit.toml"
    assert any(r.finding.rule == "DA101" for r in rows)  # conventions still audited


def test_empty_repository_is_one_line_exit_2(tmp_path: Path) -> None:
    empty = GitRepo(tmp_path / "empty")
    proc = collect(empty, tmp_path / "s.db")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"depaudit: error: {empty.path}: empty repository (no commits yet); nothing to collect"
    ]


def test_not_a_repository_is_one_line_exit_2(tmp_path: Path) -> None:
    proc = collect(tmp_path, tmp_path / "s.db")
    assert proc.returncode == 2
    assert "not a git repository" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_shallow_clone_collects_what_is_there(tmp_path: Path) -> None:
    repo = ml_repo(tmp_path / "repo")
    for i in range(8):
        repo.commit(f"bump {i}", {"serving/requirements.txt": f"torch==2.{i}.0\nwandb==0.16.0\n"})
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "5", f"file://{repo.path}", str(clone)], check=True
    )
    db = tmp_path / "s.db"
    proc = collect(clone, db)
    assert proc.returncode == 0, proc.stderr
    assert "clone: 5 commits" in proc.stderr and "shallow" in proc.stderr
    reader = StoreReader(f"sqlite:///{db}")
    first = reader.commits("clone")[0]
    assert any(r.finding.rule == "DA101" for r in reader.findings_at("clone", first.sha))


def test_rewritten_history_marks_old_commits_unreachable(tmp_path: Path) -> None:
    repo = ml_repo(tmp_path / "repo")
    keep = repo.commit("docs", {"README.md": "x\n"})
    gone1 = repo.commit(
        "bump torch", {"serving/requirements.txt": SERVING_REQS.replace("2.1.0", "2.2.0")}
    )
    gone2 = repo.commit(
        "more", {"serving/requirements.txt": SERVING_REQS.replace("2.1.0", "2.3.0")}
    )
    db = tmp_path / "s.db"
    assert collect(repo, db).returncode == 0
    repo.run("reset", "-q", "--hard", keep)
    new = repo.commit(
        "different bump", {"serving/requirements.txt": SERVING_REQS.replace("2.1.0", "2.4.0")}
    )
    proc = collect(repo, db)
    assert proc.returncode == 0, proc.stderr
    assert "repo: 1 commits" in proc.stderr and "2 rewritten away" in proc.stderr

    reader = StoreReader(f"sqlite:///{db}")
    reachable = [c.sha for c in reader.commits("repo")]
    assert reachable[-2:] == [keep, new] and gone1 not in reachable and gone2 not in reachable
    everything = {c.sha: c.reachable for c in reader.commits("repo", include_unreachable=True)}
    assert everything[gone1] is False and everything[gone2] is False
    head_rows = reader.findings_at("repo", new)
    drift = next(r for r in head_rows if r.finding.rule == "DA102" and r.finding.item == "torch")
    assert drift.finding.serving == "2.4.0" and drift.introduced_in == new
    leftover = next(r for r in head_rows if r.finding.rule == "DA101")
    assert leftover.introduced_in == reachable[0]  # its run continues across the rewrite
    assert {p["sha"] for p in reader.timeline("repo")} == set(reachable)
    all_rows = list(reader.findings_all_commits("repo"))
    assert {r.commit for r in all_rows} == set(reachable)
    # an abandoned commit can still be looked at explicitly
    old = reader.findings_at("repo", gone2)
    assert any(r.finding.serving == "2.3.0" for r in old)


def _history_repo(path: Path, commits: int) -> GitRepo:
    repo = ml_repo(path)
    for i in range(commits):
        if i % 3 == 2:
            repo.commit(f"docs {i}", {"README.md": f"rev {i}\n"})
        else:
            extra = "" if i % 5 else "wandb==0.16.0\n"
            repo.commit(
                f"serving bump {i}",
                {"serving/requirements.txt": f"torch==2.{i % 7}.0\n{extra}fastapi==0.1{i}.0\n"},
            )
    return repo


def test_killed_collect_resumes_to_the_same_store(tmp_path: Path) -> None:
    repo = _history_repo(tmp_path / "repo", 60)
    reference = tmp_path / "reference.db"
    assert collect(repo, reference).returncode == 0

    db = tmp_path / "killed.db"
    proc = subprocess.Popen(
        [DEPAUDIT, "collect", str(repo.path), "--db", str(db), "--batch-size", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while count_commits(db) < 10 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    stored_before_kill = count_commits(db)
    was_running = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert was_running, "collect finished before it could be killed; make the history longer"
    assert 10 <= stored_before_kill < 61
    assert canonical_dump(db)["locks"] == [("repo",)]  # the dead collector's lock is left behind
    stored_after_kill = count_commits(db)

    resumed = collect(repo, db)
    assert resumed.returncode == 0, resumed.stderr
    # the resumed run did only what the killed one had not stored
    assert count_commits_at(resumed) == 61 - stored_after_kill
    assert canonical_dump(db) == canonical_dump(reference)


def count_commits_at(proc: subprocess.CompletedProcess[str]) -> int:
    return int(proc.stderr.split("repo: ")[1].split(" commits")[0])


def test_second_collector_waits_for_the_lock_then_gives_up(tmp_path: Path) -> None:
    repo = ml_repo(tmp_path / "repo")
    db = tmp_path / "s.db"
    assert collect(repo, db).returncode == 0
    con = sqlite3.connect(db)
    import socket

    now = int(time.time())
    con.execute(
        "INSERT INTO locks (repo_name, holder, acquired_at, heartbeat_at) VALUES (?, ?, ?, ?)",
        ("repo", f"{socket.gethostname()}:{os.getpid()}:test", now, now),
    )
    con.commit()
    con.close()
    started = time.monotonic()
    proc = collect(repo, db, "--lock-timeout", "1")
    assert proc.returncode == 2
    assert time.monotonic() - started >= 1
    assert "being collected by another collector" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("args", [["--batch-size", "0"], ["--lock-timeout", "-1"]])
def test_bad_options_are_usage_errors(tmp_path: Path, args: list[str]) -> None:
    repo = ml_repo(tmp_path / "repo")
    proc = collect(repo, tmp_path / "s.db", *args)
    assert proc.returncode == 2
    assert proc.stderr.startswith("depaudit: error:")
