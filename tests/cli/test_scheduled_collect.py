"""The scheduled job: ``depaudit collect --repos repos.toml --jobs N``.

Three repositories, one of them reached through a ``file://`` URL (kept as a bare
mirror and fetched each run). The job runs twice with commits added in between: the
second run walks only the new commits. Two runs started together do not corrupt the
store, and a broken repository fails alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from depaudit.store.reader import StoreReader
from tests.gitrepo import GitRepo


def make_repo(root: Path, n_commits: int) -> GitRepo:
    repo = GitRepo(root)
    repo.commit(
        "initial",
        {
            "training/requirements.txt": "numpy==1.26.4\noptuna==3.6.1\n",
            "serving/requirements.txt": "numpy==1.26.4\nfastapi==0.110.0\n",
        },
    )
    for i in range(1, n_commits):
        repo.commit(
            f"bump {i}", {"serving/requirements.txt": f"numpy==1.26.4\nfastapi==0.110.{i}\n"}
        )
    return repo


def depaudit(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "depaudit", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
        cwd=Path(__file__).resolve().parents[2],
    )


def json_lines(stderr: str) -> dict[str, dict[str, Any]]:
    out = {}
    for line in stderr.splitlines():
        if line.startswith("{"):
            data = json.loads(line)
            out[str(data["repo"])] = data
    return out


@pytest.fixture
def three_repos(tmp_path: Path) -> tuple[Path, dict[str, GitRepo]]:
    repos = {
        "fraud-api": make_repo(tmp_path / "src" / "fraud-api", 3),
        "ranker": make_repo(tmp_path / "src" / "ranker", 4),
        "recsys": make_repo(tmp_path / "src" / "recsys", 2),  # reached via file://
    }
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "ranker.depaudit.toml").write_text(
        '[environments.trainer]\nrole = "training"\ninclude = ["training/**"]\n'
        '[environments.api]\nrole = "serving"\ninclude = ["serving/**"]\n',
        "utf-8",
    )
    toml = tmp_path / "cfg" / "repos.toml"
    toml.write_text(
        f"""
# nightly depaudit collection
[[repos]]
name = "fraud-api"
path = "{repos["fraud-api"].path}"

[[repos]]
name = "ranker"
path = "../src/ranker"          # relative to this file
branch = "main"
config = "ranker.depaudit.toml"

[[repos]]
name = "recsys"
url = "file://{repos["recsys"].path}"
""",
        "utf-8",
    )
    return toml, repos


def stored(url: str) -> dict[str, tuple[int, str | None]]:
    reader = StoreReader(url)
    try:
        return {r.name: (r.commit_count, r.head_sha) for r in reader.list_repos()}
    finally:
        reader.close()


def test_two_runs_then_concurrent_runs(
    three_repos: tuple[Path, dict[str, GitRepo]], store_url: str, tmp_path: Path
) -> None:
    toml, repos = three_repos
    cache = tmp_path / "mirrors"
    args = [
        "collect",
        "--repos",
        str(toml),
        "--db",
        store_url,
        "--jobs",
        "2",
        "--log-format",
        "json",
        "--cache-dir",
        str(cache),
        "--lock-timeout",
        "120",
    ]

    first = depaudit(*args)
    assert first.returncode == 0, first.stderr
    lines = json_lines(first.stderr)
    assert {n: d["status"] for n, d in lines.items()} == dict.fromkeys(repos, "ok")
    assert {n: d["commits"] for n, d in lines.items()} == {"fraud-api": 3, "ranker": 4, "recsys": 2}
    assert lines["recsys"]["source"] == f"file://{repos['recsys'].path}"
    mirrors = list(cache.glob("recsys-*.git"))
    assert len(mirrors) == 1 and (mirrors[0] / "HEAD").is_file()
    # the ranker's config was used: its environments have the configured names
    reader = StoreReader(store_url)
    head = reader.head("ranker")
    assert head is not None
    assert {e.name for e in reader.environments_at("ranker", head.sha)} == {"trainer", "api"}
    reader.close()

    for name, repo in repos.items():
        repo.commit(f"{name}: add app", {"serving/app.py": "import fastapi\n"})
        repo.commit(
            f"{name}: bump", {"serving/requirements.txt": "numpy==1.26.4\nfastapi==0.111.0\n"}
        )

    second = depaudit(*args)
    assert second.returncode == 0, second.stderr
    assert {n: d["commits"] for n, d in json_lines(second.stderr).items()} == dict.fromkeys(
        repos, 2
    )
    assert stored(store_url) == {
        name: (int(repo.run("rev-list", "--count", "HEAD")), repo.run("rev-parse", "HEAD"))
        for name, repo in repos.items()
    }

    # two runs at once after one more commit each: the per-repo lock serialises them;
    # every commit is stored exactly once, the heads match git
    for repo in repos.values():
        repo.commit("docs", {"serving/README.md": "serving\n"})
    cmd = [sys.executable, "-m", "depaudit", *args]
    procs = [
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    new_commits = [
        sum(int(d["commits"] or 0) for d in json_lines(err).values()) for _, err in outputs
    ]
    assert sum(new_commits) == 3  # each new commit collected by exactly one of the runs
    assert stored(store_url) == {
        name: (int(repo.run("rev-list", "--count", "HEAD")), repo.run("rev-parse", "HEAD"))
        for name, repo in repos.items()
    }


def test_one_failure_does_not_stop_the_others(
    three_repos: tuple[Path, dict[str, GitRepo]], tmp_path: Path
) -> None:
    toml, repos = three_repos
    broken = tmp_path / "cfg" / "broken.toml"
    broken.write_text(
        toml.read_text("utf-8")
        + f'\n[[repos]]\nname = "gone"\npath = "{tmp_path / "nope"}"\n'
        + '\n[[repos]]\nname = "unreachable"\nurl = "file:///nonexistent/repo.git"\n',
        "utf-8",
    )
    db = f"sqlite:///{tmp_path / 'store.db'}"
    run = depaudit(
        "collect",
        "--repos",
        str(broken),
        "--db",
        db,
        "--jobs",
        "3",
        "--cache-dir",
        str(tmp_path / "m"),
    )
    assert run.returncode == 2
    lines = run.stderr.splitlines()
    assert any(ln.startswith("FAILED gone") and "no such directory" in ln for ln in lines), (
        run.stderr
    )
    assert any(ln.startswith("FAILED unreachable") and "git clone failed" in ln for ln in lines), (
        run.stderr
    )
    assert sum(ln.startswith("ok ") for ln in lines) == 3
    assert set(stored(db)) == set(repos)


def test_url_credentials_never_printed(tmp_path: Path) -> None:
    toml = tmp_path / "repos.toml"
    toml.write_text(
        '[[repos]]\nname = "private"\nurl = "https://bot:s3cr3t-t0ken@127.0.0.1:9/x.git"\n', "utf-8"
    )
    run = depaudit(
        "collect",
        "--repos",
        str(toml),
        "--db",
        f"sqlite:///{tmp_path / 's.db'}",
        "--log-format",
        "json",
        "--cache-dir",
        str(tmp_path / "m"),
        env={"GIT_HTTP_LOW_SPEED_TIME": "5"},
    )
    assert run.returncode == 2
    assert "s3cr3t-t0ken" not in run.stderr + run.stdout
    (line,) = json_lines(run.stderr).values()
    assert line["status"] == "failed" and line["source"] == "https://127.0.0.1:9/x.git"


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (
            '[[repos]]\nname = "a"\npath = "."\nbrnach = "main"\n',
            "unknown key 'brnach' in [[repos]] #1",
        ),
        ('[[repo]]\nname = "a"\npath = "."\n', "unknown key 'repo'"),
        (
            '[[repos]]\nname = "a"\npath = "."\nurl = "file:///x"\n',
            "exactly one of 'path' or 'url'",
        ),
        ('[[repos]]\npath = "."\n', "has no 'name'"),
        (
            '[[repos]]\nname = "a"\npath = "."\n[[repos]]\nname = "a"\npath = ".."\n',
            "name used twice",
        ),
        ('[[repos]]\nname = "a"\npath = 3\n', "must be a non-empty string"),
        ('[[repos]\nname = "a"\n', "invalid TOML"),
        ("", "no [[repos]] tables"),
        ('[[repos]]\nname = "a"\npath = "."\nconfig = "missing.toml"\n', "no such file"),
    ],
)
def test_repos_file_is_strict(tmp_path: Path, body: str, needle: str) -> None:
    toml = tmp_path / "repos.toml"
    toml.write_text(body, "utf-8")
    run = depaudit("collect", "--repos", str(toml), "--db", f"sqlite:///{tmp_path / 's.db'}")
    assert run.returncode == 2
    assert needle in run.stderr
    assert str(toml) in run.stderr
    assert run.stderr.count("\n") == 1


def test_text_log_and_paths_with_jobs(tmp_path: Path) -> None:
    a = make_repo(tmp_path / "a", 2)
    b = make_repo(tmp_path / "b", 1)
    run = depaudit(
        "collect", str(a.path), str(b.path), "--jobs", "2", "--db", f"sqlite:///{tmp_path / 's.db'}"
    )
    assert run.returncode == 0, run.stderr
    lines = sorted(run.stderr.splitlines())
    assert len(lines) == 2
    assert lines[0].startswith("ok     a (") and "2 commits" in lines[0]
    assert lines[1].startswith("ok     b (") and "1 commits" in lines[1]


@pytest.mark.parametrize(
    ("option", "needle"),
    [
        (["--batch-size", "0"], "--batch-size must be at least 1"),
        (["--lock-timeout", "-1"], "--lock-timeout must be 0 or more"),
        (["--jobs", "0"], "--jobs must be at least 1"),
    ],
)
def test_bad_job_options_are_one_line(tmp_path: Path, option: list[str], needle: str) -> None:
    repo = make_repo(tmp_path / "svc", 1)
    toml = tmp_path / "repos.toml"
    toml.write_text(f'[[repos]]\nname = "svc"\npath = "{repo.path}"\n', "utf-8")
    store = tmp_path / "s.db"
    run = depaudit("collect", "--repos", str(toml), "--db", f"sqlite:///{store}", *option)
    assert run.returncode == 2
    assert run.stderr == f"depaudit: error: {needle}\n"
    assert not store.exists()
