"""Named hostile inputs a pull request can plant, end to end through the real commands.

YAML alias bombs, a 1 GB sparse file, symlinks to /etc/passwd and out of the repo, a git
submodule, a file name that is not UTF-8, and a ``.depaudit.toml`` with every kind of
wrong value. Each gives an error finding or a one-line error; none is followed, read
whole, or allowed to stop the audit.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path

import pytest
from reliability_helpers import GitRepo, run_depaudit

from depaudit.collectors.snapshot import snapshot_tree
from depaudit.collectors.sources.base import MAX_FILE_BYTES
from depaudit.collectors.tree import TreeEntry, WorkingTree
from depaudit.model import ParseError
from depaudit.store.reader import StoreReader

TRAINING_REQS = "torch==2.1.0\noptuna==3.6.1\npandas==2.1.4\n"
SERVING_REQS = "torch==2.1.0\nfastapi==0.110.0\npandas==2.1.4\n"
BASE = {"training/requirements.txt": TRAINING_REQS, "serving/requirements.txt": SERVING_REQS}

BILLION_LAUGHS = "a: &a ['lol','lol','lol','lol','lol','lol','lol','lol','lol']\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content if isinstance(content, bytes) else content.encode())
    return root


def errors_of(snap: object) -> list[ParseError]:
    return [f for env in snap.environments for f in env.facts if isinstance(f, ParseError)]  # type: ignore[attr-defined]


def check_json(path: Path, *extra: str) -> tuple[int, list[dict[str, object]], str]:
    proc = run_depaudit("check", str(path), "--format", "json", "--fail-on", "never", "-q", *extra)
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    findings = json.loads(proc.stdout)["findings"] if proc.stdout else []
    return proc.returncode, findings, proc.stderr


# ----------------------------------------------------------------------------- YAML bombs


@pytest.mark.parametrize(
    "rel",
    ["serving/config.yaml", "docker-compose.yml", "k8s/serving.yaml", "serving/environment.yml"],
)
def test_yaml_alias_bomb_is_an_error_not_an_expansion(tmp_path: Path, rel: str) -> None:
    root = write_tree(tmp_path / "repo", {**BASE, rel: BILLION_LAUGHS})
    started = time.perf_counter()
    code, findings, _ = check_json(root)
    assert time.perf_counter() - started < 20  # includes interpreter start-up
    assert code == 0
    errors = [f for f in findings if f["status"] == "error" and f["file"] == rel]
    if rel in ("docker-compose.yml", "k8s/serving.yaml"):  # files outside an env folder
        snap = snapshot_tree(WorkingTree(root))
        assert rel in snap.unassigned or errors
        return
    assert len(errors) == 1, findings
    assert "alias bomb" in str(errors[0]["message"]) or "nodes" in str(errors[0]["message"])


def test_yaml_alias_bomb_in_memory_is_bounded() -> None:
    from depaudit.collectors.sources import source_for

    for path in ("serving/config.yaml", "docker-compose.yml", "serving/environment.yml"):
        source = source_for(path)
        assert source is not None
        started = time.perf_counter()
        result = source.parse(BILLION_LAUGHS, path)
        assert time.perf_counter() - started < 2
        (err,) = [f for f in result.facts if isinstance(f, ParseError)]
        assert "nodes" in err.message and "\n" not in err.message


# ----------------------------------------------------------------------------- huge files


class CountingTree(WorkingTree):
    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.read_paths: list[str] = []

    def read(self, entry: TreeEntry) -> bytes:
        self.read_paths.append(entry.path)
        return super().read(entry)


def test_1gb_sparse_file_is_skipped_by_size_without_being_read(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "repo", dict(BASE))
    huge = root / "serving" / "requirements-extra.txt"
    with open(huge, "wb") as fh:
        fh.write(b"wandb==0.16.0\n")
    os.truncate(huge, 1024**3)  # sparse: 1 GB apparent size, a few KB on disk
    tree = CountingTree(root)
    started = time.perf_counter()
    snap = snapshot_tree(tree)
    elapsed = time.perf_counter() - started
    assert elapsed < 2, elapsed
    assert "serving/requirements-extra.txt" not in tree.read_paths
    (err,) = [e for e in errors_of(snap) if e.file == "serving/requirements-extra.txt"]
    assert err.message == "file is 1024.0 MB, above the 10 MB limit; not parsed"
    assert MAX_FILE_BYTES == 10 * 1024 * 1024  # the limit SECURITY.md documents

    _, findings, _ = check_json(root)
    (finding,) = [f for f in findings if f["file"] == "serving/requirements-extra.txt"]
    assert finding["rule"] == "DA900" and "10 MB limit" in str(finding["message"])
    assert not any(f["item"] == "wandb" for f in findings)


def test_file_just_over_the_limit_in_git_history_is_an_error_finding(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("layout", dict(BASE))
    big = "# padding\n" * (MAX_FILE_BYTES // 10 + 1)
    sha = repo.commit("huge reqs", {"serving/requirements-dev.txt": big + "wandb==0.16.0\n"})
    db = tmp_path / "s.db"
    proc = run_depaudit("collect", str(repo.path), "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    rows = StoreReader(f"sqlite:///{db}").findings_at("repo", sha)
    (err,) = [r.finding for r in rows if r.finding.status == "error"]
    assert err.file == "serving/requirements-dev.txt" and "10 MB limit" in err.message
    _, findings, _ = check_json(repo.path, "--rev", sha)
    assert any(f["rule"] == "DA900" and "10 MB limit" in str(f["message"]) for f in findings)


# ----------------------------------------------------------------------------- symlinks


def plant_symlinks(root: Path, outside: Path) -> None:
    outside.mkdir(parents=True, exist_ok=True)
    (outside / "secret.yaml").write_text(
        "db:\n  password: outside-secret-123\nhost: outside.internal\n"
    )
    (root / "serving" / "requirements-prod.txt").symlink_to("/etc/passwd")
    (root / "serving" / "config.yaml").symlink_to(
        os.path.relpath(outside / "secret.yaml", root / "serving")
    )
    (root / "serving" / "etc").symlink_to("/etc", target_is_directory=True)
    (root / "serving" / "conf").symlink_to(outside, target_is_directory=True)


def assert_symlinks_not_followed(findings: list[dict[str, object]], text: str) -> None:
    assert (
        "root:x:0:0" not in text
        and "outside-secret-123" not in text
        and "outside.internal" not in text
    )
    by_file = {f["file"]: f for f in findings if f["status"] == "error"}
    for rel in ("serving/requirements-prod.txt", "serving/config.yaml"):
        assert by_file[rel]["message"] == "symbolic link; not followed", by_file
    assert not any(str(f["file"]).startswith(("serving/etc/", "serving/conf/")) for f in findings)


def test_symlinks_in_the_working_tree_are_never_followed(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "repo", dict(BASE))
    plant_symlinks(root, tmp_path / "outside")
    code, findings, stderr = check_json(root)
    assert code == 0
    assert_symlinks_not_followed(findings, json.dumps(findings) + stderr)


def test_symlinks_in_git_are_never_followed(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    for rel, text in BASE.items():
        write_tree(repo.path, {rel: text})
    plant_symlinks(repo.path, tmp_path / "outside")
    repo.git("add", "-A")
    repo.commit("symlinks")
    _, findings, stderr = check_json(repo.path, "--rev", "HEAD")
    assert_symlinks_not_followed(findings, json.dumps(findings) + stderr)
    db = tmp_path / "s.db"
    proc = run_depaudit("collect", str(repo.path), "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    report = run_depaudit("report", "--db", str(db), "--format", "json")
    stored = json.loads(report.stdout)["findings"]
    assert_symlinks_not_followed(stored, report.stdout + db.read_bytes().decode("latin-1"))


# ----------------------------------------------------------------------------- submodules


def test_git_submodule_is_not_audited(tmp_path: Path) -> None:
    lib = GitRepo(tmp_path / "featurelib")
    lib_sha = lib.commit(
        "lib", {"requirements.txt": "wandb==0.16.0\n", "serving/requirements.txt": "optuna\n"}
    )
    repo = GitRepo(tmp_path / "repo")
    repo.commit("layout", dict(BASE))
    repo.git(
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        str(lib.path),
        "serving/featurelib",
    )
    # a gitlink whose path looks like an environment file
    repo.git(
        "update-index",
        "--add",
        "--cacheinfo",
        f"160000,{lib_sha},serving/requirements-vendored.txt",
    )
    sha = repo.commit("vendor featurelib as a submodule")
    assert "160000" in repo.git("ls-tree", "-r", "HEAD")

    _, findings, _ = check_json(repo.path, "--rev", sha)
    assert not any(
        f["item"] in ("wandb", "optuna") and f["serving"]
        for f in findings
        if f["status"] != "error"
    )
    (err,) = [f for f in findings if f["status"] == "error"]
    assert (
        err["file"] == "serving/requirements-vendored.txt"
        and err["message"] == "git submodule; not audited"
    )

    db = tmp_path / "s.db"
    proc = run_depaudit("collect", str(repo.path), "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    rows = StoreReader(f"sqlite:///{db}").findings_at("repo", sha)
    assert not any(r.finding.file.startswith("serving/featurelib/") for r in rows)
    (stored_err,) = [r.finding for r in rows if r.finding.status == "error"]
    assert stored_err.message == "git submodule; not audited"


# ----------------------------------------------------------------------------- names


BAD_NAMES = [
    b"serving/requirements-\xff.txt",
    b"serving/caf\xe9/config.yaml",
    b"serving/\x80\x81.env",
]


def test_file_names_that_are_not_utf8(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    write_tree(repo.path, dict(BASE))
    for raw in BAD_NAMES:
        full = os.fsencode(repo.path) + b"/" + raw
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as fh:
            fh.write(
                b"wandb==0.16.0\n"
                if raw.endswith(b".txt")
                else b"WANDB_API_KEY=wb-secret-abcdef123456\n"
            )
    repo.git("add", "-A")
    sha = repo.commit("odd names")

    outputs = []
    for extra in ([], ["--rev", sha]):
        for fmt in ("json", "csv", "sarif", "markdown", "table"):
            out = tmp_path / f"out-{fmt}-{len(extra)}"
            proc = run_depaudit(
                "check",
                str(repo.path),
                "--format",
                fmt,
                "--fail-on",
                "never",
                "-o",
                str(out),
                *extra,
                env={"PYTHONIOENCODING": "utf-8"},
            )
            assert proc.returncode == 0, proc.stderr
            text = out.read_bytes().decode("utf-8")  # strictly valid UTF-8
            outputs.append(text)
            assert "wb-secret-abcdef123456" not in text + proc.stderr
        assert "serving/requirements-\ufffd.txt" in outputs[-5]
        leftover = [f for f in json.loads(outputs[-5])["findings"] if f["item"] == "wandb"]
        assert leftover and leftover[0]["file"] == "serving/requirements-\ufffd.txt"

    db = tmp_path / "s.db"
    proc = run_depaudit("collect", str(repo.path), "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    rows = StoreReader(f"sqlite:///{db}").findings_at("repo", sha)
    assert any(
        r.finding.item == "wandb" and r.finding.file == "serving/requirements-\ufffd.txt"
        for r in rows
    )


# ----------------------------------------------------------------------------- bad config

BAD_CONFIGS: dict[str, str | bytes] = {
    "unknown top key": "[environmnets.api]\nrole = 'serving'\n",
    "bad role": "[environments.api]\nrole = 'prod'\ninclude = ['serving/**']\n",
    "include not a list": "[environments.api]\nrole = 'serving'\ninclude = 'serving/**'\n",
    "include empty": "[environments.t]\nrole='training'\ninclude=['t/**']\n[environments.api]\nrole = 'serving'\ninclude = []\n",
    "include of numbers": "[environments.api]\nrole = 'serving'\ninclude = [1, 2]\n",
    "one role only": "[environments.api]\nrole = 'serving'\ninclude = ['serving/**']\n",
    "env not a table": "[environments]\napi = 'serving'\n",
    "unknown env key": "[environments.api]\nrole = 'serving'\ninclude = ['s/**']\nincludes = ['x']\n",
    "bad severity": "[rules.severity]\nDA101 = 'critical'\n",
    "bad rule id": "[rules.severity]\nXX1 = 'high'\n",
    "unknown rules key": "[rules]\nignored = ['DA101']\n",
    "ignore not list": "[rules]\nignore = 'DA101'\n",
    "allow unknown key": "[rules.DA101]\nalow = ['pytest']\n",
    "knowledge unknown": "[knowledge]\ntraining_pkgs = ['x']\n",
    "max_cpu negative": "[knowledge]\nmax_cpu = -1\n",
    "max_cpu string": "[knowledge]\nmax_cpu = '8'\n",
    "max_memory inf": "[knowledge]\nmax_memory = inf\n",
    "max_cpu nan": "[knowledge]\nmax_cpu = nan\n",
    "max_cpu bool": "[knowledge]\nmax_cpu = true\n",
    "invalid TOML": "[environments.api\nrole = \n",
    "duplicate key": "[rules]\nignore = []\nignore = []\n",
    "key with newline": '[rules]\n"ignore\\nDA101" = []\n',
    "long key": "[rules]\n" + "k" * 5000 + " = 1\n",
    "not UTF-8": b"[rules]\nignore = ['caf\xe9']\n",
    "binary": b"\x00\x01\x02[rules]\n",
    "too large": "# pad\n" * 50_000,
    "deeply nested": "a = " + "[" * 5000 + "]" * 5000 + "\n",
}


@pytest.mark.parametrize("name", sorted(BAD_CONFIGS))
def test_bad_depaudit_toml_check_is_exit_2_one_line(tmp_path: Path, name: str) -> None:
    root = write_tree(tmp_path / "repo", {**BASE, ".depaudit.toml": BAD_CONFIGS[name]})
    proc = run_depaudit("check", str(root), "-q")
    assert proc.returncode == 2, (proc.returncode, proc.stdout[:300], proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("depaudit: error: .depaudit.toml: "), lines
    assert len(lines[0]) < 400 and "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_bad_pyproject_tool_table_check_is_exit_2(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "repo", {**BASE, "pyproject.toml": "[tool]\ndepaudit = 1\n"})
    proc = run_depaudit("check", str(root), "-q")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "depaudit: error: pyproject.toml: [tool.depaudit] must be a table"
    ]


def test_bad_depaudit_toml_collect_records_da901_per_commit_and_continues(tmp_path: Path) -> None:
    """Every kind of wrong value, one commit each: a DA901 finding, conventions used, no stop."""
    repo = GitRepo(tmp_path / "repo")
    first = repo.commit(
        "layout", {**BASE, "serving/requirements.txt": SERVING_REQS + "optuna==3.6.1\n"}
    )
    bad_shas = {}
    for name in sorted(BAD_CONFIGS):
        bad_shas[name] = repo.commit(f"config: {name}", {".depaudit.toml": BAD_CONFIGS[name]})
    good = repo.commit(
        "valid config",
        {
            ".depaudit.toml": "[environments.t]\nrole='training'\ninclude=['training/**']\n"
            "[environments.s]\nrole='serving'\ninclude=['serving/**']\n"
        },
    )
    db = tmp_path / "s.db"
    proc = run_depaudit("collect", str(repo.path), "--db", str(db), "--batch-size", "3")
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    reader = StoreReader(f"sqlite:///{db}")
    assert len(reader.commits("repo")) == len(BAD_CONFIGS) + 2
    for name, sha in bad_shas.items():
        rows = [r.finding for r in reader.findings_at("repo", sha)]
        da901 = [f for f in rows if f.rule == "DA901"]
        assert len(da901) == 1, (name, [f.rule for f in rows])
        assert da901[0].file == ".depaudit.toml" and da901[0].status == "error"
        assert "\n" not in da901[0].message and len(da901[0].message) < 500, (
            name,
            da901[0].message,
        )
        assert "environments found by convention instead" in da901[0].message
        assert any(f.rule == "DA101" and f.item == "optuna" for f in rows), name  # still audited
    assert not any(r.finding.rule == "DA901" for r in reader.findings_at("repo", first))
    good_rows = [r.finding for r in reader.findings_at("repo", good)]
    assert not any(f.rule == "DA901" for f in good_rows)
    assert {f.serving_env for f in good_rows} == {"s"}
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
