"""F7: the training image installs the serving requirements; serving pins looser (notes).

Shaped after kubeflow/examples: github_issue_summarization (training ``RUN pip install
ktext==0.34``, the Seldon serving ``requirements.txt`` lists ``ktext`` unpinned and
unpickles ktext processors with dill) and xgboost_ames_housing (the training Dockerfile
runs ``pip install -r seldon_serve/requirements.txt``; pandas in that file is imported
only by the training script).

Expectation chosen against rules.md's DA106 exemption: pandas is in the knowledge
base's ``inference_packages``, and DA106 exempts those "when serving unpickles a model".
The notes label pandas a leftover, and that is what a careful auditor says: the
exemption exists for the library that *pickled the model* (scikit-learn, xgboost ...),
and neither a ktext processor nor a numpy-only server needs pandas to load.
"""

from __future__ import annotations

import pytest

from tests.realworld.rwcheck import CheckResult, build, check, dedent, line_of

SERVE_REQUIREMENTS = """
    ktext
    pandas==2.1.4
    joblib==1.3.2
    numpy==1.26.2
    flask==3.0.0
    gunicorn==21.2.0
"""

FILES = {
    "README.md": "# Examples\n\nEach folder is one example.\n",
    "issue_summarization/README.md": "# Summarize GitHub issues with a seq2seq model\n",
    "issue_summarization/Dockerfile.train": """
        FROM python:3.10-slim
        WORKDIR /workdir
        COPY serve/requirements.txt serve/requirements.txt
        RUN pip install --no-cache-dir ktext==0.34 && \\
            pip install --no-cache-dir -r serve/requirements.txt
        COPY train.py .
        CMD ["python", "train.py", "--input", "/data/issues.csv"]
    """,
    "issue_summarization/train.py": """
        import argparse

        import dill as dpickle
        import pandas as pd
        from ktext.preprocess import processor


        def main() -> None:
            parser = argparse.ArgumentParser()
            parser.add_argument("--input", required=True)
            args = parser.parse_args()
            issues = pd.read_csv(args.input).sample(n=200_000, random_state=42)
            body_pp = processor(keep_n=8000, padding_maxlen=70)
            body_pp.fit_transform(issues.body.tolist())
            with open("body_pp.dpkl", "wb") as f:
                dpickle.dump(body_pp, f)


        if __name__ == "__main__":
            main()
    """,
    "issue_summarization/serve/requirements.txt": SERVE_REQUIREMENTS,
    "issue_summarization/serve/Dockerfile": """
        FROM python:3.10-slim
        WORKDIR /srv
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY server.py body_pp.dpkl ./
        CMD ["gunicorn", "--bind", "0.0.0.0:5000", "server:app"]
    """,
    "issue_summarization/serve/server.py": """
        import dill as dpickle
        import joblib
        import numpy as np
        from flask import Flask, jsonify, request

        app = Flask(__name__)
        with open("body_pp.dpkl", "rb") as f:
            body_pp = dpickle.load(f)
        model = joblib.load("seq2seq_head.joblib")


        @app.post("/summarize")
        def summarize():
            tokens = np.asarray(body_pp.transform([request.get_json()["body"]]))
            return jsonify(title=str(model.predict(tokens)[0]))
    """,
}

EXPECTED_PAIRS = {
    ("issue_summarization/Dockerfile.train", "issue_summarization/serve/server.py"),
}
EXPECTED_ROWS = {
    (
        "drift",
        "DA107",
        "ktext",
        "issue_summarization/serve/requirements.txt",
        line_of(SERVE_REQUIREMENTS, "ktext"),
    ),
    (
        "leftover",
        "DA106",
        "pandas",
        "issue_summarization/serve/requirements.txt",
        line_of(SERVE_REQUIREMENTS, "pandas=="),
    ),
}


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> CheckResult:
    repo = build(
        tmp_path_factory.mktemp("f7") / "examples",
        [("Issue summarization example", dedent(FILES))],
    )
    return check(repo)


def test_check_succeeds(result: CheckResult) -> None:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_one_pair(result: CheckResult) -> None:
    found, unexpected = result.anchored_pairs(EXPECTED_PAIRS)
    assert (found, unexpected, len(result.pairs)) == (EXPECTED_PAIRS, [], 1), result.explain()


def test_exact_package_and_runtime_leftovers_and_drift(result: CheckResult) -> None:
    assert result.rows() == EXPECTED_ROWS, result.explain()


def test_ktext_is_drift_with_training_pin_not_shared(result: CheckResult) -> None:
    ktext = [(f["status"], f["training"], f["serving"]) for f in result.about("ktext")]
    assert ktext == [("drift", "0.34", "*")], result.explain()


def test_pandas_evidence_is_the_training_script(result: CheckResult) -> None:
    pandas = [f for f in result.about("pandas") if f["status"] == "leftover"]
    assert len(pandas) == 1 and "issue_summarization/train.py" in pandas[0]["evidence"], (
        result.explain()
    )


def test_dill_is_undeclared_in_serving(result: CheckResult) -> None:
    undeclared = [
        (f["status"], f["item"], f["file"]) for f in result.findings if f["rule"] == "DA204"
    ]
    assert undeclared == [("drift", "dill", "issue_summarization/serve/server.py")], (
        result.explain()
    )


def test_what_serving_uses_is_not_a_leftover(result: CheckResult) -> None:
    assert not result.items("leftover") & {"joblib", "numpy", "flask", "gunicorn", "ktext"}, (
        result.explain()
    )
