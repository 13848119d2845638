"""Several collector processes writing different repositories to one store at once.

The repositories have identical environment files, so every process tries to insert
the same (globally deduplicated) environment rows at the same moment: the store must
end with every commit exactly once, each environment once, and every repo's head right.
Runs on SQLite and, with DEPAUDIT_TEST_POSTGRES_URL, on PostgreSQL.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from depaudit.store import schema
from depaudit.store.engine import open_engine
from tests.gitrepo import GitRepo

N_REPOS = 4
N_COMMITS = 15


def make_repo(root: Path) -> GitRepo:
    repo = GitRepo(root)
    for i in range(N_COMMITS):
        files = {
            "README.md": f"# {root.name}\n",  # distinct commits, same environments
            "training/requirements.txt": f"numpy==1.26.{i % 5}\noptuna\n",
            "serving/requirements.txt": f"numpy==1.26.{i % 3}\nwandb\n",
        }
        repo.commit(f"c{i}", files)
    return repo


def test_concurrent_collectors_lose_and_duplicate_nothing(tmp_path: Path, store_url: str) -> None:
    repos = [make_repo(tmp_path / f"repo{i}").path for i in range(N_REPOS)]
    # the store exists before the collectors start (as the scheduled job makes sure)
    schema.migrate(open_engine(store_url))
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "depaudit",
                "collect",
                str(repo),
                "--db",
                store_url,
                "--batch-size",
                "4",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for repo in repos
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err

    engine = open_engine(store_url)
    with engine.connect() as conn:
        per_repo: dict[str, int] = dict(
            conn.execute(
                select(schema.repos.c.name, func.count(schema.commits.c.id))
                .join(schema.commits, schema.commits.c.repo_id == schema.repos.c.id)
                .group_by(schema.repos.c.name)
            ).all()
        )
        heads = dict(conn.execute(select(schema.repos.c.name, schema.repos.c.head_sha)).all())
        env_rows = conn.execute(select(func.count()).select_from(schema.environments)).scalar()
        distinct_envs = conn.execute(
            select(func.count(func.distinct(schema.environments.c.content_hash)))
        ).scalar()
        distinct_shas = conn.execute(
            select(func.count(func.distinct(schema.commits.c.sha)))
        ).scalar()
    assert per_repo == {repo.name: N_COMMITS for repo in repos}
    assert heads == {
        repo.name: GitRepo(repo, init=False).run("rev-parse", "HEAD") for repo in repos
    }
    assert env_rows == distinct_envs  # the shared environments were inserted once
    assert distinct_shas == N_REPOS * N_COMMITS
