"""A course's deployment module serves the model its intro notebook saves (issue 11: links).

Shaped after DataTalksClub/mlops-zoomcamp: the root holds course modules and cohort folders
(each cohort a project with its own training and serving folders), so no folder joins
``01-intro/`` (a notebook that pickles ``models/lin_reg.bin``) with
``04-deployment/web-service/`` (a Flask app that loads ``lin_reg.bin``). Before links, both
were "compared with nothing". The model file links them: the serving side that loads a
file exactly one unpaired training side saves is that side's serving, and the pair says
so with both places. A file name two training sides save links nothing, and a serving
side that loads its model from a registry (``runs:/...``) stays unpaired.
"""

from __future__ import annotations

import pytest

from tests.realworld.rwcheck import CheckResult, build, check, dedent, notebook, notebook_line

INTRO = notebook(
    "%pip install scikit-learn==1.2.2 pandas==2.0.3",
    """
    import pickle

    import pandas as pd
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LinearRegression
    """,
    """
    df = pd.read_parquet("green_tripdata_2021-01.parquet")
    dv = DictVectorizer()
    lr = LinearRegression()
    lr.fit(dv.fit_transform(df.to_dict(orient="records")), df.duration)
    """,
    """
    with open("models/lin_reg.bin", "wb") as f_out:
        pickle.dump((dv, lr), f_out)
    """,
)

PREDICT = """
    import pickle

    from flask import Flask, jsonify, request

    with open("lin_reg.bin", "rb") as f_in:
        (dv, model) = pickle.load(f_in)

    app = Flask("duration-prediction")


    @app.route("/predict", methods=["POST"])
    def predict_endpoint():
        ride = request.get_json()
        return jsonify({"duration": float(model.predict(dv.transform(ride))[0])})
"""

COURSE = {
    "README.md": "# MLOps course\n",
    "01-intro/duration-prediction.ipynb": INTRO,
    "02-tracking/requirements.txt": "mlflow==2.9.2\nxgboost==2.0.3\nscikit-learn==1.2.2\n",
    "02-tracking/train.py": "import mlflow\nimport xgboost\n\nmlflow.set_tracking_uri('sqlite:///mlflow.db')\n",
    "04-deployment/web-service/Pipfile": (
        '[packages]\nscikit-learn = "==1.0.2"\nflask = "*"\ngunicorn = "*"\n\n'
        '[requires]\npython_version = "3.9"\n'
    ),
    "04-deployment/web-service/Dockerfile": """
        FROM python:3.9.7-slim
        RUN pip install -U pip && pip install pipenv
        WORKDIR /app
        COPY [ "Pipfile", "./" ]
        RUN pipenv install --system --deploy
        COPY [ "predict.py", "lin_reg.bin", "./" ]
        ENTRYPOINT [ "gunicorn", "--bind=0.0.0.0:9696", "predict:app" ]
    """,
    "04-deployment/web-service/predict.py": PREDICT,
    "04-deployment/web-service-mlflow/Pipfile": '[packages]\nmlflow = "*"\nflask = "*"\n',
    "04-deployment/web-service-mlflow/predict.py": """
        import mlflow
        from flask import Flask

        model = mlflow.pyfunc.load_model("runs:/abc/model")
        app = Flask("duration-prediction")
    """,
    # a cohort: a project of its own, paired by its folder
    "cohorts/2023/02-experiment-tracking/requirements.txt": "mlflow==2.3.0\nscikit-learn==1.2.0\n",
    "cohorts/2023/02-experiment-tracking/train.py": "import mlflow\nimport sklearn\n",
    "cohorts/2023/04-deployment/Pipfile": '[packages]\nscikit-learn = "==1.2.0"\nflask = "*"\n',
    "cohorts/2023/04-deployment/predict.py": """
        import pickle

        from flask import Flask

        with open("model.bin", "rb") as f_in:
            model = pickle.load(f_in)
        app = Flask("homework")
    """,
}

# the tracking module saves a model of the same name too: the file tells nothing
TWO_SAVERS = {
    **COURSE,
    "02-tracking/train.py": (
        "import pickle\n\nimport mlflow\nimport xgboost\n\n"
        "with open('models/lin_reg.bin', 'wb') as f_out:\n    pickle.dump(xgboost, f_out)\n"
    ),
}

INTRO_PATH = "01-intro/duration-prediction.ipynb"
SERVICE = "04-deployment/web-service/predict.py"
COHORT = ("cohorts/2023/02-experiment-tracking/train.py", "cohorts/2023/04-deployment/predict.py")


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> CheckResult:
    repo = build(tmp_path_factory.mktemp("linked") / "course", [("Course", dedent(COURSE))])
    return check(repo)


@pytest.fixture(scope="module")
def two_savers(tmp_path_factory: pytest.TempPathFactory) -> CheckResult:
    repo = build(tmp_path_factory.mktemp("two") / "course", [("Course", dedent(TWO_SAVERS))])
    return check(repo)


def test_check_succeeds(course: CheckResult) -> None:
    assert course.returncode == 0, course.stderr


def test_the_model_file_links_the_notebook_and_the_service(course: CheckResult) -> None:
    expected = {(INTRO_PATH, SERVICE), COHORT}
    found, unexpected = course.anchored_pairs(expected)
    assert (found, unexpected, len(course.pairs)) == (expected, [], 2), course.explain()
    (linked,) = [p for p in course.pairs if SERVICE in course.env(p.serving).files]
    line = notebook_line(INTRO, "models/lin_reg.bin")
    assert linked.reason == (
        f"linked: serving loads the model file lin_reg.bin ({SERVICE}:5) "
        f"that training saves ({INTRO_PATH}:{line})"
    ), course.explain()


def test_the_linked_pair_compares_what_the_notebook_installed(course: CheckResult) -> None:
    linked = [
        (f["status"], f["rule"], f["item"], f["training"], f["serving"])
        for f in course.findings
        if f["serving_env"] == course.env_holding(SERVICE, "serving")[0]
        and f["kind"] == "package"
        and f["status"] in ("drift", "leftover")
    ]
    assert linked == [("drift", "DA102", "scikit-learn", "1.2.2", "1.0.2")], course.explain()


def test_a_registry_loaded_service_stays_unpaired(course: CheckResult) -> None:
    (name,) = course.env_holding("04-deployment/web-service-mlflow/predict.py", "serving")
    assert name in course.assignment.unpaired, course.explain()


def test_a_file_name_two_training_sides_save_links_nothing(two_savers: CheckResult) -> None:
    found, unexpected = two_savers.anchored_pairs({COHORT})
    assert (found, unexpected) == ({COHORT}, []), two_savers.explain()
    (name,) = two_savers.env_holding(SERVICE, "serving")
    assert name in two_savers.assignment.unpaired, two_savers.explain()
