"""A collection of projects whose folder names hold a role word (notes, stop 20).

Shaped after aws-samples/sagemaker-custom-project-templates (sibling templates at the root:
``multi-branch-mlops-train/``, ``batch-inference/``, ``api-gateway-serverless/``, beside
templates with their own build / deploy seed code) and shibuiwilliam/ml-system-in-actions
(``chapter2_training/`` beside ``chapter4_serving_patterns/``). Run on them before this
fixture existed, the root paired the training-named sibling with every serving-named one
(4 pairs, 72 rows of one template's pins "drifting" from another's; 87 rows between book
chapters). In a collection, a sibling folder named for a project that holds a role word is a
project of its own; only folders named by role words alone (``training/``, ``serving/``)
are the collection's own sides.
"""

from __future__ import annotations

import pytest

from tests.realworld.rwcheck import CheckResult, build, check, dedent

APP = """
    import joblib
    from fastapi import FastAPI
    from sklearn.pipeline import Pipeline

    model: Pipeline = joblib.load("model.joblib")

    app = FastAPI()


    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}
"""

COLLECTION = {
    "README.md": "# SageMaker project templates\n",
    # a template with its own build and deploy seed code: a project below the root
    "mlops-template/seedcode/build/training/requirements.txt": (
        "scikit-learn==1.3.0\nsagemaker==2.200.0\n"
    ),
    "mlops-template/seedcode/build/training/train.py": "import sklearn\n",
    "mlops-template/seedcode/serving/requirements.txt": "scikit-learn==1.3.0\nfastapi==0.110.0\n",
    "mlops-template/seedcode/serving/app.py": APP,
    # sibling templates whose names hold a role word
    "multi-branch-mlops-train/requirements.txt": "scikit-learn==1.2.2\nsagemaker==2.150.0\n",
    "multi-branch-mlops-train/pipelines/pipeline.py": "import sklearn\n",
    "batch-inference/requirements.txt": "scikit-learn==1.0.2\n",
    "batch-inference/seedcode/score.py": "import sklearn\n",
    "api-gateway-serverless/requirements.txt": "scikit-learn==1.1.3\nfastapi==0.100.0\n",
    "api-gateway-serverless/seedcode/app.py": APP,
}

# the same collection with the root's own training/ and serving/ folders: those pair
OWN_SIDES = {
    **COLLECTION,
    "training/requirements.txt": "scikit-learn==1.3.0\n",
    "training/train.py": "import sklearn\n",
    "serving/requirements.txt": "scikit-learn==1.2.0\nfastapi==0.110.0\n",
    "serving/app.py": APP,
}


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory) -> CheckResult:
    repo = build(
        tmp_path_factory.mktemp("collection") / "templates",
        [("Templates", dedent(COLLECTION))],
    )
    return check(repo)


@pytest.fixture(scope="module")
def own_sides(tmp_path_factory: pytest.TempPathFactory) -> CheckResult:
    repo = build(
        tmp_path_factory.mktemp("own") / "templates",
        [("Templates and the root's own sides", dedent(OWN_SIDES))],
    )
    return check(repo)


def test_check_succeeds(collection: CheckResult) -> None:
    assert collection.returncode == 0, collection.stderr


def test_only_the_template_with_both_sides_pairs(collection: CheckResult) -> None:
    expected = {
        (
            "mlops-template/seedcode/build/training/train.py",
            "mlops-template/seedcode/serving/app.py",
        )
    }
    found, unexpected = collection.anchored_pairs(expected)
    assert (found, unexpected, len(collection.pairs)) == (expected, [], 1), collection.explain()


def test_no_drift_between_sibling_templates(collection: CheckResult) -> None:
    assert collection.rows() == set(), collection.explain()


def test_the_collections_own_training_and_serving_still_pair(own_sides: CheckResult) -> None:
    expected = {
        (
            "mlops-template/seedcode/build/training/train.py",
            "mlops-template/seedcode/serving/app.py",
        ),
        ("training/train.py", "serving/app.py"),
    }
    found, unexpected = own_sides.anchored_pairs(expected)
    assert (found, unexpected, len(own_sides.pairs)) == (expected, [], 2), own_sides.explain()
