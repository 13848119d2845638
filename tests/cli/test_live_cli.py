"""``depaudit live``: collect a repo, then compare a live environment with its serving env."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from typer.testing import CliRunner

from depaudit.cli import app
from depaudit.store import schema
from depaudit.store.engine import open_engine
from depaudit.store.live_snapshots import observations

FILES = {
    "training/requirements.txt": "numpy==1.26.4\nwandb==0.16.3\n",
    "serving/requirements.txt": "numpy==1.26.4\nidna>=3\n",
}
ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "PATH": "/usr/bin:/bin",
}


def make_repo(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True)
    for rel, body in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(body, "utf-8")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "init"]):
        subprocess.run(
            ["git", "-C", str(root), *args],
            check=True,
            capture_output=True,
            env={**ENV, "HOME": str(root)},
        )
    return root


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def collected(tmp_path: Path, store_url: str) -> str:
    repo = make_repo(tmp_path / "fraud-api", FILES)
    code, _, err = run("collect", str(repo), "--db", store_url)
    assert code == 0, err
    return store_url


def capture(tmp_path: Path, tree: list[dict[str, object]]) -> Path:
    path = tmp_path / "prod.json"
    path.write_text(json.dumps(tree), "utf-8")
    return path


def pkg(key: str, version: str) -> dict[str, object]:
    return {
        "key": key,
        "package_name": key,
        "installed_version": version,
        "required_version": version,
        "dependencies": [],
    }


PROD = [pkg("pip", "24.0"), pkg("numpy", "1.26.4"), pkg("idna", "2.10"), pkg("wandb", "0.16.3")]


def test_live_from_captured_json_stores_and_prints(collected: str, tmp_path: Path) -> None:
    os_release = tmp_path / "os-release"
    os_release.write_text('ID=debian\nVERSION_ID="12"\n', "utf-8")
    code, out, err = run(
        "live",
        "--pipdeptree-json",
        str(capture(tmp_path, PROD)),
        "--os-release",
        str(os_release),
        "--repo",
        "fraud-api",
        "--env",
        "serving",
        "--db",
        collected,
        "--format",
        "json",
    )
    assert code == 0, err
    found = {(f["rule"], f["item"]) for f in json.loads(out)["findings"]}
    assert {("DA701", "wandb"), ("DA703", "idna"), ("DA101", "wandb")} <= found
    (obs,) = observations(open_engine(collected), "fraud-api")
    assert obs.env_name == "serving" and obs.snapshot.observed
    assert {f.rule for f in obs.findings} >= {"DA701", "DA703"}
    assert len(obs.commit_sha) == 40


def test_env_by_role_and_fail_on(collected: str, tmp_path: Path) -> None:
    # "serving" is both a name and a role here; --fail-on makes findings fail
    code, _, _ = run(
        "live",
        "--pipdeptree-json",
        str(capture(tmp_path, PROD)),
        "--repo",
        "fraud-api",
        "--env",
        "serving",
        "--db",
        collected,
        "--fail-on",
        "medium",
        "-f",
        "csv",
    )
    assert code == 1


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--env", "serving"], "exactly one of --python"),
        (["--env", "nope", "--pipdeptree-json", "X"], "no such environment or role"),
        (["--env", "training", "--pipdeptree-json", "X"], "not serving"),
        (["--env", "serving", "--pipdeptree-json", "MISSING"], "no such file"),
        (["--env", "serving", "--python", "/etc/passwd"], "not executable"),
    ],
)
def test_usage_errors_are_one_line(
    collected: str, tmp_path: Path, args: list[str], needle: str
) -> None:
    cap = str(capture(tmp_path, PROD))
    args = [
        cap if a == "X" else str(tmp_path / "missing.json") if a == "MISSING" else a for a in args
    ]
    code, _, err = run("live", "--repo", "fraud-api", "--db", collected, *args)
    assert code == 2
    assert needle in err
    assert err.strip().count("\n") == 0


def test_unknown_repo(collected: str, tmp_path: Path) -> None:
    code, _, err = run(
        "live",
        "--repo",
        "other",
        "--env",
        "serving",
        "--pipdeptree-json",
        str(capture(tmp_path, PROD)),
        "--db",
        collected,
    )
    assert code == 2 and "no repository 'other'" in err


def test_bad_json_capture(collected: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('[{"key": "six", "installed_ver', "utf-8")
    code, _, err = run(
        "live",
        "--repo",
        "fraud-api",
        "--env",
        "serving",
        "--pipdeptree-json",
        str(bad),
        "--db",
        collected,
    )
    assert code == 2 and "not JSON" in err


def test_live_against_a_real_venv(collected: str, venv_factory: Callable[..., Path]) -> None:
    python = venv_factory("six==1.16.0", "idna==2.10")
    code, out, err = run(
        "live",
        "--python",
        str(python),
        "--repo",
        "fraud-api",
        "--env",
        "serving",
        "--db",
        collected,
        "-f",
        "json",
    )
    assert code == 0, err
    found = {(f["rule"], f["item"]) for f in json.loads(out)["findings"]}
    assert ("DA701", "six") in found  # installed, declared nowhere
    assert ("DA703", "idna") in found  # 2.10 outside idna>=3
    assert ("DA702", "numpy") in found  # declared, not installed


def test_v1_store_is_migrated(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        schema.metadata.create_all(
            conn, tables=[t for t in schema.metadata.sorted_tables if t.name != "live_snapshots"]
        )
        conn.execute(text("INSERT INTO meta (key, value) VALUES ('schema_version', '1')"))
    assert "live_snapshots" not in inspect(engine).get_table_names()
    assert schema.migrate(open_engine(url)) == schema.SCHEMA_VERSION
    assert "live_snapshots" in inspect(create_engine(url)).get_table_names()
