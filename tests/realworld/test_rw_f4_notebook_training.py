"""F4: a notebook is the training side; a Pipfile-locked Flask app serves (notes/realworld.md).

Shaped after alexeygrigorev/mlbookcamp-code (chapter-05-deployment) and
DataTalksClub/mlops-zoomcamp (04-deployment): the notebook fits and pickles the model
after ``!pip install`` of pinned versions; the Dockerfile copies ``Pipfile`` /
``Pipfile.lock``, runs ``pipenv install --system --deploy`` and copies ``predict.py`` and
the ``model.bin`` the notebook wrote. The lock file is serving's effective version (the
Pipfile says ``"*"``); ``[dev-packages]`` are not installed by ``--system --deploy``.
"""

from __future__ import annotations

import json

import pytest

from tests.realworld.rwcheck import (
    CheckResult,
    build,
    check,
    dedent,
    line_of,
    notebook,
    notebook_line,
)

NOTEBOOK = notebook(
    ("markdown", "# Churn prediction\n\nTrain a model on the telco churn data and save it."),
    "!pip install -q scikit-learn==1.2.2 xgboost==2.0.3",
    """
    import pickle

    import pandas as pd
    import seaborn as sns
    import xgboost as xgb
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split
    """,
    """
    df = pd.read_csv("WA_Fn-UseC_-Telco-Customer-Churn.csv")
    df.columns = df.columns.str.lower().str.replace(" ", "_")
    df["churn"] = (df.churn == "Yes").astype(int)
    sns.countplot(x="contract", hue="churn", data=df)
    """,
    """
    df_train, df_val = train_test_split(df, test_size=0.2, random_state=1)
    dv = DictVectorizer(sparse=False)
    X_train = dv.fit_transform(df_train.drop(columns=["churn"]).to_dict(orient="records"))
    X_val = dv.transform(df_val.drop(columns=["churn"]).to_dict(orient="records"))
    model = xgb.XGBClassifier(n_estimators=200, max_depth=3, eta=0.1)
    model.fit(X_train, df_train.churn)
    print(roc_auc_score(df_val.churn, model.predict_proba(X_val)[:, 1]))
    """,
    """
    with open("model.bin", "wb") as f_out:
        pickle.dump((dv, model), f_out)
    """,
)

PIPFILE = """
    [[source]]
    url = "https://pypi.org/simple"
    verify_ssl = true
    name = "pypi"

    [packages]
    scikit-learn = "*"
    flask = "*"
    gunicorn = "*"
    xgboost = "==1.7.6"

    [dev-packages]
    awscli = "*"

    [requires]
    python_version = "3.11"
"""


def _locked(version: str) -> dict[str, object]:
    return {
        "hashes": [
            "sha256:" + (version.replace(".", "") * 64)[:64],
        ],
        "index": "pypi",
        "markers": "python_version >= '3.9'",
        "version": f"=={version}",
    }


PIPFILE_LOCK = (
    json.dumps(
        {
            "_meta": {
                "hash": {"sha256": "4f0c" * 16},
                "pipfile-spec": 6,
                "requires": {"python_version": "3.11"},
                "sources": [{"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": True}],
            },
            "default": {
                "blinker": _locked("1.7.0"),
                "click": _locked("8.1.7"),
                "flask": _locked("3.0.1"),
                "gunicorn": _locked("21.2.0"),
                "itsdangerous": _locked("2.1.2"),
                "jinja2": _locked("3.1.3"),
                "joblib": _locked("1.3.2"),
                "markupsafe": _locked("2.1.4"),
                "numpy": _locked("1.26.3"),
                "packaging": _locked("23.2"),
                "scikit-learn": _locked("1.4.0"),
                "scipy": _locked("1.12.0"),
                "threadpoolctl": _locked("3.2.0"),
                "werkzeug": _locked("3.0.1"),
                "xgboost": _locked("1.7.6"),
            },
            "develop": {
                "awscli": _locked("1.32.30"),
                "botocore": _locked("1.34.30"),
            },
        },
        indent=4,
        sort_keys=True,
    )
    + "\n"
)

FILES = {
    "README.md": "# Churn service\n\nRun `notebook.ipynb`, then `docker build -t churn .`\n",
    "churn/notebook.ipynb": NOTEBOOK,
    "churn/Pipfile": PIPFILE,
    "churn/Pipfile.lock": PIPFILE_LOCK,
    "churn/Dockerfile": """
        FROM python:3.11-slim

        RUN pip install --no-cache-dir pipenv

        WORKDIR /app
        COPY ["Pipfile", "Pipfile.lock", "./"]
        RUN pipenv install --system --deploy

        COPY ["predict.py", "model.bin", "./"]

        EXPOSE 9696
        ENTRYPOINT ["gunicorn", "--bind=0.0.0.0:9696", "predict:app"]
    """,
    "churn/predict.py": """
        import pickle

        from flask import Flask, jsonify, request

        with open("model.bin", "rb") as f_in:
            dv, model = pickle.load(f_in)

        app = Flask("churn")


        @app.route("/predict", methods=["POST"])
        def predict():
            customer = request.get_json()
            X = dv.transform([customer])
            probability = model.predict_proba(X)[0, 1]
            return jsonify({"churn_probability": float(probability), "churn": bool(probability >= 0.5)})


        if __name__ == "__main__":
            app.run(debug=True, host="0.0.0.0", port=9696)
    """,
}

EXPECTED_PAIRS = {("churn/notebook.ipynb", "churn/Dockerfile")}
# The lock is the effective version (notes: not "*"): the values are the locked ones and
# the evidence names the lock entries; the rows point at the Pipfile's declarations, the
# place to fix (pin there, then re-lock), as every DA102 does.
EXPECTED_ROWS = {
    ("drift", "DA102", "scikit-learn", "churn/Pipfile", line_of(PIPFILE, "scikit-learn")),
    ("drift", "DA102", "xgboost", "churn/Pipfile", line_of(PIPFILE, "xgboost")),
}
LOCK_LINES = {
    "scikit-learn": notebook_line(PIPFILE_LOCK, '"scikit-learn": {'),
    "xgboost": notebook_line(PIPFILE_LOCK, '"xgboost": {'),
}


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> CheckResult:
    repo = build(
        tmp_path_factory.mktemp("f4") / "churn-service",
        [("Notebook and Flask service", dedent(FILES))],
    )
    return check(repo)


def test_check_succeeds(result: CheckResult) -> None:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_one_pair_notebook_x_dockerfile(result: CheckResult) -> None:
    found, unexpected = result.anchored_pairs(EXPECTED_PAIRS)
    assert (found, unexpected, len(result.pairs)) == (EXPECTED_PAIRS, [], 1), result.explain()


def test_what_the_dockerfile_installs_is_serving_only(result: CheckResult) -> None:
    for path in ("churn/Dockerfile", "churn/Pipfile", "churn/Pipfile.lock"):
        assert result.env_holding(path, "serving"), (path, result.explain())
        assert not result.env_holding(path, "training"), (path, result.explain())


def test_exact_package_and_runtime_leftovers_and_drift(result: CheckResult) -> None:
    assert result.rows() == EXPECTED_ROWS, result.explain()


def test_drift_evidence_names_the_lock_entry_that_sets_the_version(
    result: CheckResult,
) -> None:
    evidence = {f["item"]: f["evidence"] for f in result.findings if f["rule"] == "DA102"}
    assert evidence.keys() == LOCK_LINES.keys(), result.explain()
    for name, line in LOCK_LINES.items():
        assert f"churn/Pipfile.lock:{line}" in evidence.get(name, ""), result.explain()
        assert "churn/notebook.ipynb:" in evidence.get(name, ""), result.explain()


def test_drift_uses_the_locked_version_not_the_star(result: CheckResult) -> None:
    values = {
        f["item"]: (f["training"], f["serving"])
        for f in result.findings
        if f["status"] == "drift" and f["kind"] == "package"
    }
    assert values.get("scikit-learn") == ("1.2.2", "1.4.0"), result.explain()
    assert values.get("xgboost") == ("2.0.3", "1.7.6"), result.explain()


def test_no_leftover_from_dev_packages_or_notebook_only_imports(result: CheckResult) -> None:
    assert not result.items("leftover"), result.explain()
    # awscli is a [dev-packages] entry: pipenv install --system --deploy does not install it
    assert not [f for f in result.findings if f["item"] in ("awscli", "botocore")], result.explain()
