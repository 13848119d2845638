"""F1: a course monorepo of five independent lessons (notes/realworld.md, "Fixture shapes").

Shaped after kubeflow/examples (one folder per example, most single-sided),
graviraja/MLOps-Basics (one folder per week: ``requirements.txt`` for training,
``requirements_inference.txt`` + ``Dockerfile`` for the FastAPI app) and
shibuiwilliam/ml-system-in-actions. Each lesson is its own audit: pairs never cross
lessons, single-sided lessons pair with nothing, and a fact is reported once.
"""

from __future__ import annotations

import pytest

from tests.realworld.rwcheck import CheckResult, build, check, dedent, line_of, notebook

LESSON_A_INFERENCE = """
    # serving dependencies for the churn API (copied from requirements.txt, then trimmed)
    scikit-learn==1.3.2
    wandb==0.16.0
    joblib==1.3.2
    fastapi==0.110.0
    uvicorn==0.29.0
"""

LESSON_B_INFERENCE = """
    # what the image installs (see Dockerfile)
    numpy==1.24.4
    onnxruntime==1.16.3
    fastapi==0.110.0
    uvicorn[standard]==0.29.0
"""

FILES = {
    "README.md": """
        # Practical MLOps, one lesson per folder

        Every `lesson_*` folder is self-contained: its own requirements, its own code.
    """,
    # ---------------------------------------------------------------- lesson_a: train + app
    "lesson_a/README.md": "# Lesson A: train a churn model and serve it with FastAPI\n",
    "lesson_a/requirements.txt": """
        # training
        scikit-learn==1.3.2
        pandas==2.1.4
        wandb==0.16.0
    """,
    "lesson_a/requirements_inference.txt": LESSON_A_INFERENCE,
    "lesson_a/train.py": """
        \"\"\"Fit the churn classifier and log the run to Weights & Biases.\"\"\"

        import joblib
        import pandas as pd
        import wandb
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import train_test_split


        def main(path: str = "data/churn.csv") -> None:
            run = wandb.init(project="lesson-a")
            df = pd.read_csv(path)
            X, y = df.drop(columns=["churn"]), df["churn"]
            X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2)
            model = LogisticRegression(max_iter=500).fit(X_train, y_train)
            run.log({"accuracy": model.score(X_test, y_test)})
            joblib.dump(model, "model.joblib")


        if __name__ == "__main__":
            main()
    """,
    "lesson_a/app.py": """
        \"\"\"Serve the churn model.\"\"\"

        import joblib
        from fastapi import FastAPI
        from sklearn.pipeline import Pipeline

        app = FastAPI()
        model: Pipeline = joblib.load("model.joblib")


        @app.post("/predict")
        def predict(features: dict[str, float]) -> dict[str, float]:
            row = [list(features.values())]
            return {"churn_probability": float(model.predict_proba(row)[0, 1])}
    """,
    # ------------------------------------------- lesson_b: same shape, numpy pins differ
    "lesson_b/README.md": "# Lesson B: export to ONNX and serve in a container\n",
    "lesson_b/requirements.txt": """
        # training
        numpy==1.26.4
        torch==2.1.2
        onnx==1.15.0
    """,
    "lesson_b/requirements_inference.txt": LESSON_B_INFERENCE,
    "lesson_b/Dockerfile": """
        FROM python:3.11-slim
        WORKDIR /app
        COPY requirements_inference.txt .
        RUN pip install --no-cache-dir -r requirements_inference.txt
        COPY app.py model.onnx ./
        EXPOSE 8000
        CMD ["uvicorn", "app:app", "--host", "0.0.0.0", "--port", "8000"]
    """,
    "lesson_b/train.py": """
        import numpy as np
        import torch
        from torch import nn


        def main() -> None:
            model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)
            x = torch.from_numpy(np.random.rand(256, 8).astype("float32"))
            for _ in range(100):
                opt.zero_grad()
                loss = model(x).pow(2).mean()
                loss.backward()
                opt.step()
            torch.onnx.export(model, x[:1], "model.onnx")


        if __name__ == "__main__":
            main()
    """,
    "lesson_b/app.py": """
        import numpy as np
        import onnxruntime as ort
        from fastapi import FastAPI

        app = FastAPI()
        session = ort.InferenceSession("model.onnx")


        @app.post("/predict")
        def predict(values: list[float]) -> dict[str, float]:
            x = np.asarray([values], dtype=np.float32)
            return {"score": float(session.run(None, {"input": x})[0][0, 0])}
    """,
    # ----------------------------------------------------------- lesson_c: training only
    "lesson_c/requirements.txt": """
        # exploration and training
        pandas==2.1.4
        scikit-learn==1.3.2
        seaborn==0.13.0
    """,
    "lesson_c/notebooks/explore.ipynb": notebook(
        ("markdown", "# Explore the housing data"),
        """
        import pandas as pd
        import seaborn as sns

        df = pd.read_csv("../data/housing.csv")
        sns.histplot(df["price"])
        """,
    ),
    "lesson_c/train.py": """
        import pandas as pd
        from sklearn.ensemble import RandomForestRegressor

        df = pd.read_csv("data/housing.csv")
        RandomForestRegressor().fit(df.drop(columns=["price"]), df["price"])
    """,
    # ------------------------------------------------------------ lesson_d: serving only
    "lesson_d/serving/Dockerfile": """
        FROM python:3.11-slim
        WORKDIR /srv
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY main.py .
        CMD ["uvicorn", "main:app", "--host", "0.0.0.0"]
    """,
    "lesson_d/serving/requirements.txt": """
        fastapi==0.110.0
        uvicorn==0.29.0
        xgboost==2.0.3
    """,
    "lesson_d/serving/main.py": """
        import xgboost as xgb
        from fastapi import FastAPI

        app = FastAPI()
        booster = xgb.Booster(model_file="model.json")


        @app.get("/health")
        def health() -> dict[str, str]:
            return {"status": "ok"}
    """,
    # ----------------------------------------- lesson_e: training/ + serving/, identical
    "lesson_e/training/requirements.txt": """
        lightgbm==4.1.0
        pandas==2.1.4
    """,
    "lesson_e/training/train.py": """
        import lightgbm as lgb
        import pandas as pd

        df = pd.read_parquet("data/train.parquet")
        lgb.train({"objective": "binary"}, lgb.Dataset(df.drop(columns=["y"]), df["y"]))
    """,
    "lesson_e/serving/requirements.txt": """
        lightgbm==4.1.0
        pandas==2.1.4
        flask==3.0.0
    """,
    "lesson_e/serving/app.py": """
        import lightgbm as lgb
        import pandas as pd
        from flask import Flask, jsonify, request

        app = Flask(__name__)
        booster = lgb.Booster(model_file="model.txt")


        @app.post("/predict")
        def predict():
            frame = pd.DataFrame([request.get_json()])
            return jsonify(score=float(booster.predict(frame)[0]))
    """,
}

EXPECTED_PAIRS = {
    ("lesson_a/train.py", "lesson_a/requirements_inference.txt"),
    ("lesson_b/train.py", "lesson_b/requirements_inference.txt"),
    ("lesson_e/training/requirements.txt", "lesson_e/serving/requirements.txt"),
}

EXPECTED_ROWS = {
    # wandb is curated as an experiment tracker: DA101 (train.py imports it; app.py does not)
    (
        "leftover",
        "DA101",
        "wandb",
        "lesson_a/requirements_inference.txt",
        line_of(LESSON_A_INFERENCE, "wandb=="),
    ),
    (
        "drift",
        "DA102",
        "numpy",
        "lesson_b/requirements_inference.txt",
        line_of(LESSON_B_INFERENCE, "numpy=="),
    ),
}


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> CheckResult:
    repo = build(tmp_path_factory.mktemp("f1") / "mlops-course", [("Lessons", dedent(FILES))])
    return check(repo)


def test_check_succeeds(result: CheckResult) -> None:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_exactly_one_pair_per_two_sided_lesson(result: CheckResult) -> None:
    found, unexpected = result.anchored_pairs(EXPECTED_PAIRS)
    assert (found, unexpected, len(result.pairs)) == (EXPECTED_PAIRS, [], 3), result.explain()


def test_no_finding_crosses_lessons(result: CheckResult) -> None:
    crossing = []
    for f in result.findings:
        if f["status"] == "error":
            continue
        t, s = result.env(f["training_env"]), result.env(f["serving_env"])
        lessons = {p.split("/")[0] for p in (*t.files, *s.files) if "/" in p}
        if len(lessons) > 1:
            crossing.append((f["training_env"], f["serving_env"], f["rule"], f["item"]))
    assert crossing == [], result.explain()


def test_single_sided_lessons_are_compared_with_nothing(result: CheckResult) -> None:
    training_c = result.env_holding("lesson_c/train.py", "training")
    serving_d = result.env_holding("lesson_d/serving/main.py", "serving")
    assert len(training_c) == 1 and len(serving_d) == 1, result.explain()
    assert set(result.assignment.unpaired) >= {training_c[0], serving_d[0]}, result.explain()
    paired = {p.training for p in result.pairs} | {p.serving for p in result.pairs}
    assert not paired & {training_c[0], serving_d[0]}, result.explain()


def test_exact_package_and_runtime_leftovers_and_drift(result: CheckResult) -> None:
    assert result.rows() == EXPECTED_ROWS, result.explain()


def test_each_fact_is_reported_once(result: CheckResult) -> None:
    assert [r for r, n in result.row_counts().items() if n > 1] == [], result.explain()


def test_lesson_e_shares_its_pins(result: CheckResult) -> None:
    shared = {
        (f["item"], f["file"])
        for f in result.findings
        if f["status"] == "shared" and f["kind"] == "package"
    }
    assert {
        ("lightgbm", "lesson_e/serving/requirements.txt"),
        ("pandas", "lesson_e/serving/requirements.txt"),
    } <= shared, result.explain()
    # lesson_a's scikit-learn is the same pin on both sides and serving unpickles with it
    assert ("scikit-learn", "lesson_a/requirements_inference.txt") in shared, result.explain()
