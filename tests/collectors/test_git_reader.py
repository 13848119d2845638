"""The one git reader (collectors/git.py) on real repositories built with ``git``.

The history walk, a commit's tree (``check --rev``, ``--baseline REV``) and a work tree
(``check PATH``) must agree: the same names for the same files, the same policy for an
object a partial or pruned clone lacks (the file it belongs to is an error, a file no
source reads is never asked for), and the files git ignores are not the repository's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from depaudit.collectors.git import (
    GitNotFoundError,
    GitRepository,
    GitWorkTree,
    RepositoryError,
    open_tree,
)
from depaudit.collectors.history import walk
from depaudit.collectors.snapshot import snapshot_tree
from depaudit.collectors.tree import Tree, TreeReadError, WorkingTree
from depaudit.model import Package, ParseError
from tests.gitrepo import GitRepo

SERVING_EXTRA = "gunicorn==21.2.0\nprometheus-client==0.20.0\n"
FILES = {
    "training/requirements.txt": "scikit-learn==1.3.2\noptuna==3.6.1\n",
    "serving/requirements.txt": "scikit-learn==1.3.2\nwandb==0.16.0\nfastapi==0.110.0\n",
    "serving/requirements-extra.txt": SERVING_EXTRA,
    "data/access_logs.json": '{"user": 1, "item": 7}\n',
    "data/train.csv": "x,y\n1,2\n",
    "docs/architecture.md": "# how it works\n",
}


def ml_repo(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("layout", FILES)
    return repo


def drop_blob(repo: GitRepo, path: str) -> str:
    """Delete the loose object of ``path`` at HEAD, as a pruned clone lacks it."""
    blob = repo.run("rev-parse", f"HEAD:{path}")
    (repo.path / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    return blob


def errors(tree: Tree) -> dict[str, str]:
    snap = snapshot_tree(tree)
    return {
        f.file: f.message for e in snap.environments for f in e.facts if isinstance(f, ParseError)
    }


def packages(tree: Tree, role: str) -> set[str]:
    snap = snapshot_tree(tree)
    return {
        f.name
        for e in snap.environments
        if e.role == role
        for f in e.facts
        if isinstance(f, Package)
    }


def head_tree_by_walk(repo: GitRepo) -> Tree:
    g = GitRepository(repo.path)
    *_, last = walk(g, g.resolve("HEAD"))
    return last.tree()


def head_tree_by_rev(repo: GitRepo) -> Tree:
    return GitRepository(repo.path).tree_at("HEAD")


READERS = {"walk": head_tree_by_walk, "rev": head_tree_by_rev}


# ------------------------------------------------------------------ missing objects


@pytest.mark.parametrize("reader", sorted(READERS))
def test_missing_blob_of_an_environment_file_is_an_error_of_that_file(
    tmp_path: Path, reader: str
) -> None:
    repo = ml_repo(tmp_path)
    blob = drop_blob(repo, "serving/requirements-extra.txt")
    tree = READERS[reader](repo)
    assert errors(tree) == {
        "serving/requirements-extra.txt": f"cannot read file: git object {blob[:12]} is missing "
        "(pruned or damaged clone)"
    }
    # the rest of the audit completes
    assert {"wandb", "fastapi", "scikit-learn"} <= packages(tree, "serving")


@pytest.mark.parametrize("reader", sorted(READERS))
def test_missing_irrelevant_blobs_are_never_asked_for(
    tmp_path: Path, reader: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = ml_repo(tmp_path)
    missing = {drop_blob(repo, "data/train.csv"), drop_blob(repo, "docs/architecture.md")}
    asked: list[str] = []
    real_sizes, real_read = GitRepository.blob_sizes, GitRepository.read_blob

    def sizes(self: GitRepository, blobs: list[str]) -> dict[str, int]:
        asked.extend(blobs)
        return real_sizes(self, blobs)

    def read(self: GitRepository, blob: str) -> bytes:
        asked.append(blob)
        return real_read(self, blob)

    monkeypatch.setattr(GitRepository, "blob_sizes", sizes)
    monkeypatch.setattr(GitRepository, "read_blob", read)
    tree = READERS[reader](repo)
    assert errors(tree) == {}
    assert "wandb" in packages(tree, "serving")
    assert asked and not missing & set(asked)


def test_missing_blob_of_a_data_file_outside_any_environment_is_no_finding(
    tmp_path: Path,
) -> None:
    """The field test's case: a JSON data file is read (it could be a manifest), in vain."""
    repo = ml_repo(tmp_path)
    drop_blob(repo, "data/access_logs.json")
    for reader in READERS.values():
        tree = reader(repo)
        assert errors(tree) == {}
        assert "wandb" in packages(tree, "serving")


def partial_clone(tmp_path: Path) -> tuple[Path, GitRepo]:
    source = ml_repo(tmp_path)
    source.commit("bump", {"serving/requirements-extra.txt": SERVING_EXTRA + "uvicorn\n"})
    source.run("config", "uploadpack.allowFilter", "true")
    clone = tmp_path / "partial"
    subprocess.run(
        ["git", "clone", "-q", "--filter=blob:none", "--no-checkout", source.path.as_uri(), clone],
        check=True,
        capture_output=True,
    )
    return clone, source


def missing_objects(clone: Path) -> int:
    out = subprocess.run(
        ["git", "rev-list", "--objects", "--missing=print", "--all"],
        cwd=clone,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return sum(line.startswith("?") for line in out.splitlines())


def test_partial_clone_is_audited_without_fetching(tmp_path: Path) -> None:
    """A blob:none clone lacks every blob; git would fetch each one it is asked for."""
    clone, source = partial_clone(tmp_path)
    before = missing_objects(clone)
    assert before > 0
    g = GitRepository(clone)
    assert g.is_partial_clone
    trees = [g.tree_at("HEAD")] + [step.tree() for step in walk(g, g.resolve("HEAD"))]
    for tree in trees:
        errs = errors(tree)
        assert set(errs) == {
            "training/requirements.txt",
            "serving/requirements.txt",
            "serving/requirements-extra.txt",
        }
        assert all("not in this partial clone" in m for m in errs.values())
    assert missing_objects(clone) == before  # nothing was fetched from the source

    # once the blobs are there (fetched by the user), the same clone audits in full
    subprocess.run(["git", "checkout", "-q", "main"], cwd=clone, check=True, capture_output=True)
    assert errors(GitRepository(clone).tree_at("HEAD")) == {}
    assert source.path.exists()


# ------------------------------------------------------------------ names


BAD_NAMES = [b"serving/requirements-\xff.txt", b"serving/caf\xe9/config.yaml"]


def test_names_are_decoded_one_way_by_every_reader(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.write(FILES)
    for raw in BAD_NAMES:
        full = os.fsencode(repo.path) + b"/" + raw
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as fh:
            fh.write(b"wandb==0.16.0\n" if raw.endswith(b".txt") else b"batch_size: 8\n")
    repo.commit("odd names", add_all=True)
    plain = tmp_path / "plain"
    shutil.copytree(repo.path, plain, ignore=shutil.ignore_patterns(".git"))

    readers: dict[str, Tree] = {
        "walk": head_tree_by_walk(repo),
        "rev": head_tree_by_rev(repo),
        "work tree": open_tree(repo.path).tree,
        "plain directory": open_tree(plain).tree,
    }
    listings = {}
    for name, tree in readers.items():
        files = {e.path: e for e in tree.entries()}
        listings[name] = sorted(files)
        for path in ("serving/requirements-\ufffd.txt", "serving/caf\ufffd/config.yaml"):
            path.encode("utf-8")  # printable, storable
            assert tree.read(files[path]) in (b"wandb==0.16.0\n", b"batch_size: 8\n"), name
    assert isinstance(readers["work tree"], GitWorkTree)
    assert isinstance(readers["plain directory"], WorkingTree)
    assert len({tuple(v) for v in listings.values()}) == 1, listings


# ------------------------------------------------------------------ work trees


def test_work_tree_is_what_git_tracks_plus_untracked_files_not_ignored(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit(
        "layout",
        {
            **FILES,
            ".gitignore": "env/\nbuild/\n*.log\n",
            "serving/vendor/requirements.txt": "torch==2.1.0\n",
        },
    )
    repo.write(
        {
            # ignored: a local virtualenv and a build output
            "serving/env/pyvenv.cfg": "home = /usr/bin\n",
            "serving/env/lib/python3.11/site-packages/optuna/__init__.py": "import wandb\n",
            "serving/build/lib/requirements.txt": "wandb==0.1\n",
            "serving/debug.log": "x\n",
            # untracked and not ignored: part of what is audited
            "serving/requirements-local.txt": "mlflow==2.11.1\n",
            # untracked, not ignored, but a virtualenv nobody ignored
            "serving/.venv-py311/pyvenv.cfg": "home = /usr/bin\n",
            "serving/.venv-py311/lib/python3.11/site-packages/x/requirements.txt": "dvc\n",
        }
    )
    (repo.path / "serving/vendor/requirements.txt").unlink()  # tracked, deleted on disk
    paths = {e.path for e in open_tree(repo.path).tree.entries()}
    assert "serving/requirements-local.txt" in paths
    assert "serving/vendor/requirements.txt" not in paths
    assert not any(p.startswith(("serving/env/", "serving/build/", "serving/.venv")) for p in paths)
    assert "serving/debug.log" not in paths
    assert "mlflow" in packages(open_tree(repo.path).tree, "serving")


def test_tracked_files_under_an_ignored_folder_are_still_audited(tmp_path: Path) -> None:
    """Tracked wins over .gitignore, as in git itself and in ``--rev``."""
    repo = GitRepo(tmp_path / "repo")
    repo.commit("layout", {**FILES, ".gitignore": "build/\n"})
    repo.write({"build/serving/Dockerfile": "FROM python:3.11-slim\n"})
    repo.run("add", "-f", "build/serving/Dockerfile")
    repo.commit("force-add the serving image")
    work = {e.path for e in open_tree(repo.path).tree.entries()}
    rev = {e.path for e in open_tree(repo.path, "HEAD").tree.entries()}
    assert "build/serving/Dockerfile" in work
    assert work == rev


def test_submodules_are_listed_never_entered_and_symlinks_never_followed(tmp_path: Path) -> None:
    lib = GitRepo(tmp_path / "featurelib")
    lib.commit("lib", {"serving/requirements.txt": "optuna\n", "requirements.txt": "wandb\n"})
    repo = GitRepo(tmp_path / "repo")
    repo.commit("layout", FILES)
    repo.run("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib.path), "vendor")
    os.symlink("/etc/passwd", repo.path / "serving" / "requirements-prod.txt")
    repo.commit("submodule and link", add_all=True)
    tree = open_tree(repo.path).tree
    kinds = {e.path: e.kind for e in tree.entries()}
    assert kinds["vendor"] == "submodule"
    assert kinds["serving/requirements-prod.txt"] == "symlink"
    assert not any(p.startswith("vendor/") for p in kinds)
    for entry in tree.entries():
        if entry.kind != "file":
            with pytest.raises(TreeReadError):
                tree.read(entry)
    assert kinds == {e.path: e.kind for e in open_tree(repo.path, "HEAD").tree.entries()}


def test_a_folder_of_a_work_tree_is_audited_relative_to_itself(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("layout", {**{f"models/fraud/{k}": v for k, v in FILES.items()}, "README.md": ""})
    paths = {e.path for e in open_tree(repo.path / "models" / "fraud").tree.entries()}
    assert paths == set(FILES)


def test_a_folder_git_ignores_is_read_as_a_directory_when_asked_for(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("layout", {**FILES, ".gitignore": "scratch/\n"})
    repo.write({"scratch/serving/requirements.txt": "wandb\n"})
    opened = open_tree(repo.path / "scratch")
    assert "ignored" in opened.notice
    assert {e.path for e in opened.tree.entries()} == {"serving/requirements.txt"}


def test_bare_repository_is_audited_at_head(tmp_path: Path) -> None:
    repo = ml_repo(tmp_path)
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo.path), str(bare)], check=True)
    opened = open_tree(bare)
    head = repo.run("rev-parse", "HEAD")
    assert opened.commit == head
    assert "bare repository" in opened.notice and head[:12] in opened.notice
    assert {e.path for e in opened.tree.entries()} == set(FILES)
    # a path inside a git directory is that repository, not a folder of files
    assert open_tree(bare / "objects").commit == head
    inner = open_tree(repo.path / ".git")
    assert inner.commit == head and "inside a git directory" in inner.notice


def test_empty_bare_repository_is_one_line_error(tmp_path: Path) -> None:
    bare = tmp_path / "empty.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    with pytest.raises(RepositoryError, match="bare repository with no commits"):
        open_tree(bare)


def test_plain_directory_skips_local_artefacts_by_what_they_are(tmp_path: Path) -> None:
    root = tmp_path / "export"
    files = {
        **FILES,
        "serving/env/pyvenv.cfg": "home = /usr/bin\n",
        "serving/env/lib/python3.11/site-packages/optuna/__init__.py": "import wandb\n",
        "serving/.venv-py311/pyvenv.cfg": "home = /usr/bin\n",
        "serving/.venv-py311/requirements.txt": "wandb\n",
        "serving/conda/conda-meta/history": "",
        "serving/conda/requirements.txt": "wandb\n",
        "usr/lib/python3/dist-packages/x/requirements.txt": "wandb\n",
        "opt/lib/python3.11/site-packages/y/requirements.txt": "wandb\n",
        "serving/build/lib/serving/app.py": "import wandb\n",
        "serving/build/bdist.linux-x86_64/requirements.txt": "wandb\n",
        "serving/dist/serving-0.1.tar.gz": "",
        "serving/node_modules/pkg/package.json": "{}\n",
        "serving/.tox/py311/requirements.txt": "wandb\n",
        "serving/serving.egg-info/requires.txt": "wandb\n",
        # kept: a build/ folder of the project's own files, a folder merely named venv
        "build/serving/Dockerfile": "FROM python:3.11-slim\n",
        "venv/requirements.txt": "fastapi\n",
    }
    GitRepo(root, init=False).write(files)
    paths = {e.path for e in open_tree(root).tree.entries()}
    assert paths == set(FILES) | {"build/serving/Dockerfile", "venv/requirements.txt"}


def test_excluded_report_file_is_not_listed(tmp_path: Path) -> None:
    repo = ml_repo(tmp_path)
    repo.write({"findings.json": '{"findings": []}\n'})
    plain = tmp_path / "plain"
    shutil.copytree(repo.path, plain, ignore=shutil.ignore_patterns(".git"))
    for root in (repo.path, plain):
        assert "findings.json" in {e.path for e in open_tree(root).tree.entries()}
        tree = open_tree(root, exclude=[root / "findings.json"]).tree
        assert "findings.json" not in {e.path for e in tree.entries()}


# ------------------------------------------------------------------ errors


def test_errors_are_one_line(tmp_path: Path) -> None:
    repo = ml_repo(tmp_path)
    (tmp_path / "plain").mkdir()
    cases = [
        (lambda: open_tree(repo.path, "no-such-branch"), "unknown revision 'no-such-branch'"),
        (lambda: open_tree(repo.path, "--output=x"), "unknown revision '--output=x'"),
        (lambda: open_tree(tmp_path / "plain", "HEAD"), "not a git repository"),
        (lambda: open_tree(tmp_path / "missing"), "no such directory"),
        (lambda: GitRepository(tmp_path / "missing"), "no such directory"),
    ]
    for call, needle in cases:
        with pytest.raises(RepositoryError) as info:
            call()
        assert needle in str(info.value) and "\n" not in str(info.value)


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0,
    reason="giving a repository to another user needs root",
)
def test_repository_git_refuses_is_one_line_with_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CI container checks out as one user and runs as another: git refuses it."""
    repo = ml_repo(tmp_path)
    for folder, _dirs, files in os.walk(repo.path):
        for name in [folder, *(os.path.join(folder, f) for f in files)]:
            os.chown(name, 65534, 65534)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)  # no safe.directory of the host
    for call in (
        lambda: open_tree(repo.path),
        lambda: open_tree(repo.path, "HEAD"),
        lambda: GitRepository(repo.path),
    ):
        with pytest.raises(RepositoryError) as info:
            call()
        message = str(info.value)
        assert "dubious ownership" in message and "safe.directory" in message
        assert "\n" not in message


def test_git_missing_is_said_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = ml_repo(tmp_path)
    plain = tmp_path / "plain"
    GitRepo(plain, init=False).write(FILES)
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    for call in (
        lambda: GitRepository(repo.path),
        lambda: open_tree(repo.path),
        lambda: open_tree(repo.path / "serving"),
        lambda: open_tree(repo.path, "HEAD"),
        lambda: open_tree(plain, "HEAD"),
    ):
        with pytest.raises(GitNotFoundError, match=r"^git not found on PATH$"):
            call()
    # a directory outside git needs no git
    assert {e.path for e in open_tree(plain).tree.entries()} == set(FILES)
