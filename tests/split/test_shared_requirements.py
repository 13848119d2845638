"""A requirements file serving shares with training: the proposal splits it.

The most common real layout (notes/realworld.md F2: Made-With-ML, MLOps-Basics,
ml-system-in-actions): one ``requirements.txt`` at the root, grouped by comments,
installed by a training job, read by notebooks, and installed by the API. Editing it
would change training; so ``depaudit split`` proposes serving's own copy beside it
(named after the serving environment, the shared file's lines minus the leftovers,
drift pinned to training's version, comments, extras, markers and hashes kept) and
points what makes serving install the shared file at the copy: the API's Dockerfile
``COPY`` / ``pip install -r``, a spec's ``pip install -r``; what it cannot edit (a URL in an
Anyscale cluster env) is said once, naming the file and listing the packages.

Each fixture is a small git repository shaped after those repositories (never their
files). The proof is the one of the sample scenarios (:mod:`tests.split.split_support`):
after ``split --write``, ``check`` reports no package leftover or drift for the pair,
the predicted effect is what happened, and nothing else changed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.realworld.rwcheck import build, dedent, notebook
from tests.split.split_support import (
    apply_split,
    assert_only_intended_changes,
    check_json,
    pairs_of,
    run_cli,
    tree_bytes,
)

# ---------------------------------------------------------------- the fixtures

SHARED_REQUIREMENTS = """
    # Default
    fastapi==0.110.0
    uvicorn[standard]==0.29.0  # the ASGI server
    numpy==1.26.4
    scikit-learn==1.3.2
    pandas==2.1.4 ; python_version >= "3.9"
    joblib==1.3.2

    # Experiments
    mlflow==2.9.2
    optuna==3.5.0

    # Notebook
    jupyterlab==4.0.9
    matplotlib==3.8.2

    # Testing
    pytest==7.4.3
"""

TRAIN_PY = """
    \"\"\"Fit the churn model; log the run; tune with optuna.\"\"\"

    import joblib
    import mlflow
    import optuna
    import pandas as pd
    from sklearn.linear_model import LogisticRegression


    def main() -> None:
        data = pd.read_csv("data/churn.csv")
        model = LogisticRegression().fit(data.drop(columns="churn"), data["churn"])
        mlflow.log_metric("rows", len(data))
        optuna.create_study()
        joblib.dump(model, "model.joblib")


    if __name__ == "__main__":
        main()
"""

APP_PY = """
    import joblib
    import numpy as np
    import pandas as pd
    from fastapi import FastAPI

    app = FastAPI(title="churn")
    model = joblib.load("model.joblib")


    @app.post("/predict")
    def predict(rows: list[dict[str, float]]) -> list[float]:
        frame = pd.DataFrame(rows)
        return np.asarray(model.predict_proba(frame))[:, 1].tolist()
"""

EXPLORE_NOTEBOOK = notebook(
    ("markdown", "# Churn: first look"),
    """
    import matplotlib.pyplot as plt
    import pandas as pd

    df = pd.read_csv("../data/churn.csv")
    df.hist()
    plt.show()
    """,
)

# A training job whose image installs the shared file, then a newer scikit-learn (a
# later pin wins: training's effective version is 1.4.0, serving's 1.3.2: drift); an API
# whose image (built from the root: `docker build -f app/Dockerfile .`) installs it too.
DOCKERFILE_LAYOUT = {
    "README.md": "# churn\n\nTrain with `make train`, serve with `make serve`.\n",
    "requirements.txt": SHARED_REQUIREMENTS,
    "training/Dockerfile": """
        FROM python:3.11-slim
        WORKDIR /job
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt \\
         && pip install --no-cache-dir scikit-learn==1.4.0
        COPY training/ training/
        CMD ["python", "-m", "training.train"]
    """,
    "training/__init__.py": "",
    "training/train.py": TRAIN_PY,
    "app/Dockerfile": """
        FROM python:3.11-slim
        WORKDIR /srv
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY app/ app/
        COPY model.joblib .
        EXPOSE 8080
        CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8080"]
    """,
    "app/__init__.py": "",
    "app/main.py": APP_PY,
    "notebooks/explore.ipynb": EXPLORE_NOTEBOOK,
    "tests/test_app.py": """
        import pytest


        @pytest.mark.parametrize("n", [1, 2])
        def test_rows(n: int) -> None:
            assert n
    """,
}

# Made-With-ML's deployment: no Dockerfile; the Anyscale cluster env installs the
# repository's requirements.txt from its raw URL, and a Ray Serve service runs on it.
CLUSTER_ENV_LAYOUT = {
    "requirements.txt": """
        # Default
        numpy==1.26.4
        pandas==2.1.4
        ray[serve]==2.9.0
        fastapi==0.108.0

        # Notebook
        jupyterlab==4.0.9
        matplotlib==3.8.2

        # Testing
        pytest==7.4.3
    """,
    "deploy/cluster_env.yaml": """
        base_image: anyscale/ray:2.9.0-py310
        debian_packages:
          - curl
        post_build_cmds:
          - python3 -m pip install --upgrade pip
          - python3 -m pip install -r https://raw.githubusercontent.com/example/churn/main/requirements.txt
    """,
    "deploy/services/serve_model.yaml": """
        name: churn
        cluster_env: churn-cluster-env
        ray_serve_config:
          import_path: deploy.services.serve_model:entrypoint
    """,
    "deploy/services/serve_model.py": """
        import numpy as np
        import pandas as pd
        from fastapi import FastAPI
        from ray import serve

        app = FastAPI()


        @serve.deployment
        @serve.ingress(app)
        class Model:
            @app.post("/predict")
            def predict(self, rows: list[dict]) -> list[float]:
                return np.zeros(len(pd.DataFrame(rows))).tolist()


        entrypoint = Model.bind()
    """,
    "notebooks/explore.ipynb": EXPLORE_NOTEBOOK,
}

# A SkyPilot task for the API (shaped after zenml-projects' gradio/serve.yaml): its
# `setup:` block pip-installs the root requirements file.
SPEC_LAYOUT = {
    "requirements.txt": """
        numpy==1.26.4
        fastapi==0.110.0
        uvicorn==0.29.0
        optuna==3.5.0
    """,
    "training/train.py": """
        import numpy as np
        import optuna

        optuna.create_study().optimize(lambda t: float(np.square(t.suggest_float("x", -1, 1))))
    """,
    "serving/app.py": """
        import numpy as np
        from fastapi import FastAPI

        app = FastAPI()


        @app.get("/score")
        def score() -> float:
            return float(np.zeros(1)[0])
    """,
    "serving/sky.yaml": """
        name: churn-api
        resources:
          cloud: gcp
        workdir: .
        setup: |
          echo "Begin setup."
          pip install -r requirements.txt
        run: |
          uvicorn serving.app:app --host 0.0.0.0 --port 8080
    """,
}


def make(tmp_path: Path, files: dict[str, str]) -> Path:
    return build(tmp_path / "repo", [("The service and its training job", dedent(files))])


def split_text(repo: Path, *options: str) -> str:
    code, out, err = run_cli("split", str(repo), *options)
    assert code == 0, err
    return out


def of_pair(report: dict[str, object], pair: tuple[str, str], rules: tuple[str, ...]) -> set[str]:
    return {
        f"{f['rule']} {f['item']}"
        for f in report["findings"]  # type: ignore[attr-defined]
        if pair in pairs_of(f) and f["rule"] in rules  # type: ignore[arg-type]
    }


PACKAGE_RULES = ("DA101", "DA106", "DA102", "DA103", "DA107")

# pip-compile --generate-hashes output, shared by the training job and the API the same way
HASHED_REQUIREMENTS = """
    #
    # This file is autogenerated by pip-compile with Python 3.11
    # by the following command:
    #
    #    pip-compile --generate-hashes requirements.in
    #
    fastapi==0.110.0 \\
        --hash=sha256:1f2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3
        # via -r requirements.in
    joblib==1.3.2 \\
        --hash=sha256:2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f
        # via
        #   -r requirements.in
        #   scikit-learn
    mlflow==2.9.2 \\
        --hash=sha256:3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b \\
        --hash=sha256:4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c
        # via -r requirements.in
    numpy==1.26.4 \\
        --hash=sha256:5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d
        # via
        #   -r requirements.in
        #   pandas
        #   scikit-learn
    pandas==2.1.4 \\
        --hash=sha256:6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e
        # via -r requirements.in
    pytest==7.4.3 \\
        --hash=sha256:7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f
        # via -r requirements.in
    scikit-learn==1.3.2 \\
        --hash=sha256:8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a
        # via -r requirements.in
    uvicorn==0.29.0 \\
        --hash=sha256:9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b
        # via -r requirements.in
"""

HASHED_LAYOUT = {
    **{k: v for k, v in DOCKERFILE_LAYOUT.items() if not k.startswith(("notebooks/", "tests/"))},
    "requirements.txt": HASHED_REQUIREMENTS,
    "training/train.py": TRAIN_PY.replace("    import optuna\n", "").replace(
        "        optuna.create_study()\n", ""
    ),
}


# ---------------------------------------------------------------- the proposals

# `depaudit split REPO --training training` on DOCKERFILE_LAYOUT, exactly: the copy keeps
# every comment, the extras, the comment after uvicorn and pandas' marker; scikit-learn
# is pinned to what the training image really installs; the API's Dockerfile installs
# the copy; requirements.txt is not edited (training and the notebooks keep it).
DOCKERFILE_PROPOSAL = """\
# depaudit split: training x app (project .)
# edits (9 in 2 files):
#   app/Dockerfile:3: install requirements-app.txt instead of requirements.txt
#   app/Dockerfile:4: install requirements-app.txt instead of requirements.txt
#   requirements-app.txt: new serving copy of requirements.txt (DA101, DA102); requirements.txt is installed by notebooks, training too: app gets its own copy, the original is not edited
#   requirements-app.txt (from requirements.txt:5): pin scikit-learn==1.3.2 -> scikit-learn==1.4.0 (DA102)
#   requirements-app.txt (from requirements.txt:10): remove mlflow==2.9.2 (DA101)
#   requirements-app.txt (from requirements.txt:11): remove optuna==3.5.0 (DA101)
#   requirements-app.txt (from requirements.txt:14): remove jupyterlab==4.0.9 (DA101)
#   requirements-app.txt (from requirements.txt:15): remove matplotlib==3.8.2 (DA101)
#   requirements-app.txt (from requirements.txt:18): remove pytest==7.4.3 (DA101)
# effect: removes 6 findings (DA101 x5, DA102 x1), adds 6 (DA104 x1, DA105 x5)
# effect on notebooks x app too: removes 6 findings (DA101 x5, DA104 x1), adds 6 (DA102 x1, DA105 x5)
diff --git a/app/Dockerfile b/app/Dockerfile
--- a/app/Dockerfile
+++ b/app/Dockerfile
@@ -1,7 +1,7 @@
 FROM python:3.11-slim
 WORKDIR /srv
-COPY requirements.txt .
-RUN pip install --no-cache-dir -r requirements.txt
+COPY requirements-app.txt .
+RUN pip install --no-cache-dir -r requirements-app.txt
 COPY app/ app/
 COPY model.joblib .
 EXPOSE 8080
diff --git a/requirements-app.txt b/requirements-app.txt
new file mode 100644
--- /dev/null
+++ b/requirements-app.txt
@@ -0,0 +1,14 @@
+# app's copy of requirements.txt (written by depaudit split): requirements.txt stays as notebooks, training install it
+# Default
+fastapi==0.110.0
+uvicorn[standard]==0.29.0  # the ASGI server
+numpy==1.26.4
+scikit-learn==1.4.0
+pandas==2.1.4 ; python_version >= "3.9"
+joblib==1.3.2
+
+# Experiments
+
+# Notebook
+
+# Testing
"""

CLUSTER_ENV_PROPOSAL = """\
# depaudit split: notebooks x deploy (project .)
# edits (4 in 1 file):
#   requirements-deploy.txt: new serving copy of requirements.txt (DA101); requirements.txt is installed by notebooks too: deploy gets its own copy, the original is not edited
#   requirements-deploy.txt (from requirements.txt:8): remove jupyterlab==4.0.9 (DA101)
#   requirements-deploy.txt (from requirements.txt:9): remove matplotlib==3.8.2 (DA101)
#   requirements-deploy.txt (from requirements.txt:12): remove pytest==7.4.3 (DA101)
# effect: removes 3 findings (DA101 x3), adds 3 (DA105 x3)
# needs a human:
#   [installer] requirements.txt is copied to requirements-deploy.txt, but deploy/cluster_env.yaml:6 installs it from a URL (https://raw.githubusercontent.com/example/churn/main/requirements.txt): point that at requirements-deploy.txt once the copy is pushed; until then deploy still installs what the copy changes (3 packages: jupyterlab, matplotlib, pytest)
diff --git a/requirements-deploy.txt b/requirements-deploy.txt
new file mode 100644
--- /dev/null
+++ b/requirements-deploy.txt
@@ -0,0 +1,10 @@
+# deploy's copy of requirements.txt (written by depaudit split): requirements.txt stays as notebooks installs it
+# Default
+numpy==1.26.4
+pandas==2.1.4
+ray[serve]==2.9.0
+fastapi==0.108.0
+
+# Notebook
+
+# Testing
"""

SPEC_PROPOSAL = """\
# depaudit split: training x serving (project .)
# edits (3 in 2 files):
#   requirements-serving.txt: new serving copy of requirements.txt (DA101); requirements.txt is installed by training too: serving gets its own copy, the original is not edited
#   requirements-serving.txt (from requirements.txt:4): remove optuna==3.5.0 (DA101)
#   serving/sky.yaml:7: install requirements-serving.txt instead of requirements.txt
# effect: removes 1 finding (DA101 x1), adds 1 (DA105 x1)
diff --git a/requirements-serving.txt b/requirements-serving.txt
new file mode 100644
--- /dev/null
+++ b/requirements-serving.txt
@@ -0,0 +1,4 @@
+# serving's copy of requirements.txt (written by depaudit split): requirements.txt stays as training installs it
+numpy==1.26.4
+fastapi==0.110.0
+uvicorn==0.29.0
diff --git a/serving/sky.yaml b/serving/sky.yaml
--- a/serving/sky.yaml
+++ b/serving/sky.yaml
@@ -4,6 +4,6 @@
 workdir: .
 setup: |
   echo "Begin setup."
-  pip install -r requirements.txt
+  pip install -r requirements-serving.txt
 run: |
   uvicorn serving.app:app --host 0.0.0.0 --port 8080
"""


# ---------------------------------------------------------------- the tests


def test_dockerfile_layout_proposal_is_exactly_the_copy_and_the_repointed_image(
    tmp_path: Path,
) -> None:
    repo = make(tmp_path, DOCKERFILE_LAYOUT)
    assert split_text(repo, "--training", "training") == DOCKERFILE_PROPOSAL


def test_dockerfile_layout_effect_is_exact_and_happens(tmp_path: Path) -> None:
    repo = make(tmp_path, DOCKERFILE_LAYOUT)
    shared = (repo / "requirements.txt").read_bytes()
    applied = apply_split(repo, "--training", "training")
    assert_only_intended_changes(applied)
    effect = applied.proposal["effect"]
    leftovers = {"jupyterlab", "matplotlib", "mlflow", "optuna", "pytest"}
    assert {(f["rule"], f["item"]) for f in effect["removed"]} == {
        *(("DA101", name) for name in leftovers),
        ("DA102", "scikit-learn"),
    }
    assert {(f["rule"], f["item"]) for f in effect["added"]} == {
        *(("DA105", name) for name in leftovers),  # now training's alone
        ("DA104", "scikit-learn"),  # 1.4.0 on both sides
    }
    # the notebooks train on the shared file's scikit-learn 1.3.2: serving now matches the
    # training job, so that pair drifts, and the proposal says so
    (notebooks,) = effect["other_pairs"]
    assert (notebooks["training"], notebooks["serving"]) == ("notebooks", "app")
    assert {(f["rule"], f["item"]) for f in notebooks["added"]} == {
        ("DA102", "scikit-learn"),
        *(("DA105", name) for name in leftovers),
    }
    after = check_json(repo)
    assert of_pair(after, ("training", "app"), PACKAGE_RULES) == set()
    assert of_pair(after, ("notebooks", "app"), PACKAGE_RULES) == {"DA102 scikit-learn"}
    assert (repo / "requirements.txt").read_bytes() == shared
    assert applied.proposal["flagged"] == []


def test_cluster_env_layout_says_once_what_installs_the_shared_file(tmp_path: Path) -> None:
    repo = make(tmp_path, CLUSTER_ENV_LAYOUT)
    text = split_text(repo)
    assert text == CLUSTER_ENV_PROPOSAL
    # one note for the file, not one per package
    assert [line for line in text.splitlines() if line.startswith("#   [")] == [
        "#   [installer] requirements.txt is copied to requirements-deploy.txt, but "
        "deploy/cluster_env.yaml:6 installs it from a URL "
        "(https://raw.githubusercontent.com/example/churn/main/requirements.txt): point that "
        "at requirements-deploy.txt once the copy is pushed; until then deploy still installs "
        "what the copy changes (3 packages: jupyterlab, matplotlib, pytest)"
    ]
    spec = (repo / "deploy/cluster_env.yaml").read_bytes()
    applied = apply_split(repo)
    assert_only_intended_changes(applied)
    assert applied.remaining() == set()
    assert (repo / "deploy/cluster_env.yaml").read_bytes() == spec  # a URL is never edited


def test_spec_layout_points_the_setup_command_at_the_copy(tmp_path: Path) -> None:
    repo = make(tmp_path, SPEC_LAYOUT)
    assert split_text(repo) == SPEC_PROPOSAL
    applied = apply_split(repo)
    assert_only_intended_changes(applied)
    assert applied.remaining() == set()
    assert "pip install -r requirements-serving.txt" in (repo / "serving/sky.yaml").read_text()


def test_hashes_go_with_their_package_and_a_pin_without_hashes_is_flagged(tmp_path: Path) -> None:
    repo = make(tmp_path, HASHED_LAYOUT)
    applied = apply_split(repo)
    assert_only_intended_changes(applied)
    copy = (repo / "requirements-app.txt").read_text()
    shared = (repo / "requirements.txt").read_text()
    # the copy is the shared file minus mlflow's and pytest's blocks (their hash lines
    # and pip-compile's "# via" annotations go with them), under one header line
    blocks = [block for block in shared.split("\n") if block]
    mlflow = blocks.index("mlflow==2.9.2 \\")
    pytest_at = blocks.index("pytest==7.4.3 \\")
    expected = blocks[:mlflow] + blocks[mlflow + 4 : pytest_at] + blocks[pytest_at + 3 :]
    assert copy.splitlines() == [
        "# app's copy of requirements.txt (written by depaudit split): requirements.txt "
        "stays as training installs it",
        *expected,
    ]
    assert "mlflow" not in copy and "pytest" not in copy and copy.count("--hash") == 6
    assert applied.remaining() == {("DA102", "scikit-learn")}
    assert applied.flagged("hashes") == {"scikit-learn"}
    assert applied.flagged("generated") == {"requirements-app.txt"}


# ---------------------------------------------------------------- bad inputs


def test_an_unparseable_shared_file_is_named_once_and_nothing_is_edited(tmp_path: Path) -> None:
    files = dict(DOCKERFILE_LAYOUT)
    # a merge left unresolved: pip cannot read it, and neither does depaudit
    files["requirements.txt"] = SHARED_REQUIREMENTS.replace(
        "    numpy==1.26.4\n",
        "    <<<<<<< HEAD\n    numpy==1.26.4\n    =======\n    numpy==1.25.2\n    >>>>>>> numpy\n",
    )
    repo = make(tmp_path, files)
    before = tree_bytes(repo)
    code, out, err = run_cli("split", str(repo), "--training", "training", "--write")
    assert code == 0, err
    assert tree_bytes(repo) == before  # no copy, no repointed Dockerfile
    notes = [line for line in out.splitlines() if line.startswith("#   [")]
    assert notes == [
        "#   [unparseable] requirements.txt could not be read by depaudit (line 4: invalid "
        "requirement '<<<<<<< HEAD': Expected package name at the start of dependency "
        "specifier): left untouched (6 packages: jupyterlab, matplotlib, mlflow, optuna, "
        "pytest, scikit-learn)"
    ]
    assert "nothing to write" in err


def test_a_copy_whose_name_is_taken_is_not_written(tmp_path: Path) -> None:
    files = {**DOCKERFILE_LAYOUT, "requirements-app.txt": "# someone's notes\nrequests\n"}
    repo = make(tmp_path, files)
    data = json.loads(split_text(repo, "--training", "training", "--format", "json"))
    assert data["edits"] == []
    (shared,) = data["flagged"]
    assert (shared["reason"], shared["file"]) == ("shared", "requirements.txt")
    assert "the name of its serving copy is taken" in shared["message"]


@pytest.mark.parametrize("layout", [DOCKERFILE_LAYOUT, SPEC_LAYOUT])
def test_nothing_is_half_written_when_a_file_cannot_be_written(
    tmp_path: Path, layout: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from depaudit.app import split as app_split

    repo = make(tmp_path, layout)
    before = tree_bytes(repo)
    options = ("--training", "training") if layout is DOCKERFILE_LAYOUT else ()
    real = app_split._temp_copy
    calls: list[Path] = []

    def failing(target: Path, data: bytes) -> Path:
        calls.append(target)
        if len(calls) == 2:  # the second of the two files
            raise OSError(28, "No space left on device")
        return real(target, data)

    monkeypatch.setattr(app_split, "_temp_copy", failing)
    code, _, err = run_cli("split", str(repo), *options, "--write")
    assert code == 2
    assert "nothing was changed" in err and "No space left on device" in err
    assert tree_bytes(repo) == before  # and no temporary file is left behind
    assert len(calls) == 2


def test_a_target_with_uncommitted_changes_is_refused(tmp_path: Path) -> None:
    repo = make(tmp_path, DOCKERFILE_LAYOUT)
    dockerfile = repo / "app/Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + "# work in progress\n")
    before = tree_bytes(repo)
    code, _, err = run_cli("split", str(repo), "--training", "training", "--write")
    assert code == 2
    assert "app/Dockerfile has uncommitted changes" in err
    assert tree_bytes(repo) == before


# Made-With-ML's package layout: `madewithml/` holds predict.py and config.py, which
# imports mlflow (the service loads its model from the MLflow registry); the Ray Serve
# deployment imports the package.
PACKAGE_LAYOUT = {
    **CLUSTER_ENV_LAYOUT,
    "requirements.txt": """
        # Default
        numpy==1.26.4
        pandas==2.1.4
        ray[serve]==2.9.0
        fastapi==0.108.0
        mlflow==2.9.2

        # Notebook
        jupyterlab==4.0.9
        matplotlib==3.8.2
    """,
    "churn/__init__.py": "",
    "churn/config.py": """
        import mlflow

        MODEL_REGISTRY = "/tmp/mlflow"
        mlflow.set_tracking_uri(MODEL_REGISTRY)
    """,
    "churn/predict.py": """
        from churn.config import MODEL_REGISTRY


        def predict(rows: list[dict]) -> list[str]:
            return [MODEL_REGISTRY for _ in rows]
    """,
    "churn/train.py": """
        import mlflow

        from churn.config import MODEL_REGISTRY

        mlflow.log_param("registry", MODEL_REGISTRY)
    """,
    "deploy/services/serve_model.py": """
        from fastapi import FastAPI
        from ray import serve

        from churn.predict import predict

        app = FastAPI()


        @serve.deployment
        @serve.ingress(app)
        class Model:
            @app.post("/predict")
            def score(self, rows: list[dict]) -> list[str]:
                return predict(rows)


        entrypoint = Model.bind()
    """,
}


def test_a_package_serving_code_imports_at_start_is_kept(tmp_path: Path) -> None:
    repo = make(tmp_path, PACKAGE_LAYOUT)
    applied = apply_split(repo, "--training", "notebooks")
    assert_only_intended_changes(applied)
    # mlflow is a DA101 leftover by the curated list, but serve_model -> churn.predict ->
    # churn.config imports it at start: removing it would break the service
    assert applied.remaining() == {("DA101", "mlflow")}
    (imported,) = [f for f in applied.proposal["flagged"] if f["reason"] == "imported"]
    assert (imported["item"], imported["file"], imported["line"]) == (
        "mlflow",
        "churn/config.py",
        1,
    )
    assert "mlflow==2.9.2" in (repo / "requirements-deploy.txt").read_text()
    assert not any(c["action"] == "declare" for c in applied.changes())


@pytest.mark.parametrize(
    ("layout", "options"),
    [
        (DOCKERFILE_LAYOUT, {"training": "training"}),
        (CLUSTER_ENV_LAYOUT, {}),
        (SPEC_LAYOUT, {}),
        (HASHED_LAYOUT, {}),
        (PACKAGE_LAYOUT, {"training": "notebooks"}),
    ],
)
def test_the_outline_from_stored_facts_names_the_same_changes(
    tmp_path: Path, layout: dict[str, str], options: dict[str, str]
) -> None:
    """What a reader of the store (the dashboard) shows: the edits, files, lines and flags
    of the proposal made from the files, without their texts."""
    from depaudit.app.audit import audit_tree
    from depaudit.app.split import choose_pair, propose
    from depaudit.collectors.git import open_tree
    from depaudit.split import outline_split

    repo = make(tmp_path, layout)
    real = propose(repo, **options).proposal
    audit = audit_tree(open_tree(repo).tree)
    outline = outline_split(audit.environments, choose_pair(audit, **options), audit.findings)

    def named(proposal: object) -> set[tuple[str, str, str, int]]:
        return {
            (c.action, c.item, c.file, c.line if c.action != "include" else 0)
            for c in proposal.changes  # type: ignore[attr-defined]
        }

    # what only the text tells (a pin needs hashes) the outline proposes and the real
    # proposal flags instead
    assert named(real) <= named(outline)
    flagged = {item for f in real.flagged for item in f.item.split(", ")}
    assert {item for _, item, _, _ in named(outline) - named(real)} <= flagged
    assert [(e.path, e.is_new) for e in outline.edits] == [(e.path, e.is_new) for e in real.edits]
    assert all(e.after == "" for e in outline.edits)  # no text: nothing to diff
    assert {(f.reason, f.file, f.item) for f in outline.flagged} <= {
        (f.reason, f.file, f.item) for f in real.flagged
    }


# The API's own requirements file includes the shared one (`-r ../requirements.txt`), as
# ml-system-in-actions' services do with a common base.
INCLUDE_LAYOUT = {
    "requirements.txt": """
        numpy==1.26.4
        scikit-learn==1.3.2
        optuna==3.5.0
    """,
    "training/train.py": """
        import optuna
        from sklearn.linear_model import LogisticRegression

        optuna.create_study()
        LogisticRegression()
    """,
    "api/requirements.txt": """
        -r ../requirements.txt
        fastapi==0.110.0
        uvicorn==0.29.0
    """,
    "api/Dockerfile": """
        FROM python:3.11-slim
        WORKDIR /srv
        COPY requirements.txt /srv/requirements.txt
        COPY api/requirements.txt /srv/api/requirements.txt
        RUN pip install --no-cache-dir -r /srv/api/requirements.txt
        COPY api/ /srv/api/
        CMD ["uvicorn", "api.main:app", "--host", "0.0.0.0"]
    """,
    "api/main.py": """
        import numpy as np
        from fastapi import FastAPI
        from sklearn.linear_model import LogisticRegression

        app = FastAPI()
        model = LogisticRegression()


        @app.get("/score")
        def score() -> float:
            return float(np.zeros(1)[0])
    """,
}


def test_an_include_of_the_shared_file_is_pointed_at_the_copy(tmp_path: Path) -> None:
    repo = make(tmp_path, INCLUDE_LAYOUT)
    applied = apply_split(repo)
    assert_only_intended_changes(applied)
    assert applied.remaining() == set()
    assert (repo / "api/requirements.txt").read_text().splitlines()[
        0
    ] == "-r ../requirements-api.txt"
    assert (repo / "requirements-api.txt").read_text().splitlines()[1:] == [
        "numpy==1.26.4",
        "scikit-learn==1.3.2",
    ]


# MLOps-Basics' week folders: one Lambda image (its handler is shared code) serves the
# model and carries the training code too; it installs `requirements_inference.txt`,
# which is serving's by its name.
NAMED_LAYOUT = {
    "week_8/requirements_inference.txt": """
        torch==2.1.0
        fastapi==0.110.0
        dvc==3.48.0
    """,
    "week_8/requirements.txt": """
        torch==2.1.0
        dvc==3.48.0
    """,
    "week_8/Dockerfile": """
        FROM public.ecr.aws/lambda/python:3.11
        COPY requirements_inference.txt requirements_inference.txt
        RUN pip install -r requirements_inference.txt --no-cache-dir
        COPY ./ ./
        CMD ["handler.handle"]
    """,
    "week_8/handler.py": """
        from inference import predict


        def handle(event, context):
            return predict(event["x"])
    """,
    "week_8/inference.py": """
        import torch


        def predict(x: float) -> float:
            return float(torch.tensor([x]).sum())
    """,
    "week_8/app.py": """
        from fastapi import FastAPI

        from inference import predict

        app = FastAPI()


        @app.get("/predict")
        def score(x: float) -> float:
            return predict(x)
    """,
    "week_8/train.py": """
        import torch

        torch.save(torch.nn.Linear(2, 1).state_dict(), "model.pt")
    """,
}


def test_a_copy_that_would_change_nothing_is_not_proposed(tmp_path: Path) -> None:
    repo = make(tmp_path, NAMED_LAYOUT)
    before = tree_bytes(repo)
    code, out, err = run_cli("split", str(repo), "--write", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    # the image training uses too installs the file, and the file is serving's by its
    # name: a copy would be installed by nothing and reported by nobody
    assert data["edits"] == []
    assert [(f["reason"], f["file"], f["item"]) for f in data["flagged"]] == [
        ("shared", "week_8/requirements_inference.txt", "dvc")
    ]
    assert "not split, it stays app's whatever its copy" in data["flagged"][0]["message"]
    assert tree_bytes(repo) == before
