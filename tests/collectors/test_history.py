"""The git history walker on real repositories built with ``git`` in the test.

The strongest check is an invariant: for every commit the walk yields, the tree it
reconstructs from ``git log --raw`` lines must equal ``git ls-tree -r`` of that commit,
whatever happened in between (renames, deletions, merges, symlinks, submodules).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from depaudit.collectors import git as git_reader
from depaudit.collectors import history
from depaudit.collectors.git import GitRepository, RepositoryError
from depaudit.collectors.history import walk
from depaudit.collectors.tree import TreeReadError
from tests.gitrepo import GitRepo


def ls_tree(repo: GitRepo | Path, sha: str) -> dict[str, str]:
    cwd = repo.path if isinstance(repo, GitRepo) else repo
    out = subprocess.run(
        ["git", "ls-tree", "-r", "-z", sha], cwd=cwd, check=True, capture_output=True
    ).stdout
    result = {}
    for rec in out.split(b"\0"):
        if rec:
            meta, _, path = rec.partition(b"\t")
            result[path.decode()] = meta.split()[2].decode()
    return result


def walk_all(repo: GitRepo, **kwargs: object) -> list[history.WalkStep]:
    """Walk and check each commit's tree against ls-tree while it is current."""
    g = GitRepository(repo.path)
    steps = []
    for step in walk(g, g.resolve("HEAD"), **kwargs):  # type: ignore[arg-type]
        entries = step.tree().entries()
        assert {e.path: e.blob_id for e in entries} == ls_tree(repo, step.info.sha), (
            step.info.summary
        )
        steps.append(step)
    return steps


def ml_repo(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "repo")
    repo.commit(
        "initial layout",
        {
            "training/requirements.txt": "torch==2.1.0\nwandb==0.16.0\n",
            "training/Dockerfile": "FROM nvidia/cuda:12.1.0-devel-ubuntu22.04\n",
            "serving/requirements.txt": "torch==2.1.0\nfastapi==0.110.0\n",
            "serving/Dockerfile": "FROM python:3.11-slim\n",
        },
    )
    return repo


def test_root_commit_files_are_seen(tmp_path: Path) -> None:
    repo = ml_repo(tmp_path)
    steps = walk_all(repo)
    assert len(steps) == 1
    root = steps[0]
    assert root.info.parents == ()
    assert root.env_changed
    assert root.info.summary == "initial layout"
    assert root.info.author_name == "Ada" and root.info.author_email == "ada@example.com"
    assert root.info.committed_at == "2024-01-01T00:00:01Z"


def test_tree_reads_blobs_from_objects_without_checkout(tmp_path: Path) -> None:
    repo = ml_repo(tmp_path)
    (repo.path / "serving/requirements.txt").write_text("edited in the work tree only\n")
    g = GitRepository(repo.path)
    step = next(iter(walk(g, g.resolve("HEAD"))))
    tree = step.tree()
    entry = next(e for e in tree.entries() if e.path == "serving/requirements.txt")
    assert tree.read(entry) == b"torch==2.1.0\nfastapi==0.110.0\n"
    assert entry.size == len(b"torch==2.1.0\nfastapi==0.110.0\n")


def test_renamed_and_deleted_env_files(tmp_path: Path) -> None:
    repo = ml_repo(tmp_path)
    repo.run("mv", "serving/requirements.txt", "serving/requirements-api.txt")
    repo.commit("rename serving requirements")
    repo.commit("drop training Dockerfile", {"training/Dockerfile": None})
    steps = walk_all(repo)
    assert [s.env_changed for s in steps] == [True, True, True]
    assert len({s.signature for s in steps}) == 3


def test_non_environment_change_keeps_signature_and_abab_repeats_it(tmp_path: Path) -> None:
    repo = ml_repo(tmp_path)
    repo.commit("docs", {"README.md": "# model\n"})
    repo.commit("bump torch", {"serving/requirements.txt": "torch==2.2.0\nfastapi==0.110.0\n"})
    repo.commit("revert bump", {"serving/requirements.txt": "torch==2.1.0\nfastapi==0.110.0\n"})
    steps = walk_all(repo)
    assert [s.env_changed for s in steps] == [True, False, True, True]
    sigs = [s.signature for s in steps]
    assert sigs[0] == sigs[1] == sigs[3] != sigs[2]


def test_merge_commits_follow_the_first_parent(tmp_path: Path) -> None:
    repo = ml_repo(tmp_path)
    repo.run("checkout", "-q", "-b", "feature")
    feat1 = repo.commit(
        "feature: add compose", {"serving/docker-compose.yml": "services:\n  api:\n    image: x\n"}
    )
    repo.commit("feature: bump", {"serving/requirements.txt": "torch==2.2.0\n"})
    repo.run("checkout", "-q", "main")
    repo.commit("main: docs", {"README.md": "hi\n"})
    repo.commits += 1
    repo.run("merge", "-q", "--no-ff", "-m", "merge feature", "feature")
    steps = walk_all(repo)
    assert [s.info.summary for s in steps] == ["initial layout", "main: docs", "merge feature"]
    assert feat1 not in {s.info.sha for s in steps}
    assert steps[-1].env_changed and len(steps[-1].info.parents) == 2
    # every commit, merged branches included, without --first-parent
    all_steps = walk_all(repo, first_parent=False)
    assert len(all_steps) == 5


def test_symlinks_and_submodules_are_listed_never_read(tmp_path: Path) -> None:
    repo = ml_repo(tmp_path)
    os.symlink("/etc/passwd", repo.path / "serving" / "requirements-extra.txt")
    repo.run("add", "serving/requirements-extra.txt")
    sub_sha = repo.run("rev-parse", "HEAD")
    repo.run("update-index", "--add", "--cacheinfo", f"160000,{sub_sha},vendor/lib")
    repo.commit("link and submodule")
    walk_all(repo)
    g = GitRepository(repo.path)
    last = list(walk(g, g.resolve("HEAD"), base=g.resolve("HEAD~1")))
    t = last[0].tree()
    kinds = {e.path: e.kind for e in t.entries()}
    assert kinds["serving/requirements-extra.txt"] == "symlink"
    assert kinds["vendor/lib"] == "submodule"
    for e in t.entries():
        if e.kind != "file":
            with pytest.raises(TreeReadError):
                t.read(e)


def test_tree_after_walk_moved_on_is_refused(tmp_path: Path) -> None:
    repo = ml_repo(tmp_path)
    repo.commit("docs", {"README.md": "x\n"})
    g = GitRepository(repo.path)
    steps = list(walk(g, g.resolve("HEAD")))
    with pytest.raises(RuntimeError):
        steps[0].tree()


def test_walk_from_a_base_only_yields_later_commits(tmp_path: Path) -> None:
    repo = ml_repo(tmp_path)
    base = repo.commit("docs", {"README.md": "x\n"})
    repo.commit("bump", {"serving/requirements.txt": "torch==2.2.0\n"})
    g = GitRepository(repo.path)
    steps = []
    for step in walk(g, g.resolve("HEAD"), base=base):
        assert {e.path: e.blob_id for e in step.tree().entries()} == ls_tree(repo, step.info.sha)
        steps.append(step)
    assert [s.info.summary for s in steps] == ["bump"]
    full = walk_all(repo)
    assert steps[0].signature == full[-1].signature


def test_huge_blob_size_known_without_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = ml_repo(tmp_path)
    repo.commit("big lock file", {"serving/requirements.txt": "x" * 5000 + "\n"})
    monkeypatch.setattr(git_reader, "MAX_FILE_BYTES", 1000)
    g = GitRepository(repo.path)
    (step,) = list(walk(g, g.resolve("HEAD"), base=g.resolve("HEAD~1")))
    t = step.tree()
    big = next(e for e in t.entries() if e.path == "serving/requirements.txt")
    assert big.size == 5001
    with pytest.raises(TreeReadError):
        t.read(big)


def test_many_new_blobs_get_sizes_in_bulk(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    files: dict[str, str | bytes | None] = {
        f"serving/pkg/m{i}.py": f"X = {i}\n" for i in range(100)
    }
    repo.commit("many files", files)
    g = GitRepository(repo.path)
    t = next(iter(walk(g, g.resolve("HEAD")))).tree()
    sizes = {e.path: e.size for e in t.entries()}
    assert sizes["serving/pkg/m7.py"] == len("X = 7\n")
    assert sizes["serving/pkg/m42.py"] == len("X = 42\n")


def test_odd_paths_and_subjects(tmp_path: Path) -> None:
    repo = ml_repo(tmp_path)
    repo.commit(":colon subject \x01 with control", {"serving/conf ig/app é.yaml": "a: 1\n"})
    steps = walk_all(repo)
    assert steps[-1].info.summary.startswith(":colon subject")


def test_empty_repository(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "empty")
    g = GitRepository(repo.path)
    assert g.is_empty()
    with pytest.raises(RepositoryError, match="unknown revision"):
        g.resolve("HEAD")


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(RepositoryError, match="not a git repository"):
        GitRepository(tmp_path)
    with pytest.raises(RepositoryError, match="no such directory"):
        GitRepository(tmp_path / "missing")


def test_shallow_clone_walks_what_is_there(tmp_path: Path) -> None:
    repo = ml_repo(tmp_path)
    for i in range(8):
        repo.commit(f"bump {i}", {"serving/requirements.txt": f"torch==2.{i}.0\n"})
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "5", f"file://{repo.path}", str(clone)],
        check=True,
        capture_output=True,
    )
    g = GitRepository(clone)
    assert g.is_shallow
    steps = []
    for step in walk(g, g.resolve("HEAD")):
        entries = {e.path: e.blob_id for e in step.tree().entries()}
        assert entries == ls_tree(clone, step.info.sha)
        assert "training/requirements.txt" in entries
        steps.append(step)
    assert len(steps) == 5
    assert steps[0].info.parents == ()
