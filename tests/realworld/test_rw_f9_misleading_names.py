"""F9: names that mislead (notes/realworld.md).

Shaped after microsoft/MLOpsPython (``ml_service/pipelines/`` builds the AzureML
*training* pipeline although its name says "service"; ``scoring/`` with
``inference_config.yml`` is the real serving side) and DataTalksClub/mlops-zoomcamp
(``prefect_deploy.py`` deploys a *training* flow; every module folder has a course
``meta.json``, in ``02-experiment-tracking/`` and ``04-deployment/`` alike). Nothing in
``ml_service/`` or ``orchestration/`` is serving code, and course metadata is not
configuration to compare.
"""

from __future__ import annotations

import json

import pytest

from tests.realworld.rwcheck import CheckResult, build, check, dedent


def _meta(module: int, title: str) -> str:
    return (
        json.dumps(
            {
                "module": module,
                "title": title,
                "videos": [
                    {"id": f"{module}.{n}", "title": f"{title} part {n}", "duration": 600 + n}
                    for n in range(1, 4)
                ],
                "homework": f"cohorts/2024/0{module}/homework.md",
            },
            indent=2,
        )
        + "\n"
    )


FILES = {
    "README.md": "# diabetes MLOps: AzureML pipelines, a Prefect flow and a scoring service\n",
    "02-experiment-tracking/meta.json": _meta(2, "Experiment tracking"),
    "04-deployment/meta.json": _meta(4, "Deployment"),
    "training/requirements.txt": """
        scikit-learn==1.3.2
        pandas==2.1.4
        mlflow==2.9.2
        prefect==2.14.11
        azureml-sdk==1.54.0
    """,
    "training/train.py": """
        import joblib
        import mlflow
        import pandas as pd
        from sklearn.linear_model import Ridge
        from sklearn.model_selection import train_test_split


        def train(path: str) -> Ridge:
            df = pd.read_csv(path)
            X_train, X_test, y_train, y_test = train_test_split(df.drop(columns=["y"]), df["y"])
            model = Ridge(alpha=0.5).fit(X_train, y_train)
            mlflow.log_metric("r2", model.score(X_test, y_test))
            joblib.dump(model, "outputs/model.pkl")
            return model
    """,
    "ml_service/__init__.py": "",
    "ml_service/pipelines/__init__.py": "",
    "ml_service/pipelines/build_train_pipeline.py": """
        \"\"\"Build and publish the AzureML pipeline that trains, evaluates and registers the model.\"\"\"

        from azureml.core import Workspace
        from azureml.core.runconfig import RunConfiguration
        from azureml.pipeline.core import Pipeline
        from azureml.pipeline.steps import PythonScriptStep

        from ml_service.util.env_variables import Env


        def main() -> None:
            e = Env()
            ws = Workspace.get(name=e.workspace_name, subscription_id=e.subscription_id)
            run_config = RunConfiguration()
            train_step = PythonScriptStep(
                name="Train Model",
                script_name="train.py",
                source_directory="training",
                compute_target=e.compute_name,
                runconfig=run_config,
            )
            pipeline = Pipeline(workspace=ws, steps=[train_step])
            pipeline.publish(name=e.pipeline_name, description="Model training pipeline")


        if __name__ == "__main__":
            main()
    """,
    "ml_service/util/__init__.py": "",
    "ml_service/util/env_variables.py": """
        import os
        from dataclasses import dataclass, field


        @dataclass(frozen=True)
        class Env:
            workspace_name: str = field(default_factory=lambda: os.environ.get("WORKSPACE_NAME", ""))
            subscription_id: str = field(default_factory=lambda: os.environ.get("SUBSCRIPTION_ID", ""))
            compute_name: str = field(default_factory=lambda: os.environ.get("AML_COMPUTE_CLUSTER_NAME", "train-cluster"))
            pipeline_name: str = field(default_factory=lambda: os.environ.get("TRAINING_PIPELINE_NAME", "diabetes-training"))
    """,
    "orchestration/__init__.py": "",
    "orchestration/flow.py": """
        import mlflow
        from prefect import flow, task
        from sklearn.metrics import mean_squared_error

        from training.train import train


        @task
        def evaluate(model, X, y) -> float:
            mse = mean_squared_error(y, model.predict(X))
            mlflow.log_metric("mse", mse)
            return mse


        @flow(name="diabetes-training")
        def training_flow(path: str = "data/diabetes.csv") -> None:
            train(path)
    """,
    "orchestration/prefect_deploy.py": """
        \"\"\"Register the weekly training flow with the Prefect server.\"\"\"

        from prefect.deployments import Deployment
        from prefect.server.schemas.schedules import CronSchedule

        from orchestration.flow import training_flow

        deployment = Deployment.build_from_flow(
            flow=training_flow,
            name="weekly-training",
            schedule=CronSchedule(cron="0 3 * * 1"),
            work_queue_name="ml",
        )

        if __name__ == "__main__":
            deployment.apply()
    """,
    "scoring/inference_config.yml": """
        entryScript: score.py
        runtime: python
        condaFile: conda_dependencies.yml
        sourceDirectory: .
    """,
    "scoring/conda_dependencies.yml": """
        name: diabetes_scoring
        dependencies:
          - python=3.10
          - pip:
              - scikit-learn==1.3.2
              - pandas==2.1.4
              - joblib==1.3.2
              - azureml-defaults==1.54.0
              - inference-schema==1.7.1
    """,
    "scoring/score.py": """
        import json

        import joblib
        import pandas as pd
        from azureml.core.model import Model

        model = None


        def init() -> None:
            global model
            model = joblib.load(Model.get_model_path("diabetes_model"))


        def run(raw: str) -> list[float]:
            frame = pd.DataFrame(json.loads(raw)["data"])
            return model.predict(frame).tolist()
    """,
}

EXPECTED_PAIRS = {("training/train.py", "scoring/score.py")}


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> CheckResult:
    repo = build(
        tmp_path_factory.mktemp("f9") / "diabetes-mlops",
        [("Pipelines, flow and scoring", dedent(FILES))],
    )
    return check(repo)


def test_check_succeeds(result: CheckResult) -> None:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_one_pair_training_x_scoring(result: CheckResult) -> None:
    found, unexpected = result.anchored_pairs(EXPECTED_PAIRS)
    assert (found, unexpected, len(result.pairs)) == (EXPECTED_PAIRS, [], 1), result.explain()


def test_orchestration_code_is_never_serving(result: CheckResult) -> None:
    for path in (
        "ml_service/pipelines/build_train_pipeline.py",
        "ml_service/util/env_variables.py",
        "orchestration/prefect_deploy.py",
        "orchestration/flow.py",
    ):
        assert result.env_holding(path, "serving") == [], (path, result.explain())


def test_no_package_or_runtime_leftover_or_drift(result: CheckResult) -> None:
    assert result.rows() == set(), result.explain()


def test_no_finding_comes_from_training_orchestration(result: CheckResult) -> None:
    misplaced = [
        (f["rule"], f["item"], f["file"])
        for f in result.findings
        if f["file"].startswith(("ml_service/", "orchestration/"))
        and f["status"] in ("leftover", "drift")
    ]
    assert misplaced == [], result.explain()


def test_course_metadata_is_not_config(result: CheckResult) -> None:
    compared = [
        (f["status"], f["rule"], f["item"], f["file"])
        for f in result.findings
        if f["file"].endswith("meta.json")
    ]
    assert compared == [], result.explain()
    holders = [
        e.name
        for e in result.assignment.environments.values()
        if any(p.endswith("meta.json") for p in e.files)
    ]
    assert holders == [], result.explain()
