"""A book's code: chapters of notebooks, two of which also serve (issue 11: projects).

Shaped after alexeygrigorev/mlbookcamp-code: chapters at the root, most only notebooks;
``chapter-05-deployment/`` holds the notebook that trains and pickles ``churn-model.bin``
beside the Flask app, Pipfile and Dockerfile that serve it; ``chapter-09-kubernetes/``
holds a notebook and a TF-Serving gateway placed by file names (``model_server.py``,
``tf-serving.dockerfile``, ``serving-gateway-deployment.yaml``). Run before this fixture
existed, chapter 9's serving files joined chapter 5's folder side (a folder named for a
project, ``chapter-05-deployment/``, was taken for a ``serving/`` folder describing
everything below the root), every notebook of the book was one training side, and code of
chapters 8 and 9 was the training side's: one pair of unrelated chapters, a gRPC gateway
"undeclared" by chapter 5's Pipfile. Now each serving chapter is its own pair: chapter 9
by its folder, chapter 5 linked by the model file its notebook saves and its app loads.
"""

from __future__ import annotations

import json

import pytest

from tests.realworld.rwcheck import CheckResult, build, check, dedent, notebook, notebook_line

CHURN_NOTEBOOK = notebook(
    """
    import pickle

    import pandas as pd
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression
    """,
    """
    df = pd.read_csv("churn.csv")
    dv = DictVectorizer(sparse=False)
    model = LogisticRegression(solver="liblinear")
    model.fit(dv.fit_transform(df.to_dict(orient="records")), df.churn)
    """,
    """
    with open("churn-model.bin", "wb") as f_out:
        pickle.dump((dv, model), f_out)
    """,
)

BOOK = {
    "README.md": "# Machine learning book\n",
    "appendix-b-python.ipynb": notebook("print('hello')"),
    "chapter-02-car-price/02-carprice.ipynb": notebook("import numpy as np\nimport pandas as pd"),
    "chapter-03-churn/03-churn.ipynb": notebook("import pandas as pd\nimport sklearn"),
    "chapter-05-deployment/05-deploy.ipynb": CHURN_NOTEBOOK,
    "chapter-05-deployment/churn_serving.py": """
        import pickle

        from flask import Flask, jsonify, request

        with open("churn-model.bin", "rb") as f_in:
            dv, model = pickle.load(f_in)

        app = Flask("churn")


        @app.route("/predict", methods=["POST"])
        def predict():
            customer = request.get_json()
            return jsonify({"churn": float(model.predict_proba(dv.transform([customer]))[0, 1])})
    """,
    "chapter-05-deployment/Pipfile": (
        '[packages]\nnumpy = "*"\nscikit-learn = "==0.24.1"\nflask = "*"\ngunicorn = "*"\n'
    ),
    "chapter-05-deployment/Dockerfile": """
        FROM python:3.8.12-slim
        RUN pip install pipenv
        WORKDIR /app
        COPY ["Pipfile", "./"]
        RUN pipenv install --system --deploy
        COPY ["*.py", "churn-model.bin", "./"]
        ENTRYPOINT ["gunicorn", "--bind=0.0.0.0:9696", "churn_serving:app"]
    """,
    "chapter-08-serverless/08-model-test.ipynb": notebook(
        "import tflite_runtime.interpreter as tflite"
    ),
    "chapter-08-serverless/lambda_function.py": (
        "import tflite_runtime.interpreter as tflite\n\n"
        "interpreter = tflite.Interpreter(model_path='clothing-model.tflite')\n"
    ),
    "chapter-09-kubernetes/09-image-preparation.ipynb": notebook(
        "import tensorflow as tf\nfrom tensorflow import keras"
    ),
    "chapter-09-kubernetes/model_server.py": """
        import grpc
        from flask import Flask
        from tensorflow_serving.apis import prediction_service_pb2_grpc

        channel = grpc.insecure_channel("tf-serving-clothing-model:8500")
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        app = Flask("gateway")
    """,
    "chapter-09-kubernetes/tf-serving.dockerfile": (
        "FROM tensorflow/serving:2.3.0\nCOPY clothing-model /models/clothing-model/1\n"
        "ENV MODEL_NAME=clothing-model\n"
    ),
    "chapter-09-kubernetes/serving-gateway-deployment.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: serving-gateway
        spec:
          template:
            spec:
              containers:
                - name: serving-gateway
                  image: clothing-model-gateway:002
                  ports:
                    - containerPort: 9696
    """,
    "chapter-09-kubernetes/Pipfile": (
        '[packages]\nflask = "*"\ngrpcio = "==1.32.0"\ntensorflow-serving-api = "==2.3.0"\n'
    ),
    "chapter-09-kubernetes/Pipfile.lock": json.dumps(
        {
            "_meta": {"hash": {"sha256": "0" * 64}, "pipfile-spec": 6, "requires": {}},
            "default": {
                "flask": {"version": "==1.1.2"},
                "click": {"version": "==7.1.2"},
                "grpcio": {"version": "==1.32.0"},
                "tensorflow-serving-api": {"version": "==2.3.0"},
                "protobuf": {"version": "==3.13.0"},
            },
            "develop": {},
        },
        indent=4,
    ),
    "util/nice-numbers.py": "import numpy as np\n",
}

CHAPTER_5 = ("chapter-05-deployment/05-deploy.ipynb", "chapter-05-deployment/churn_serving.py")
CHAPTER_9 = (
    "chapter-09-kubernetes/09-image-preparation.ipynb",
    "chapter-09-kubernetes/model_server.py",
)


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> CheckResult:
    repo = build(tmp_path_factory.mktemp("book") / "book", [("Book", dedent(BOOK))])
    return check(repo)


def test_check_succeeds(book: CheckResult) -> None:
    assert book.returncode == 0, book.stderr


def test_each_serving_chapter_is_its_own_pair(book: CheckResult) -> None:
    expected = {CHAPTER_5, CHAPTER_9}
    found, unexpected = book.anchored_pairs(expected)
    assert (found, unexpected, len(book.pairs)) == (expected, [], 2), book.explain()
    reasons = {p.reason for p in book.pairs}
    line = notebook_line(CHURN_NOTEBOOK, "churn-model.bin")
    assert reasons == {
        "both under project folder chapter-09-kubernetes/",
        "linked: serving loads the model file churn-model.bin "
        "(chapter-05-deployment/churn_serving.py:5) that training saves "
        f"(chapter-05-deployment/05-deploy.ipynb:{line})",
    }, book.explain()


def test_chapter_9s_serving_files_are_not_chapter_5s(book: CheckResult) -> None:
    (chapter_5,) = book.env_holding("chapter-05-deployment/churn_serving.py", "serving")
    assert not [f for f in book.env(chapter_5).files if f.startswith("chapter-09")], book.explain()


def test_code_of_other_chapters_is_not_the_paired_chapters_training(book: CheckResult) -> None:
    for path in ("chapter-08-serverless/lambda_function.py", "util/nice-numbers.py"):
        assert book.env_holding(path, "training") == [], book.explain()


def test_no_gateway_import_is_reported_against_chapter_5(book: CheckResult) -> None:
    (chapter_5,) = book.env_holding("chapter-05-deployment/churn_serving.py", "serving")
    assert not [
        f
        for f in book.findings
        if f["serving_env"] == chapter_5 and f["item"] in ("grpcio", "tensorflow")
    ], book.explain()


def test_a_lock_both_sides_install_is_shared_by_its_direct_packages_only(
    book: CheckResult,
) -> None:
    """Chapter 9's notebook and gateway install the chapter's Pipfile.lock: its direct
    packages are shared, not each transitive entry (click, protobuf) once more."""
    (gateway,) = book.env_holding("chapter-09-kubernetes/model_server.py", "serving")
    shared = {
        f["item"] for f in book.findings if f["serving_env"] == gateway and f["rule"] == "DA104"
    }
    assert shared == {"flask", "grpcio", "tensorflow-serving-api"}, book.explain()
