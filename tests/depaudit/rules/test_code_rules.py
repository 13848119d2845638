"""DA201-DA207 on real-looking training and serving code, read by the Python source."""

from __future__ import annotations

import textwrap
from dataclasses import replace

import pytest

from depaudit.collectors.sources.python_code import SOURCE
from depaudit.entrypoints import command_targets
from depaudit.knowledge import Entry, Knowledge, builtin
from depaudit.model import (
    CodeModule,
    Entrypoint,
    EnvironmentSnapshot,
    Fact,
    Finding,
    Package,
    Role,
)
from depaudit.rules.code_reaches_training import RULE as DA201
from depaudit.rules.inference_code_copies import RULES as COPY_RULES
from depaudit.rules.training_call_in_serving import RULE as DA203
from depaudit.rules.training_library_in_serving_code import RULE as DA202
from depaudit.rules.undeclared_serving_import import RULE as DA204
from depaudit.rules.unused_serving_dependency import RULE as DA205
from depaudit.rules.view import PairView

DA206, DA207 = COPY_RULES


def code(path: str, text: str) -> CodeModule:
    (fact,) = SOURCE.parse(textwrap.dedent(text).lstrip("\n"), path).facts
    assert isinstance(fact, CodeModule), fact
    return fact


def snapshot(
    role: Role, facts: list[Fact], entrypoints: tuple[str, ...] = ()
) -> EnvironmentSnapshot:
    return EnvironmentSnapshot(
        name=role, role=role, origin="convention", facts=tuple(facts), entrypoints=entrypoints
    )


def pkg(name: str, line: int = 1, **kw: object) -> Package:
    return Package(name=name, file="serving/requirements.txt", line=line, **kw)  # type: ignore[arg-type]


KNOWLEDGE: Knowledge = replace(
    builtin(),
    training_packages={
        **builtin().training_packages,
        "optuna": Entry("optuna", "hyperparameter search", "hpo", "medium"),
        "wandb": Entry("wandb", "experiment tracker", "experiment-tracking", "medium"),
    },
)

COMMON = code(
    "common/features.py",
    """
    import numpy as np
    from training.train import LABELS
    def scale(x):
        return np.asarray(x) / 255.0
    """,
)
SERVING_APP = code(
    "serving/app.py",
    """
    from fastapi import FastAPI
    import yaml
    from common.features import scale
    from serving.model import predict_one
    app = FastAPI()
    """,
)
SERVING_MODEL = code(
    "serving/model.py",
    """
    import joblib
    import wandb
    from sklearn.model_selection import train_test_split
    import requests_toolbelt

    def predict_one(x):
        wandb.init(project="churn")
        scaler.fit_transform(x)
        return model.predict(x)

    def prepare_request(df):
        df = df.fillna(0)
        df["age"] = df["age"].clip(0, 120)
        df["income"] = df["income"].apply(lambda v: v / 1000)
        return df[["age", "income"]]

    def tokenize(text):
        words = text.lower().split()
        words = [w.strip(".,!?") for w in words]
        words = [w for w in words if w]
        return words

    def main():
        import uvicorn
        uvicorn.run("serving.app:app")
    """,
)
TRAIN = code(
    "training/train.py",
    """
    import optuna
    from training import tune
    LABELS = ["no", "yes"]

    def preprocess(df):
        df = df.fillna(0)
        df["age"] = df["age"].clip(0, 100)
        df["income"] = df["income"].apply(lambda v: v / 1000)
        return df[["age", "income"]]

    def tokenize(text):
        # same code, other comments: still an identical copy
        words = text.lower().split()
        words = [w.strip(".,!?") for w in words]
        words = [w for w in words if w]
        return words

    def main():
        study = optuna.create_study()
        study.optimize(objective, n_trials=100)
        best = study.best_params
        print(best)
    """,
)
TUNE = code("training/tune.py", "import optuna\n")
UNUSED = code("training/report.py", "import matplotlib\n")

SERVING_PACKAGES = [
    pkg("fastapi", 1),
    pkg("numpy", 2),
    pkg("pyyaml", 3),
    pkg("joblib", 4),
    pkg("scikit-learn", 5),
    pkg("uvicorn", 6),
    pkg("boto3", 7),
    pkg("opencv-python-headless", 8),
    pkg("pytest", 9, group="dev"),
]


def context(
    serving_facts: list[Fact] | None = None,
    training_facts: list[Fact] | None = None,
    entrypoints: tuple[str, ...] = (),
    allow: dict[str, tuple[str, ...]] | None = None,
) -> PairView:
    if serving_facts is None:
        serving_facts = [
            SERVING_APP,
            SERVING_MODEL,
            COMMON,
            *SERVING_PACKAGES,
            Entrypoint(
                "uvicorn serving.app:app --host 0.0.0.0 --port 8000", "Dockerfile.serve", 12
            ),
        ]
    if training_facts is None:
        training_facts = [TRAIN, TUNE, UNUSED, COMMON]
    return PairView.of(
        snapshot("training", training_facts),
        snapshot("serving", serving_facts, entrypoints),
        KNOWLEDGE,
        allow or {},
    )


def run(rule: object, ctx: PairView) -> list[Finding]:
    return list(rule.check(ctx))  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- DA201


def test_da201_serving_reaches_training_through_shared_code() -> None:
    (f,) = run(DA201, context())
    assert (f.rule, f.status, f.kind, f.severity) == ("DA201", "leftover", "code", "medium")
    assert f.item == "training.train"
    assert (f.file, f.line) == ("common/features.py", 2)  # the import that enters training
    assert f.evidence.startswith("serving/app.py -> common/features.py")
    assert f.evidence.endswith("training/train.py (imported at common/features.py:2)")
    assert "training.tune" in f.message  # pulled in behind it, not reported again


def test_da201_training_module_serving_does_not_reach_is_not_reported() -> None:
    common = code("common/features.py", "import numpy as np\n")
    ctx = context(
        serving_facts=[SERVING_APP, common, Entrypoint("uvicorn serving.app:app", "Dockerfile", 3)],
        training_facts=[TRAIN, TUNE, UNUSED, common],
    )
    assert run(DA201, ctx) == []


def test_da201_allow_list() -> None:
    assert run(DA201, context(allow={"DA201": ("training.train",)})) == []


# --------------------------------------------------------------------------- DA202 / DA203


def test_da202_training_library_and_training_api_module() -> None:
    found = {f.item: f for f in run(DA202, context())}
    assert sorted(found) == ["sklearn.model_selection", "wandb"]
    wandb = found["wandb"]
    assert (wandb.file, wandb.line, wandb.status) == ("serving/model.py", 2, "leftover")
    assert "serving/app.py -> serving/model.py" in wandb.evidence
    # optuna is imported by training code serving reaches: that is DA201's finding
    assert "optuna" not in found


def test_da203_training_calls_in_reachable_serving_code() -> None:
    found = {f.item: f for f in run(DA203, context())}
    assert sorted(found) == ["fit_transform", "wandb.init"]
    assert found["wandb.init"].line == 7 and found["wandb.init"].severity == "low"
    assert "re-fits" in found["fit_transform"].message


def test_unreached_serving_code_is_not_judged_by_reach_rules() -> None:
    offline = code("serving/offline_eval.py", "import optuna\nstudy = optuna.create_study()\n")
    ctx = context(
        serving_facts=[
            SERVING_APP,
            SERVING_MODEL,
            COMMON,
            offline,
            Entrypoint("uvicorn serving.app:app", "Dockerfile", 3),
        ]
    )
    assert "optuna" not in {f.item for f in run(DA202, ctx)}
    assert "optuna.create_study" not in {f.item for f in run(DA203, ctx)}


def test_without_entrypoints_every_serving_module_is_a_start_and_message_says_so() -> None:
    offline = code("serving/offline_eval.py", "import optuna\n")
    ctx = context(serving_facts=[offline, *SERVING_PACKAGES])
    analysis = ctx.code
    assert analysis.fallback
    (f,) = run(DA202, ctx)
    assert f.item == "optuna" and "no serving entrypoint was found" in f.message


# --------------------------------------------------------------------------- DA204 / DA205


def test_da204_undeclared_import() -> None:
    found = run(DA204, context())
    assert [(f.item, f.status, f.file, f.line) for f in found] == [
        ("requests-toolbelt", "drift", "serving/model.py", 4)
    ]
    # yaml -> pyyaml, sklearn -> scikit-learn, numpy via shared code: all declared


def test_da204_is_silent_when_serving_declares_nothing() -> None:
    ctx = context(serving_facts=[SERVING_APP, SERVING_MODEL, COMMON])
    assert run(DA204, ctx) == []


def test_da205_declared_but_never_imported() -> None:
    found = run(DA205, context())
    # uvicorn runs from the CMD, pytest is a dev group; opencv-python-headless is an
    # inference library (a pickled pipeline may need it without any import), so not reported
    assert [(f.item, f.status, f.line) for f in found] == [("boto3", "serving_only", 7)]
    cv2 = code("serving/images.py", "import cv2\n")
    ctx = context(serving_facts=[SERVING_APP, SERVING_MODEL, COMMON, cv2, *SERVING_PACKAGES])
    assert [f.item for f in run(DA205, ctx)] == ["boto3"]


def test_da205_leaves_a_leftover_package_to_its_leftover_rule() -> None:
    """optuna declared in serving and imported by no serving code: DA101 says it is a
    training library in serving; a second row "nobody imports it" would be the same
    package again."""
    facts = [SERVING_APP, SERVING_MODEL, COMMON, *SERVING_PACKAGES, pkg("optuna", 10)]
    ctx = context(serving_facts=facts)
    assert [f.item for f in run(DA205, ctx)] == ["boto3"]
    assert "optuna" in {c.name for c in ctx.packages if c.leftover is not None}


# --------------------------------------------------------------------------- DA206 / DA207


def test_da206_identical_copy_is_shared_but_should_be_one_module() -> None:
    (f,) = run(DA206, context())
    assert (f.rule, f.status, f.severity, f.item) == (
        "DA206",
        "shared",
        "info",
        "serving.model.tokenize",
    )
    assert f.training == "training.train.tokenize"
    assert "should be one shared module" in f.message


def test_da207_renamed_copy_changed_in_training_only_shows_the_diff() -> None:
    (f,) = run(DA207, context())
    assert (f.status, f.severity, f.item) == ("drift", "medium", "serving.model.prepare_request")
    assert f.training == "training.train.preprocess"
    assert "renamed from preprocess" in f.message
    assert (f.file, f.line) == ("serving/model.py", 11)
    assert "-    df['age'] = df['age'].clip(0, 100)" in f.evidence
    assert "+    df['age'] = df['age'].clip(0, 120)" in f.evidence
    assert f.evidence.startswith("--- training: training/train.py:5 preprocess")


def test_unrelated_functions_with_the_same_name_are_not_copies() -> None:
    names = {f.item for f in run(DA207, context())} | {f.item for f in run(DA206, context())}
    assert "serving.model.main" not in names


def test_shared_code_present_on_both_sides_is_not_a_copy() -> None:
    # common/features.py is in both snapshots: properly shared, never reported
    items = {f.item for f in run(DA206, context())} | {f.item for f in run(DA207, context())}
    assert not any(i.startswith("common.") for i in items)


def test_same_name_copy_that_diverged() -> None:
    t = code(
        "training/features.py",
        "def normalise(x):\n    m = x.mean()\n    return (x - m) / x.std()\n",
    )
    s = code(
        "serving/features.py",
        "def normalise(x):\n    m = x.mean()\n    return (x - m) / (x.std() + 1e-9)\n",
    )
    ctx = context(serving_facts=[s], training_facts=[t])
    (f,) = run(DA207, ctx)
    assert f.item == "serving.features.normalise" and "renamed" not in f.message
    assert "+    return (x - m) / (x.std() + 1e-09)" in f.evidence


# --------------------------------------------------------------------------- entrypoints


@pytest.mark.parametrize(
    ("command", "targets"),
    [
        ("uvicorn serving.app:app --host 0.0.0.0 --port 8000", [("module", "serving.app")]),
        ('gunicorn -w 4 -b 0.0.0.0:8000 "serving.wsgi:create_app()"', [("module", "serving.wsgi")]),
        ("python -m serving.serve", [("module", "serving.serve")]),
        ("python /app/serve.py --port 80", [("file", "/app/serve.py")]),
        ("streamlit run dashboard/app.py --server.port 8501", [("file", "dashboard/app.py")]),
        ("bentoml serve service:IrisClassifier", [("module", "service")]),
        ("serve run serving.deploy:app", [("module", "serving.deploy")]),
        ("flask --app serving.app run", [("module", "serving.app")]),
        ('sh -c "alembic upgrade head && exec uvicorn api.main:app"', [("module", "api.main")]),
        ("redis-server localhost:6379", []),
        ('bad "quote', []),
    ],
)
def test_command_targets(command: str, targets: list[tuple[str, str]]) -> None:
    assert command_targets(command) == targets


def test_workdir_relative_command_and_configured_entrypoints() -> None:
    app = code("serving/app.py", "import wandb\n")
    other = code("serving/batch.py", "import optuna\n")
    packages: list[Fact] = [pkg("fastapi")]
    # WORKDIR /app/serving + "uvicorn app:app": matched by suffix
    ctx = context(
        serving_facts=[app, other, *packages, Entrypoint("uvicorn app:app", "Dockerfile", 9)]
    )
    assert [f.item for f in run(DA202, ctx)] == ["wandb"]
    # a configured entrypoint wins over commands and app objects
    ctx = context(
        serving_facts=[app, other, *packages, Entrypoint("uvicorn app:app", "Dockerfile", 9)],
        entrypoints=("serving.batch",),
    )
    assert [f.item for f in run(DA202, ctx)] == ["optuna"]


def test_reformatted_renamed_copy_is_identical_on_the_ast() -> None:
    t = code(
        "training/features.py",
        """
        def clean(df):
            df = df.dropna()
            df = df[df["age"] > 0]
            df = df[df["income"] >= 0]
            df["age"] = df["age"].astype(int)
            df["country"] = df["country"].str.upper()
            df = df.rename(columns=str.lower)
            return df.reset_index(drop=True)
        """,
    )
    s = code(
        "serving/features.py",
        """
        def clean_request(df):
            df = df.dropna()
            df = df[df['age'] > 0]
            df = df[df['income'] >= 0]
            df['age'] = df['age'].astype(int)
            df['country'] = df['country'].str.upper()
            df = df.rename(columns=str.lower)
            return df.reset_index(
                drop=True,
            )
        """,
    )
    ctx = context(serving_facts=[s], training_facts=[t])
    assert run(DA207, ctx) == []
    (f,) = run(DA206, ctx)
    assert f.item == "serving.features.clean_request" and "renamed from clean" in f.message
