"""A project folder with ``training/`` and ``scoring/``, tooling around it (notes, stop 20).

Shaped after microsoft/MLOpsPython as it is at its HEAD: the project folder
``diabetes_regression/`` holds ``training/`` and ``scoring/`` (AzureML's ``score.py`` with an
``inference_config.yml`` whose ``condaFile`` is the project folder's conda file, which the
training job installs too) and a CI conda file (``ci_dependencies.yml``: pytest, flake8,
the Azure CLI) that builds the CI agent, neither side. ``ml_service/`` (a "service" name)
holds workspace tooling and the pipeline builders; a Helm chart deploys the image.

Run on the real repository before this fixture existed, ``ml_service`` was the serving side
(its name), holding the scoring spec, the chart and the ops scripts, paired three ways;
``scoring/`` placed nothing (not a keyword) and ``ci_dependencies.yml`` was compared as 20
rows of shared "config".
"""

from __future__ import annotations

import pytest

from tests.realworld.rwcheck import CheckResult, build, check, dedent

CONDA = """
    name: diabetes_regression_training_env
    dependencies:
      - python=3.7.*
      - pip
      - pip:
          - azureml-sdk==1.27.*
          - azureml-defaults==1.27.*
          - inference-schema[numpy-support]==1.1.0
          - scikit-learn==0.22.2
          - joblib==0.14.1
"""

FILES = {
    "README.md": "# MLOps with Azure ML: diabetes regression\n",
    ".env.example": "WORKSPACE_NAME=mlops-aml-ws\nSCORE_SCRIPT=scoring/score.py\n",
    "diabetes_regression/conda_dependencies.yml": CONDA,
    "diabetes_regression/ci_dependencies.yml": """
        name: mlopspython_ci
        dependencies:
          - python=3.7.*
          - numpy=1.18.*
          - scikit-learn=0.22.*
          - pip:
              - azureml-sdk==1.27.*
              - pytest==5.4.*
              - pytest-cov==2.8.*
              - flake8==3.7.*
              - azure-cli==2.3.*
    """,
    "diabetes_regression/parameters.json": '{"training": {"alpha": 0.4}}\n',
    "diabetes_regression/training/train.py": """
        from sklearn.linear_model import Ridge
        from sklearn.metrics import mean_squared_error
        from sklearn.model_selection import train_test_split


        def train_model(data, alpha):
            X_train, X_test, y_train, y_test = train_test_split(data["X"], data["y"])
            model = Ridge(alpha=alpha).fit(X_train, y_train)
            return model, mean_squared_error(y_test, model.predict(X_test))
    """,
    "diabetes_regression/training/train_aml.py": """
        import joblib
        from azureml.core.run import Run

        from train import train_model


        def main():
            run = Run.get_context()
            model, mse = train_model(run.input_datasets["training_data"], 0.4)
            run.log("mse", mse)
            joblib.dump(model, "outputs/sklearn_regression_model.pkl")


        if __name__ == "__main__":
            main()
    """,
    "diabetes_regression/scoring/inference_config.yml": """
        entryScript: score.py
        runtime: python
        condaFile: ../conda_dependencies.yml
    """,
    "diabetes_regression/scoring/score.py": """
        import joblib
        import numpy
        from azureml.core.model import Model
        from inference_schema.schema_decorators import input_schema


        def init():
            global model
            model = joblib.load(Model.get_model_path("sklearn_regression_model.pkl"))


        def run(data):
            return model.predict(numpy.array(data)).tolist()
    """,
    "ml_service/__init__.py": "",
    "ml_service/util/__init__.py": "",
    "ml_service/util/attach_compute.py": """
        from azureml.core.compute import AmlCompute, ComputeTarget


        def get_compute(workspace, name, vm_size):
            config = AmlCompute.provisioning_configuration(vm_size=vm_size, max_nodes=4)
            return ComputeTarget.create(workspace, name, config)
    """,
    "ml_service/util/smoke_test_scoring_service.py": """
        import requests


        def call_web_service(url, payload):
            return requests.post(url, json=payload, timeout=30).json()
    """,
    "ml_service/pipelines/__init__.py": "",
    "ml_service/pipelines/build_train_pipeline.py": """
        from azureml.core import Workspace
        from azureml.pipeline.core import Pipeline
        from azureml.pipeline.steps import PythonScriptStep


        def main():
            ws = Workspace.from_config()
            step = PythonScriptStep(
                name="Train Model",
                script_name="training/train_aml.py",
                source_directory="diabetes_regression",
            )
            Pipeline(workspace=ws, steps=[step]).publish(name="training-pipeline")
    """,
    "charts/abtest-model/Chart.yaml": "apiVersion: v1\nname: abtest-model\nversion: 0.1.0\n",
    "charts/abtest-model/templates/deployment.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: model-green
        spec:
          replicas: 1
          selector:
            matchLabels:
              app: model
          template:
            metadata:
              labels:
                app: model
            spec:
              containers:
                - name: model
                  image: mlopsacr.azurecr.io/diabetes/scoring:1
                  ports:
                    - containerPort: 5001
    """,
}

EXPECTED_PAIRS = {
    ("diabetes_regression/training/train.py", "diabetes_regression/scoring/score.py"),
}


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> CheckResult:
    repo = build(
        tmp_path_factory.mktemp("mlopspython") / "MLOpsPython",
        [("Training, scoring and workspace tooling", dedent(FILES))],
    )
    return check(repo)


def test_check_succeeds(result: CheckResult) -> None:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_one_pair_training_x_the_scoring_folder(result: CheckResult) -> None:
    found, unexpected = result.anchored_pairs(EXPECTED_PAIRS)
    assert (found, unexpected, len(result.pairs)) == (EXPECTED_PAIRS, [], 1), result.explain()


def test_both_sides_install_the_conda_file_the_scoring_spec_names(result: CheckResult) -> None:
    path = "diabetes_regression/conda_dependencies.yml"
    assert result.env_holding(path, "serving") and result.env_holding(path, "training"), (
        result.explain()
    )


def test_the_ci_conda_file_is_neither_side(result: CheckResult) -> None:
    path = "diabetes_regression/ci_dependencies.yml"
    assert result.env_holding(path, "serving") == [], result.explain()
    assert result.env_holding(path, "training") == [], result.explain()
    from_ci = [(f["rule"], f["item"]) for f in result.findings if f["file"] == path]
    assert from_ci == [], result.explain()


def test_workspace_tooling_is_never_serving(result: CheckResult) -> None:
    for path in (
        "ml_service/util/attach_compute.py",
        "ml_service/util/smoke_test_scoring_service.py",
        "ml_service/pipelines/build_train_pipeline.py",
    ):
        assert result.env_holding(path, "serving") == [], (path, result.explain())


def test_no_package_leftover_or_drift(result: CheckResult) -> None:
    # one conda file for both sides, what serving imports declared: nothing to move or pin
    assert result.rows() == set(), result.explain()
