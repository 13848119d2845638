"""Launchers and the shared code serving runs (issue 11, shaped after MLOps templates).

SageMaker / Vertex / AzureML templates keep a ``pipelines/`` folder whose code only
submits the training script to a managed service (an estimator, a custom job): what
that folder installs is the launcher's, not what training runs with, so it is compared
with nothing and says why. A folder of the same name that trains in place stays a side.

Python files no keyword places are shared by both sides of their project; a serving side
with code of its own holds the shared code it imports (``features/``), not the reports
and tools beside it, while code in a shared folder (``common/``) stays on both sides.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.realworld.rwcheck import CheckResult, build, check, dedent

SERVING = {
    "serving/requirements.txt": """
        fastapi==0.110.0
        scikit-learn==1.4.2
        joblib==1.3.2
    """,
    "serving/app.py": """
        import joblib
        from fastapi import FastAPI

        from features.transform import scale

        app = FastAPI()
        model = joblib.load("model.joblib")


        @app.post("/predict")
        def predict(rows: list[list[float]]) -> list[float]:
            return model.predict(scale(rows)).tolist()
    """,
    "training/requirements.txt": """
        scikit-learn==1.4.2
        joblib==1.3.2
        pandas==2.2.1
    """,
    "training/train.py": """
        import joblib
        import pandas as pd
        from sklearn.linear_model import LogisticRegression

        from features.transform import scale

        frame = pd.read_csv("data.csv")
        model = LogisticRegression().fit(scale(frame.drop(columns=["y"]).values), frame["y"])
        joblib.dump(model, "model.joblib")
    """,
    "features/__init__.py": "",
    "features/transform.py": """
        def scale(rows):
            return [[v / 100.0 for v in row] for row in rows]
    """,
    "tools/report.py": """
        import pandas as pd


        def summary(path: str) -> str:
            return pd.read_csv(path).describe().to_string()
    """,
    "common/__init__.py": "",
    "common/paths.py": """
        DATA = "data.csv"
    """,
}

LAUNCHER = {
    "pipelines/requirements.txt": """
        sagemaker==2.214.0
    """,
    "pipelines/launch.py": """
        from sagemaker.sklearn import SKLearn

        estimator = SKLearn(
            entry_point="train.py",
            source_dir="training",
            framework_version="1.2-1",
            instance_type="ml.m5.xlarge",
        )
        estimator.fit({"train": "s3://bucket/train"})
    """,
}

# the same folder name, but its code trains in place: a training side like any other
IN_PLACE = {
    "pipelines/requirements.txt": """
        kfp==2.7.0
        scikit-learn==1.4.2
    """,
    "pipelines/pipeline.py": """
        from kfp import compiler, dsl
        from sklearn.linear_model import LogisticRegression


        @dsl.component
        def train_step() -> None:
            LogisticRegression().fit([[0.0], [1.0]], [0, 1])


        @dsl.pipeline(name="train")
        def pipeline() -> None:
            train_step()


        compiler.Compiler().compile(pipeline, "pipeline.yaml")
    """,
}


def _check(tmp_path: Path, files: dict[str, str]) -> CheckResult:
    repo = build(tmp_path / "repo", [("Training, serving and pipelines", dedent(files))])
    result = check(repo)
    assert result.returncode == 0, result.stderr
    return result


def test_a_launcher_is_compared_with_nothing_and_says_why(tmp_path: Path) -> None:
    result = _check(tmp_path, {**SERVING, **LAUNCHER})
    found, unexpected = result.anchored_pairs({("training/train.py", "serving/app.py")})
    assert (found, unexpected) == ({("training/train.py", "serving/app.py")}, []), result.explain()
    why = result.assignment.unpaired.get("pipelines", "")
    assert "launcher" in why and "SKLearn at pipelines/launch.py:3" in why, result.explain()
    # the launcher's own files are in no environment
    assert result.env_holding("pipelines/launch.py", "training") == [], result.explain()


def test_a_pipeline_that_trains_in_place_stays_a_training_side(tmp_path: Path) -> None:
    result = _check(tmp_path, {**SERVING, **IN_PLACE})
    found, unexpected = result.anchored_pairs(
        {("training/train.py", "serving/app.py"), ("pipelines/pipeline.py", "serving/app.py")}
    )
    assert len(found) == 2 and unexpected == [], result.explain()


@pytest.mark.parametrize(
    ("path", "on_serving"),
    [
        ("features/transform.py", True),  # imported by serving/app.py
        ("common/paths.py", True),  # a shared folder: both sides by name
        ("tools/report.py", False),  # imported by nobody serving runs
    ],
)
def test_serving_holds_the_shared_code_it_runs(tmp_path: Path, path: str, on_serving: bool) -> None:
    result = _check(tmp_path, SERVING)
    assert bool(result.env_holding(path, "serving")) is on_serving, result.explain()
    assert result.env_holding(path, "training"), result.explain()  # training keeps it all
