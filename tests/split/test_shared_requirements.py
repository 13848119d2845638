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
        if (f["training_env"], f["serving_env"]) == pair and f["rule"] in rules
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
