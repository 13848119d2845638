"""Storing by content: packed reference lists, environments cut into parts, findings
stored once per repository — and what that does to the size of a growing history."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from depaudit.model import (
    CodeModule,
    CommitInfo,
    ConfigEntry,
    Definition,
    EnvironmentSnapshot,
    FileAssignment,
    Finding,
    ImportRef,
    Include,
    Package,
    Runtime,
    Scope,
    TreeAudit,
)
from depaudit.store import schema
from depaudit.store.engine import open_engine
from depaudit.store.parts import Encoder, PartWriter, fact_runs, load_environments
from depaudit.store.reader import StoreReader
from depaudit.store.refs import RefsError, pack, unpack
from depaudit.store.writer import RepoWriter

# ------------------------------------------------------------------ refs


def test_refs_are_deltas_and_round_trip() -> None:
    assert pack([1203, 1204, 1205, 1190]) == "1203,1,1,-15"
    assert unpack("1203,1,1,-15") == [1203, 1204, 1205, 1190]
    assert pack([]) == "" and unpack("") == []
    assert unpack(pack([7, 7, 7])) == [7, 7, 7]  # a finding listed twice stays twice
    with pytest.raises(RefsError, match="not a packed id list"):
        unpack('{"facts": []}')


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.integers(1, 2**31 - 1), max_size=50))
def test_any_id_list_round_trips(ids: list[int]) -> None:
    assert unpack(pack(ids)) == ids


# ------------------------------------------------------------ environments


def module(name: str, body: str) -> CodeModule:
    return CodeModule(
        name,
        name.replace(".", "/") + ".py",
        imports=(ImportRef("numpy", 1), ImportRef("training.features", 2, dynamic=True)),
        definitions=(Definition("predict", "function", 5, f"h{len(body)}", body),),
        app_objects=("FastAPI:app",),
    )


def serving_env(*, body: str = "return model(x)", extra_files: int = 0) -> EnvironmentSnapshot:
    files = tuple(
        FileAssignment(f"serving/handlers/h{i}.py", 'convention: folder "serving/"')
        for i in range(extra_files)
    )
    return EnvironmentSnapshot(
        "api",
        "serving",
        "config",
        files=(
            FileAssignment("serving/requirements.txt", 'config: include "serving/**"'),
            FileAssignment("docker-compose.yml", 'convention: serving service "api"'),
            *files,
        ),
        facts=(
            module("serving.app", body),
            module("serving.schemas", "return dict(x)"),
            ConfigEntry("DB_PASSWORD", "***masked:1a2b***", "serving/.env", 3, secret=True),
            Include("../common/requirements.txt", "serving/requirements.txt", 1),
            Package("fastapi", "serving/requirements.txt", 2, ">=0.110", extras=("all",)),
            Package("torch", "serving/requirements.txt", 3, "==2.2.0", "2.2.0"),
            Package("uvicorn", "docker-compose.yml", 9, scope="api", manager="pip"),
            Runtime("python", "3.11", "serving/Dockerfile", 1, detail="from tag"),
            Scope("api", "docker-compose.yml", 2, build_path="serving"),
        ),
        entrypoints=("serving.app",),
        project="services/fraud",
    )


def test_an_environment_comes_back_whole_from_its_parts() -> None:
    engine = open_engine("sqlite://")
    schema.migrate(engine)
    live = dataclasses.replace(serving_env(), observed=True, origin="convention")

    writer = PartWriter()
    envs = [serving_env(), live, EnvironmentSnapshot("empty", "training", "convention")]
    with engine.begin() as conn:
        ids = writer.environment_ids(conn, [(e.content_hash(), e) for e in envs])
    writer.commit()
    with engine.connect() as conn:
        back = load_environments(conn, ids.values())
    assert [back[ids[e.content_hash()]] for e in envs] == envs
    assert [back[ids[e.content_hash()]].content_hash() for e in envs] == [
        e.content_hash() for e in envs
    ]


def test_fact_runs_keep_the_order_and_cut_at_each_type_and_file() -> None:
    facts = serving_env().facts
    runs = fact_runs(facts)
    assert tuple(f for run in runs for f in run) == facts
    assert [len(run) for run in runs] == [1, 1, 1, 1, 2, 1, 1, 1]  # the two packages of one file


def test_a_changed_file_is_a_new_part_not_a_new_copy() -> None:
    encoder = Encoder()
    before = encoder.encode(serving_env(body="return model(x)"))
    after = encoder.encode(serving_env(body="return model(x) * 2"))
    assert len(set(after.facts) - set(before.facts)) == 1  # serving/app.py's module
    assert after.files == before.files
    grown = encoder.encode(serving_env(extra_files=3))
    assert len(set(grown.files) - set(before.files)) == 3


# --------------------------------------------------------- a growing history


def finding(item: str, n: int = 0) -> Finding:
    return Finding(
        "leftover",
        "package",
        item,
        "medium",
        "DA101",
        f"{item} in serving",
        training_env="training",
        serving_env="api",
        serving=f"1.{n}",
        file="serving/requirements.txt",
        line=2,
    )


def history_state(n: int) -> TreeAudit:
    """Commit n edits one handler (a new module) and sometimes adds one: the way code
    repositories grow. Findings change at every fifth commit."""
    env = serving_env(body=f"return model(x) + {n}", extra_files=n // 3)
    training = EnvironmentSnapshot(
        "training", "training", "convention", facts=(module("training.train", "fit()"),)
    )
    return TreeAudit(
        (training, env),
        tuple(finding(i, n // 5) for i in ("optuna", "wandb", "jupyter")),
        config_origin=".depaudit.toml",
    )


def collect(engine: Engine, name: str, n_commits: int) -> None:
    with RepoWriter(engine, name, batch_size=7) as writer:
        for n in range(n_commits):
            st = history_state(n)
            h = writer.add_state(st)
            info = CommitInfo(f"{n:040x}", (), "Ada", "a@example.com", "2024-01-01T00:00:00Z", "")
            writer.add_commit(info, signature=f"sig{n}", state_hash=h)


def count(engine: Engine, table: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_consecutive_states_share_their_rows(store_url: str) -> None:
    engine = open_engine(store_url)
    collect(engine, "api", 40)
    assert count(engine, schema.states) == 40  # every commit changed the code...
    # ...but each added one module part and at most one file part; the unchanged parts
    # (schemas, config, packages, compose, runtime, the training side) are stored once
    assert count(engine, schema.parts) <= 40 * 2 + 12
    # the findings changed 8 times: 3 findings each, not 3 per state
    assert count(engine, schema.findings) == 3 * 8
    reader = StoreReader(engine)
    last = reader.commits("api")[-1].sha
    assert reader.environments_at("api", last) == list(history_state(39).environments)
    assert [r.finding for r in reader.findings_at("api", last)] == list(history_state(39).findings)


def test_two_repos_share_parts_and_keep_their_own_findings(store_url: str) -> None:
    engine = open_engine(store_url)
    collect(engine, "api", 10)
    parts = count(engine, schema.parts)
    collect(engine, "api-fork", 10)  # the same content under another name
    assert count(engine, schema.parts) == parts
    assert count(engine, schema.environments) == 10 * 1 + 1
    assert count(engine, schema.findings) == 2 * 3 * 2  # per repo: 2 versions of 3 findings
    reader = StoreReader(engine)
    assert list(reader.findings_all_commits("api-fork")) != []
    assert [r.finding for r in reader.findings_all_commits("api-fork")] == [
        r.finding for r in reader.findings_all_commits("api")
    ]
