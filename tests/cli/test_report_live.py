"""``depaudit report`` shows what ``depaudit live`` found, beside what ``collect`` found.

End to end: a real ``collect`` of a git repository, ``depaudit live`` with a pipdeptree
JSON captured on a server, then ``report`` in every format.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from depaudit.reports import CSV_COLUMNS
from tests.gitrepo import GitRepo

DEPAUDIT = str(Path(sys.executable).parent / "depaudit")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([DEPAUDIT, *args], capture_output=True, text=True, timeout=300)
    assert "Traceback" not in proc.stderr
    return proc


def pkg(name: str, version: str) -> dict[str, object]:
    return {
        "key": name,
        "package_name": name,
        "installed_version": version,
        "required_version": version,
        "dependencies": [],
    }


# `pipdeptree --json-tree` on the server: idna 2.10 is outside serving's idna>=3 (DA703),
# wandb was pip-installed by hand (DA701, and a DA101 leftover against training)
CAPTURE = [pkg("pip", "24.0"), pkg("numpy", "1.26.4"), pkg("idna", "2.10"), pkg("wandb", "0.16.3")]


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    base = tmp_path_factory.mktemp("report_live")
    repo = GitRepo(base / "fraud-api", epoch=datetime(2024, 3, 1, tzinfo=UTC))
    shas = [
        repo.commit(
            "training and serving",
            {
                "training/requirements.txt": "numpy==1.26.4\nwandb==0.16.3\n",
                "serving/requirements.txt": "numpy==1.26.4\nidna>=3\n",
            },
        ),
        repo.commit(
            "serving pins fastapi",
            {"serving/requirements.txt": "numpy==1.26.4\nidna>=3\nfastapi==0.110.0\n"},
        ),
    ]
    db = base / "store.db"
    assert run("collect", str(repo.path), "--db", str(db)).returncode == 0
    capture = base / "prod-pipdeptree.json"
    capture.write_text(json.dumps(CAPTURE), "utf-8")
    proc = run(
        "live",
        *("--pipdeptree-json", str(capture), "--repo", "fraud-api", "--env", "serving"),
        *("--db", str(db), "--format", "json"),
    )
    assert proc.returncode == 0, proc.stderr
    assert "DA703" in proc.stdout
    return db, shas


def report(db: Path, *args: str) -> str:
    proc = run("report", "--db", str(db), *args)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_json_report_has_the_live_findings_marked_and_the_observation(
    observed: tuple[Path, list[str]],
) -> None:
    db, shas = observed
    doc = json.loads(report(db, "--format", "json"))
    live = [f for f in doc["findings"] if f["serving_env"] == "serving@live"]
    declared = [f for f in doc["findings"] if f["serving_env"] == "serving"]
    assert {(f["rule"], f["item"]) for f in live} >= {
        ("DA703", "idna"),
        ("DA701", "wandb"),
        ("DA101", "wandb"),
    }
    # the stored (declared) findings are all still there
    assert ("DA104", "numpy") in {(f["rule"], f["item"]) for f in declared}
    assert {f["commit"] for f in live} == {shas[-1]}
    assert all(f["committed_at"] for f in live)
    (obs,) = doc["live"]
    assert obs["environment"] == "serving" and obs["observed_as"] == "serving@live"
    assert obs["commit"] == shas[-1] and obs["source"].endswith("prod-pipdeptree.json")
    assert obs["findings"] == len(live)


def test_csv_report_keeps_the_contract_and_adds_the_live_rows(
    observed: tuple[Path, list[str]],
) -> None:
    db, _ = observed
    text = report(db, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(text.splitlines()[0].split(",")) == (*CSV_COLUMNS, "pairs")
    idna = [r for r in rows if r["rule"] == "DA703"]
    assert len(idna) == 1
    assert (idna[0]["training_env"], idna[0]["serving_env"]) == ("serving", "serving@live")
    assert (idna[0]["training"], idna[0]["serving"]) == (">=3", "2.10")


@pytest.mark.parametrize("fmt", ["markdown", "sarif"])
def test_markdown_and_sarif_name_the_observed_environment(
    observed: tuple[Path, list[str]], fmt: str
) -> None:
    db, _ = observed
    text = report(db, "--format", fmt)
    assert "serving@live" in text
    assert "DA703" in text


def test_an_older_commit_has_no_live_findings_of_the_head(
    observed: tuple[Path, list[str]],
) -> None:
    db, shas = observed
    doc = json.loads(report(db, "--format", "json", "--commit", shas[0]))
    assert doc["live"] == []
    assert not [f for f in doc["findings"] if f["serving_env"].endswith("@live")]
    # the head given by sha is the head
    head = json.loads(report(db, "--format", "json", "--commit", shas[-1][:10]))
    assert [f for f in head["findings"] if f["rule"] == "DA703"]


def test_all_commits_put_live_findings_at_the_commit_they_were_compared_with(
    observed: tuple[Path, list[str]],
) -> None:
    db, shas = observed
    rows = list(csv.DictReader(io.StringIO(report(db, "--format", "csv", "--all-commits"))))
    live = [r for r in rows if r["serving_env"] == "serving@live"]
    assert live and {r["commit"] for r in live} == {shas[-1]}
    assert len([r for r in live if r["rule"] == "DA703"]) == 1
    # each commit's rows stay together: the live ones right after the head's declared ones
    commits = [r["commit"] for r in rows]
    assert commits == sorted(commits, key=shas.index)


def test_the_newest_observation_wins(observed: tuple[Path, list[str]], tmp_path: Path) -> None:
    import shutil

    db, _ = observed
    copy = tmp_path / "store.db"
    shutil.copy(db, copy)
    fixed = tmp_path / "fixed.json"
    fixed.write_text(json.dumps([pkg("numpy", "1.26.4"), pkg("idna", "3.6")]), "utf-8")
    proc = run(
        "live",
        *("--pipdeptree-json", str(fixed), "--repo", "fraud-api", "--env", "serving"),
        *("--db", str(copy)),
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(report(copy, "--format", "json"))
    live = {(f["rule"], f["item"]) for f in doc["findings"] if f["serving_env"] == "serving@live"}
    assert ("DA703", "idna") not in live and ("DA701", "wandb") not in live
    assert len(doc["live"]) == 1 and doc["live"][0]["source"] == str(fixed)


def test_monorepo_live_compares_only_the_observed_projects_training(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "course")
    files: dict[str, str | bytes | None] = {}
    for example in ("01-fraud", "02-churn"):
        files[f"{example}/training/requirements.txt"] = "numpy==1.26.4\nwandb==0.16.3\n"
        files[f"{example}/serving/requirements.txt"] = "numpy==1.26.4\nidna>=3\n"
    files["03-eda/training/requirements.txt"] = "pandas==2.2.0\n"
    repo.commit("three examples", files)
    db = tmp_path / "store.db"
    assert run("collect", str(repo.path), "--db", str(db)).returncode == 0
    capture = tmp_path / "prod.json"
    capture.write_text(json.dumps(CAPTURE), "utf-8")
    proc = run(
        "live",
        *("--pipdeptree-json", str(capture), "--repo", "course", "--env", "01-fraud/serving"),
        *("--db", str(db)),
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(report(db, "--format", "json"))
    live_pairs = {
        (f["training_env"], f["serving_env"])
        for f in doc["findings"]
        if f["serving_env"].endswith("@live")
    }
    assert live_pairs == {
        ("01-fraud/serving", "01-fraud/serving@live"),
        ("01-fraud/training", "01-fraud/serving@live"),
    }
    # what check's JSON says too: the training-only example is compared with nothing
    assert [u["environment"] for u in doc["unpaired"]] == ["03-eda/training"]
    assert "no serving environment" in doc["unpaired"][0]["why"]
    assert {(p["training"], p["project"]) for p in doc["pairs"]} == {
        ("01-fraud/training", "01-fraud"),
        ("02-churn/training", "02-churn"),
    }
