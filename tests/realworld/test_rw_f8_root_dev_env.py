"""F8: a monorepo whose root dependency files are dev tooling of no side (notes/realworld.md).

Shaped after Azure/mlops-project-template (root ``requirements.txt`` with black / flake8
/ isort / pre-commit and a dev ``environment.yml``), shibuiwilliam/ml-system-in-actions
(root ``Pipfile`` with black / isort / mypy) and GoogleCloudPlatform/mlops-with-vertex-ai
(training installs BigQuery clients and kfp; serving is a prebuilt prediction container
named only in the deploy code). No image installs the root files, so they belong to no
environment and no black / flake8 leftover may appear.
"""

from __future__ import annotations

import pytest

from tests.realworld.rwcheck import CheckResult, build, check, dedent

SVC_A_PINS = """
    scikit-learn==1.4.2
    numpy==1.26.4
    joblib==1.4.2
"""

FILES = {
    "README.md": "# ML platform templates\n\n`pip install -r requirements.txt && pre-commit install` to contribute.\n",
    "requirements.txt": """
        # development tooling for this repository (not installed in any image)
        black==23.12.1
        flake8==7.0.0
        isort==5.13.2
        pre-commit==3.6.0
    """,
    "environment.yml": """
        name: mlops-dev
        channels:
          - conda-forge
        dependencies:
          - python=3.11
          - pip
          - jupyterlab=4.0
          - pip:
              - -r requirements.txt
              - pylint==3.0.3
    """,
    "Pipfile": """
        [[source]]
        url = "https://pypi.org/simple"
        verify_ssl = true
        name = "pypi"

        [packages]
        black = "==23.12.1"
        mypy = "==1.8.0"
        mlflow = "==2.9.2"

        [requires]
        python_version = "3.11"
    """,
    # ------------------------------------------------------- svc_a: a clean, aligned pair
    "svc_a/training/Dockerfile": """
        FROM python:3.11-slim
        WORKDIR /job
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY train.py .
        CMD ["python", "train.py"]
    """,
    "svc_a/training/requirements.txt": SVC_A_PINS,
    "svc_a/training/train.py": """
        import joblib
        import numpy as np
        from sklearn.linear_model import LogisticRegression

        X = np.random.rand(500, 4)
        y = (X.sum(axis=1) > 2).astype(int)
        joblib.dump(LogisticRegression().fit(X, y), "model.joblib")
    """,
    "svc_a/serving/Dockerfile": """
        FROM python:3.11-slim
        WORKDIR /srv
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt fastapi==0.110.0 uvicorn==0.29.0
        COPY app.py model.joblib ./
        CMD ["uvicorn", "app:app", "--host", "0.0.0.0"]
    """,
    "svc_a/serving/requirements.txt": SVC_A_PINS,
    "svc_a/serving/app.py": """
        import joblib
        import numpy as np
        from fastapi import FastAPI

        app = FastAPI()
        model = joblib.load("model.joblib")


        @app.post("/predict")
        def predict(x: list[float]) -> dict[str, float]:
            return {"p": float(model.predict_proba(np.asarray([x]))[0, 1])}
    """,
    # ----------------------- svc_b: Vertex training; serving is a prebuilt container
    "svc_b/train/Dockerfile": """
        FROM python:3.10-slim
        WORKDIR /pipeline
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY train.py .
        ENTRYPOINT ["python", "train.py"]
    """,
    "svc_b/train/requirements.txt": """
        google-cloud-bigquery==3.14.1
        google-cloud-bigquery-storage==2.24.0
        kfp==2.5.0
        tensorflow==2.13.1
        pytest==7.4.4
    """,
    "svc_b/train/train.py": """
        import tensorflow as tf
        from google.cloud import bigquery


        def main() -> None:
            client = bigquery.Client(project="acme-analytics")
            rows = client.query("SELECT * FROM features.churn_daily").to_dataframe()
            model = tf.keras.Sequential([tf.keras.layers.Dense(1, activation="sigmoid")])
            model.compile(optimizer="adam", loss="binary_crossentropy")
            model.fit(rows.drop(columns=["churn"]).values, rows["churn"].values, epochs=3)
            model.save("gs://acme-models/churn/1")


        if __name__ == "__main__":
            main()
    """,
    "svc_b/deploy/deploy.py": """
        \"\"\"Upload the exported SavedModel to Vertex AI on a prebuilt prediction container.\"\"\"

        import os

        from google.cloud import aiplatform

        SERVING_RUNTIME = os.getenv("SERVING_RUNTIME", "tf2-cpu.2-13")
        SERVING_IMAGE = f"us-docker.pkg.dev/vertex-ai/prediction/{SERVING_RUNTIME}:latest"


        def deploy(artifact_uri: str = "gs://acme-models/churn/1") -> None:
            aiplatform.init(project="acme-prod", location="europe-west4")
            model = aiplatform.Model.upload(
                display_name="churn",
                artifact_uri=artifact_uri,
                serving_container_image_uri=SERVING_IMAGE,
            )
            model.deploy(machine_type="n1-standard-2")


        if __name__ == "__main__":
            deploy()
    """,
}

EXPECTED_PAIRS = {
    ("svc_a/training/requirements.txt", "svc_a/serving/requirements.txt"),
    ("svc_b/train/requirements.txt", "svc_b/deploy/deploy.py"),
}
ROOT_DEV_FILES = ("requirements.txt", "environment.yml", "Pipfile")


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> CheckResult:
    repo = build(
        tmp_path_factory.mktemp("f8") / "ml-platform",
        [("Two services and the repository's dev tooling", dedent(FILES))],
    )
    return check(repo)


def test_check_succeeds(result: CheckResult) -> None:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_one_pair_per_service(result: CheckResult) -> None:
    found, unexpected = result.anchored_pairs(EXPECTED_PAIRS)
    assert (found, unexpected, len(result.pairs)) == (EXPECTED_PAIRS, [], 2), result.explain()


def test_root_dev_files_are_in_no_environment_and_listed_as_such(result: CheckResult) -> None:
    for path in ROOT_DEV_FILES:
        holders = result.env_holding(path, "training") + result.env_holding(path, "serving")
        assert holders == [], (path, result.explain())
        assert path in result.assignment.unassigned, (path, result.assignment.unassigned)


def test_no_package_or_runtime_leftover_or_drift(result: CheckResult) -> None:
    assert result.rows() == set(), result.explain()


def test_no_dev_tool_is_reported_as_a_leftover(result: CheckResult) -> None:
    tools = {"black", "flake8", "isort", "pre-commit", "mypy", "pylint", "mlflow", "jupyterlab"}
    reported = {f["item"] for f in result.findings if f["item"] in tools}
    assert reported == set(), result.explain()


def test_svc_b_training_clients_are_training_only(result: CheckResult) -> None:
    statuses = {
        f["item"]: f["status"]
        for f in result.findings
        if f["item"] in ("google-cloud-bigquery", "kfp", "pytest")
    }
    assert statuses == {
        "google-cloud-bigquery": "training_only",
        "kfp": "training_only",
        "pytest": "training_only",
    }, result.explain()


def test_the_deploy_script_is_not_a_warehouse_leftover(result: CheckResult) -> None:
    assert not [f for f in result.findings if f["status"] == "leftover"], result.explain()


def test_svc_a_shares_every_pin(result: CheckResult) -> None:
    shared = {
        f["item"]
        for f in result.findings
        if f["status"] == "shared" and f["file"] == "svc_a/serving/requirements.txt"
    }
    assert shared == {"scikit-learn", "numpy", "joblib"}, result.explain()
