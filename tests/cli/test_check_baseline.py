"""``depaudit check --baseline FILE|REV``: a PR fails only for the findings it adds.

The repository has a high-severity leftover on main already (the warehouse password in
serving/.env). A pull request that only touches other things must pass the gate with
``--baseline main`` or a saved JSON report of main; one that adds a second credential
must fail; a finding that only moved to another line is not new.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from depaudit.cli import app
from tests.gitrepo import GitRepo

MAIN_FILES = {
    "training/requirements.txt": "numpy==1.26.4\noptuna==3.6.1\n",
    "training/.env": "SNOWFLAKE_PASSWORD=s3cr3t-warehouse-pw\n",
    "serving/requirements.txt": "numpy==1.26.4\nfastapi==0.110.0\n",
    "serving/.env": "SNOWFLAKE_PASSWORD=s3cr3t-warehouse-pw\nLOG_LEVEL=info\n",
}


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "model-service", author="t", email="t@example.com")
    repo.commit("main", MAIN_FILES, add_all=True)
    repo.run("checkout", "-q", "-b", "feature")
    return repo


def check(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["check", *args])
    return result.exit_code, result.stdout, result.stderr


def test_without_baseline_the_old_leftover_fails(repo: GitRepo) -> None:
    code, _, _ = check(str(repo.path), "-q", "--fail-on", "high")
    assert code == 1


def test_rev_baseline_passes_a_harmless_change(repo: GitRepo) -> None:
    repo.write({"serving/requirements.txt": "numpy==1.26.4\nfastapi==0.110.0\nuvicorn==0.29.0\n"})
    code, out, err = check(
        str(repo.path), "-q", "--fail-on", "high", "--baseline", "main", "--format", "json"
    )
    assert code == 0, err
    # the report still lists everything; only the gate ignores the baseline's findings
    assert "SNOWFLAKE_PASSWORD" in out
    assert "baseline revision main" in err
    assert "are new" in err


def test_rev_baseline_fails_a_new_credential(repo: GitRepo) -> None:
    repo.write({"serving/.env": "SNOWFLAKE_PASSWORD=s3cr3t-warehouse-pw\nLOG_LEVEL=info\n"})
    repo.write({"serving/settings.env": "WANDB_API_KEY=0123456789abcdef0123456789abcdef\n"})
    repo.write({"training/settings.env": "WANDB_API_KEY=0123456789abcdef0123456789abcdef\n"})
    code, _, err = check(str(repo.path), "-q", "--fail-on", "high", "--baseline", "main")
    assert code == 1, err


def test_moved_line_is_not_new(repo: GitRepo) -> None:
    repo.write(
        {"serving/.env": "# moved down\nLOG_LEVEL=info\nSNOWFLAKE_PASSWORD=s3cr3t-warehouse-pw\n"},
    )
    assert check(str(repo.path), "-q", "--fail-on", "high", "--baseline", "main")[0] == 0


def test_committed_rev_of_the_pr_branch(repo: GitRepo) -> None:
    # CI audits the PR head commit against origin/main-like revision
    repo.write({"serving/Dockerfile": "FROM python:3.11-slim\n"})
    repo.commit("pr", add_all=True)
    code, _, err = check(str(repo.path), "-q", "--rev", "feature", "--baseline", "main~0")
    assert code == 0, err


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_file_baseline(repo: GitRepo, tmp_path: Path, fmt: str) -> None:
    report = tmp_path / f"main.{fmt}"
    code, _, _ = check(
        str(repo.path), "-q", "--format", fmt, "--fail-on", "never", "-o", str(report)
    )
    assert code == 0
    assert check(str(repo.path), "-q", "--fail-on", "high", "--baseline", str(report))[0] == 0
    repo.write({"serving/settings.env": "WANDB_API_KEY=0123456789abcdef0123456789abcdef\n"})
    repo.write({"training/settings.env": "WANDB_API_KEY=0123456789abcdef0123456789abcdef\n"})
    code, _, err = check(str(repo.path), "-q", "--fail-on", "high", "--baseline", str(report))
    assert code == 1, err
    assert f"baseline report {report}" in err


def test_fail_on_still_applies_to_new_findings(repo: GitRepo) -> None:
    # a new medium finding: fails --fail-on medium, passes --fail-on high
    repo.write({"serving/requirements.txt": "numpy==1.24.0\nfastapi==0.110.0\n"})
    assert check(str(repo.path), "-q", "--fail-on", "high", "--baseline", "main")[0] == 0
    assert check(str(repo.path), "-q", "--fail-on", "medium", "--baseline", "main")[0] == 1


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b'{"version": 1, "findings": [', "not JSON"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b'{"rows": []}', "not a depaudit report"),
        (b'{"findings": [42]}', "not an object"),
        (b'{"findings": [{"item": "x"}]}', "lacks rule"),
        (b'{"runs": [{"results": [{"ruleId": "DA301"}]}]}', "fingerprint"),
    ],
)
def test_broken_baseline_file_is_a_one_line_usage_error(
    repo: GitRepo, tmp_path: Path, content: bytes, needle: str
) -> None:
    bad = tmp_path / "baseline.json"
    bad.write_bytes(content)
    code, _, err = check(str(repo.path), "-q", "--baseline", str(bad))
    assert code == 2
    assert needle in err
    assert err.count("\n") == 1 and err.startswith("depaudit: error:")


def test_neither_file_nor_revision(repo: GitRepo) -> None:
    code, _, err = check(str(repo.path), "-q", "--baseline", "no-such-branch")
    assert code == 2
    assert "no such report file, and not a revision" in err
    assert "Traceback" not in err


def test_rev_baseline_outside_git(tmp_path: Path) -> None:
    GitRepo(tmp_path / "plain", init=False).write(MAIN_FILES)
    code, _, err = check(str(tmp_path / "plain"), "-q", "--baseline", "main")
    assert code == 2 and "not a git repository" in err


def test_json_baseline_keys_match_finding_keys(repo: GitRepo, tmp_path: Path) -> None:
    report = tmp_path / "main.json"
    check(str(repo.path), "-q", "--format", "json", "--fail-on", "never", "-o", str(report))
    from depaudit.app.baseline import keys_from_report

    findings = json.loads(report.read_text("utf-8"))["findings"]
    keys = keys_from_report(report)
    assert len(keys) == len({(f["rule"], f["item"], f["status"]) for f in findings})
    assert any(k.endswith("|DA301|config|SNOWFLAKE_PASSWORD|leftover") for k in keys)
