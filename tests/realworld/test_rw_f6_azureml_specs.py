"""F6: AzureML specs name each side's files (notes/realworld.md).

Shaped after Azure/mlops-project-template (AzureML v2: an environment yaml with
``image`` + ``conda_file``, an online deployment with ``code_configuration`` /
``scoring_script`` and an inline ``environment``), the SageMaker safe-deployment
pipeline (CloudFormation with short-form ``!Ref`` / ``!Sub`` tags naming
``CodeUri``) and microsoft/MLOpsPython (the v1 variant: ``inference_config.yml`` whose
``condaFile`` is the *training* conda file, so one file serves both sides).

No folder or file of the serving side carries a serving keyword (``ml/score``,
``envs/infer-conda.yml``): only the specs say what serving installs and runs.
"""

from __future__ import annotations

import pytest

from tests.realworld.rwcheck import CheckResult, build, check, dedent, line_of

INFER_CONDA = """
    name: credit-default-inference
    channels:
      - conda-forge
    dependencies:
      - python=3.11
      - pip=23.3
      - pip:
          - scikit-learn==1.5.1
          - pandas>=1.3
          - mlflow==2.9.2
          - azureml-mlflow==1.57.0
          - azureml-inference-server-http==1.0.0
          - joblib==1.4.2
"""
DEPLOYMENT = """
    $schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json
    name: blue
    endpoint_name: credit-default
    model: azureml:credit-default-model@latest
    code_configuration:
      code: ../../ml/score
      scoring_script: score.py
    environment:
      name: credit-default-inference
      image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest
      conda_file: ../../envs/infer-conda.yml
    instance_type: Standard_DS3_v2
    instance_count: 1
"""

V2_FILES = {
    "README.md": "# credit-default: AzureML v2 training job and managed online endpoint\n",
    "ml/train/train.py": """
        import argparse

        import joblib
        import mlflow
        import pandas as pd
        from sklearn.ensemble import GradientBoostingClassifier
        from sklearn.model_selection import train_test_split


        def main() -> None:
            parser = argparse.ArgumentParser()
            parser.add_argument("--data", required=True)
            args = parser.parse_args()
            mlflow.autolog()
            df = pd.read_csv(args.data)
            X, y = df.drop(columns=["default"]), df["default"]
            X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y)
            model = GradientBoostingClassifier().fit(X_train, y_train)
            mlflow.log_metric("accuracy", model.score(X_test, y_test))
            joblib.dump(model, "outputs/model.joblib")


        if __name__ == "__main__":
            main()
    """,
    "ml/score/score.py": """
        import json
        import logging
        import os

        import joblib
        from sklearn.ensemble import GradientBoostingClassifier

        model: GradientBoostingClassifier | None = None


        def init() -> None:
            global model
            path = os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.joblib")
            model = joblib.load(path)
            logging.info("model loaded")


        def run(raw_data: str) -> list[int]:
            data = json.loads(raw_data)["data"]
            return model.predict(data).tolist()
    """,
    "envs/train-conda.yml": """
        name: credit-default-train
        channels:
          - conda-forge
        dependencies:
          - python=3.11
          - pip=23.3
          - pip:
              - mlflow==2.9.2
              - scikit-learn==1.5.2
              - pandas==2.2.3
              - joblib==1.4.2
    """,
    "envs/infer-conda.yml": INFER_CONDA,
    "mlops/train-env.yml": """
        $schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json
        name: credit-default-train
        image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest
        conda_file: ../envs/train-conda.yml
        description: Environment for training the credit default model
    """,
    "mlops/train-job.yml": """
        $schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json
        code: ../ml/train
        command: python train.py --data ${{inputs.data}}
        inputs:
          data:
            type: uri_file
            path: azureml:credit-default-data@latest
        environment: azureml:credit-default-train@latest
        compute: azureml:cpu-cluster
        experiment_name: credit-default
    """,
    "mlops/deploy/online-endpoint.yml": """
        $schema: https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json
        name: credit-default
        auth_mode: key
    """,
    "mlops/deploy/online-deployment.yml": DEPLOYMENT,
    "infra/template.yml": """
        AWSTemplateFormatVersion: "2010-09-09"
        Transform: AWS::Serverless-2016-10-31
        Description: Mirror of the scoring function on AWS Lambda
        Parameters:
          Stage:
            Type: String
            AllowedValues: [dev, prd]
        Conditions:
          IsProd: !Equals [!Ref Stage, prd]
        Resources:
          ScoreFunction:
            Type: AWS::Serverless::Function
            Properties:
              FunctionName: !Sub "credit-default-score-${Stage}"
              CodeUri: ../ml/score
              Handler: score.run
              Runtime: python3.11
              Role: !GetAtt ScoreRole.Arn
              AutoPublishAlias: !If [IsProd, live, !Ref "AWS::NoValue"]
          ScoreRole:
            Type: AWS::IAM::Role
            Properties:
              AssumeRolePolicyDocument:
                Version: "2012-10-17"
                Statement:
                  - Effect: Allow
                    Principal: {Service: lambda.amazonaws.com}
                    Action: sts:AssumeRole
        Outputs:
          FunctionArn:
            Value: !GetAtt ScoreFunction.Arn
            Export:
              Name: !Sub "${AWS::StackName}-score-arn"
    """,
}

V2_PAIRS = {("envs/train-conda.yml", "envs/infer-conda.yml")}
V2_ROWS = {
    (
        "drift",
        "DA102",
        "scikit-learn",
        "envs/infer-conda.yml",
        line_of(INFER_CONDA, "scikit-learn=="),
    ),
    # score.py never imports pandas, and what train.py pickles is a scikit-learn model
    # (GradientBoostingClassifier): unpickling it does not need pandas, so the range in
    # serving is a leftover to remove, not a pin to align (was DA107 before what training
    # pickles was traced)
    (
        "leftover",
        "DA106",
        "pandas",
        "envs/infer-conda.yml",
        line_of(INFER_CONDA, "pandas>="),
    ),
    # ubuntu20.04 (train-env.yml) vs ubuntu22.04 (the deployment's inline environment)
    (
        "drift",
        "DA502",
        "os",
        "mlops/deploy/online-deployment.yml",
        line_of(DEPLOYMENT, "image:"),
    ),
    # score.py imports neither: mlflow is a curated tracker (train.py imports it);
    # azureml-mlflow is MLflow's AzureML tracking plugin, imported by nobody — a
    # training-only package by what it is (notes: "tracking plugin").
    ("leftover", "DA101", "mlflow", "envs/infer-conda.yml", line_of(INFER_CONDA, "mlflow==")),
    (
        "leftover",
        "DA101",
        "azureml-mlflow",
        "envs/infer-conda.yml",
        line_of(INFER_CONDA, "azureml-mlflow=="),
    ),
}

# ------------------------------------------------------------------ v1 variant (MLOpsPython)
CONDA_V1 = """
    # Conda environment of the diabetes model: training job and scoring image
    name: diabetes_regression_training_env
    dependencies:
      - python=3.8.*
      - numpy=1.23.*
      - pip:
          - azureml-sdk==1.48.*
          - azureml-defaults==1.48.*
          - inference-schema[numpy-support]==1.5.1
          - scikit-learn==1.1.3
          - joblib==1.2.0
          - mlflow==2.1.1
          - imbalanced-learn==0.10.1
"""
V1_FILES = {
    "README.md": "# diabetes regression on AzureML (v1 SDK)\n",
    "diabetes/conda_dependencies.yml": CONDA_V1,
    "diabetes/training/train.py": """
        import joblib
        import mlflow
        import numpy as np
        from azureml.core import Run
        from imblearn.over_sampling import SMOTE
        from sklearn.linear_model import Ridge


        def main() -> None:
            run = Run.get_context()
            X, y = np.load("X.npy"), np.load("y.npy")
            X, y = SMOTE().fit_resample(X, y)
            model = Ridge(alpha=0.5).fit(X, y)
            mlflow.log_metric("r2", model.score(X, y))
            run.log("alpha", 0.5)
            joblib.dump(model, "outputs/sklearn_regression_model.pkl")


        if __name__ == "__main__":
            main()
    """,
    "diabetes/scoring/score.py": """
        import joblib
        import numpy as np
        from azureml.core.model import Model
        from inference_schema.parameter_types.numpy_parameter_type import NumpyParameterType
        from inference_schema.schema_decorators import input_schema, output_schema

        model = None


        def init() -> None:
            global model
            model = joblib.load(Model.get_model_path("sklearn_regression_model.pkl"))


        @input_schema("data", NumpyParameterType(np.array([[0.1] * 10])))
        @output_schema(NumpyParameterType(np.array([1.0])))
        def run(data):
            return model.predict(data).tolist()
    """,
    "diabetes/scoring/inference_config.yml": """
        entryScript: score.py
        runtime: python
        condaFile: ../conda_dependencies.yml
        sourceDirectory: .
        schemaFile:
        description: "Diabetes regression scoring image"
    """,
}
V1_PAIRS = {("diabetes/training/train.py", "diabetes/scoring/score.py")}
V1_ROWS = {
    # one conda file installed on both sides: leftovers come from usage, no drift
    (
        "leftover",
        "DA101",
        "mlflow",
        "diabetes/conda_dependencies.yml",
        line_of(CONDA_V1, "mlflow=="),
    ),
    (
        "leftover",
        "DA106",
        "imbalanced-learn",
        "diabetes/conda_dependencies.yml",
        line_of(CONDA_V1, "imbalanced-learn=="),
    ),
}


@pytest.fixture(scope="module")
def v2(tmp_path_factory: pytest.TempPathFactory) -> CheckResult:
    repo = build(
        tmp_path_factory.mktemp("f6") / "credit-default",
        [("AzureML v2 job and online deployment", dedent(V2_FILES))],
    )
    return check(repo)


@pytest.fixture(scope="module")
def v1(tmp_path_factory: pytest.TempPathFactory) -> CheckResult:
    repo = build(
        tmp_path_factory.mktemp("f6v1") / "diabetes-mlops",
        [("AzureML v1 training and scoring", dedent(V1_FILES))],
    )
    return check(repo)


def test_check_succeeds(v2: CheckResult, v1: CheckResult) -> None:
    for result in (v2, v1):
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr


def test_v2_one_pair_named_by_the_specs(v2: CheckResult) -> None:
    found, unexpected = v2.anchored_pairs(V2_PAIRS)
    assert (found, unexpected, len(v2.pairs)) == (V2_PAIRS, [], 1), v2.explain()


def test_v2_the_deployment_spec_places_the_scoring_code(v2: CheckResult) -> None:
    assert v2.env_holding("ml/score/score.py", "serving"), v2.explain()
    assert not v2.env_holding("ml/score/score.py", "training"), v2.explain()
    assert not v2.env_holding("envs/train-conda.yml", "serving"), v2.explain()


def test_v2_exact_package_and_runtime_leftovers_and_drift(v2: CheckResult) -> None:
    assert v2.rows() == V2_ROWS, v2.explain()


def test_v2_cloudformation_short_tags_are_valid_yaml(v2: CheckResult) -> None:
    assert [e for e in v2.errors() if e[1] == "infra/template.yml"] == [], v2.explain()


def test_v2_shared_python(v2: CheckResult) -> None:
    python = {
        (f["status"], f["training"], f["serving"]) for f in v2.about("python", kind="runtime")
    }
    assert python == {("shared", "3.11", "3.11")}, v2.explain()


def test_v1_one_pair_training_x_scoring(v1: CheckResult) -> None:
    found, unexpected = v1.anchored_pairs(V1_PAIRS)
    assert (found, unexpected, len(v1.pairs)) == (V1_PAIRS, [], 1), v1.explain()


def test_v1_the_training_conda_file_is_installed_by_both_sides(v1: CheckResult) -> None:
    assert v1.env_holding("diabetes/conda_dependencies.yml", "training"), v1.explain()
    assert v1.env_holding("diabetes/conda_dependencies.yml", "serving"), v1.explain()


def test_v1_exact_package_and_runtime_leftovers_and_drift(v1: CheckResult) -> None:
    assert v1.rows() == V1_ROWS, v1.explain()


def test_v1_what_scoring_imports_or_unpickles_is_not_a_leftover(v1: CheckResult) -> None:
    leftovers = v1.items("leftover")
    assert not leftovers & {
        "azureml-sdk",
        "azureml-defaults",
        "inference-schema",
        "scikit-learn",
        "joblib",
        "numpy",
    }, v1.explain()
