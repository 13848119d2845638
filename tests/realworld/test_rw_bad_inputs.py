"""Bad inputs found in real ML repositories, each in an otherwise healthy training x serving
repository: a notebook that is not JSON (a committed merge conflict), a notebook cell that
is not Python 3, a base image no table knows (a private registry; an NGC release the
base-image table does not list), and requirements files that include each other.

Each gives exactly one ``error`` finding naming the file (one line, once — not once per
pair), or, for an unknown image, no error and no invented version; the rest of the audit
still completes with the exact leftover / drift rows of the healthy part.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from tests.realworld.rwcheck import CheckResult, build, check, dedent, line_of, notebook

TRAINING_REQUIREMENTS = """
    pandas==2.1.4
    scikit-learn==1.3.2
    optuna==3.5.0
"""
SERVING_REQUIREMENTS = """
    scikit-learn==1.3.2
    fastapi==0.110.0
    uvicorn==0.29.0
    optuna==3.5.0
"""
HEALTHY: dict[str, str] = {
    "README.md": "# fraud model\n",
    "training/requirements.txt": TRAINING_REQUIREMENTS,
    "training/train.py": """
        import joblib
        import optuna
        import pandas as pd
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.model_selection import cross_val_score


        def objective(trial: optuna.Trial) -> float:
            df = pd.read_parquet("data/train.parquet")
            model = RandomForestClassifier(max_depth=trial.suggest_int("max_depth", 2, 16))
            return cross_val_score(model, df.drop(columns=["y"]), df["y"]).mean()


        if __name__ == "__main__":
            study = optuna.create_study(direction="maximize")
            study.optimize(objective, n_trials=20)
            joblib.dump(study.best_params, "best_params.joblib")
    """,
    "serving/requirements.txt": SERVING_REQUIREMENTS,
    "serving/Dockerfile": """
        FROM python:3.11-slim
        WORKDIR /srv
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY app.py model.joblib ./
        CMD ["uvicorn", "app:app", "--host", "0.0.0.0"]
    """,
    "serving/app.py": """
        import joblib
        from fastapi import FastAPI

        app = FastAPI()
        model = joblib.load("model.joblib")


        @app.post("/predict")
        def predict(x: list[float]) -> dict[str, int]:
            return {"fraud": int(model.predict([x])[0])}
    """,
}
# what the healthy part must still report, whatever else is broken
OPTUNA_LEFTOVER = (
    "leftover",
    "DA101",
    "optuna",
    "serving/requirements.txt",
    line_of(SERVING_REQUIREMENTS, "optuna=="),
)

# ---------------------------------------------------------------- 1. notebook not JSON
CONFLICTED_NOTEBOOK = """{
 "cells": [
  {
   "cell_type": "code",
<<<<<<< HEAD
   "execution_count": 3,
=======
   "execution_count": 7,
>>>>>>> feature/eda
   "metadata": {},
   "outputs": [],
   "source": ["import seaborn as sns\\n"]
  }
 ],
 "nbformat": 4,
 "nbformat_minor": 5
}
"""

# ---------------------------------------------------- 2. a cell that is not Python 3
PY2_NOTEBOOK = notebook(
    ("markdown", "# EDA"),
    """
    import matplotlib.pyplot as plt
    import pandas as pd
    """,
    """
    df = pd.read_parquet("../data/train.parquet")
    print "rows:", len(df)
    """,
    """
    df["amount"].hist(bins=50)
    plt.show()
    """,
)

# ----------------------------------------------------------- 3. unknown base images
PRIVATE_IMAGE_DOCKERFILE = """
    FROM registry.acme.internal/ml/py-runtime:2024.03
    WORKDIR /srv
    COPY requirements.txt .
    RUN pip install --no-cache-dir -r requirements.txt
    COPY app.py model.joblib ./
    CMD ["uvicorn", "app:app", "--host", "0.0.0.0"]
"""
UNLISTED_NGC_DOCKERFILE = """
    FROM nvcr.io/nvidia/pytorch:22.04-py3
    WORKDIR /srv
    COPY requirements.txt .
    RUN pip install --no-cache-dir -r requirements.txt
    COPY app.py model.joblib ./
    CMD ["uvicorn", "app:app", "--host", "0.0.0.0"]
"""

# -------------------------------------------------------------- 4. circular -r
SERVING_CIRCULAR = """
    -r requirements-base.txt
    fastapi==0.110.0
    uvicorn==0.29.0
    optuna==3.5.0
"""
SERVING_BASE_CIRCULAR = """
    # shared pins; also pulls the service file (a copy-paste mistake)
    -r requirements.txt
    scikit-learn==1.3.2
"""


def _repo(
    tmp_path_factory: pytest.TempPathFactory, name: str, extra: Mapping[str, str | bytes]
) -> CheckResult:
    files: dict[str, str | bytes] = {**dedent(HEALTHY), **extra}
    repo = build(tmp_path_factory.mktemp(name) / "fraud-model", [("Model and API", files)])
    return check(repo)


@pytest.fixture(scope="module")
def not_json(tmp_path_factory: pytest.TempPathFactory) -> CheckResult:
    return _repo(tmp_path_factory, "notjson", {"training/notebooks/eda.ipynb": CONFLICTED_NOTEBOOK})


@pytest.fixture(scope="module")
def py2_cell(tmp_path_factory: pytest.TempPathFactory) -> CheckResult:
    return _repo(tmp_path_factory, "py2", {"training/notebooks/eda.ipynb": PY2_NOTEBOOK})


@pytest.fixture(scope="module")
def private_image(tmp_path_factory: pytest.TempPathFactory) -> CheckResult:
    extra = dedent({"serving/Dockerfile": PRIVATE_IMAGE_DOCKERFILE})
    return _repo(tmp_path_factory, "private", extra)


@pytest.fixture(scope="module")
def unlisted_ngc(tmp_path_factory: pytest.TempPathFactory) -> CheckResult:
    extra = dedent(
        {
            "serving/Dockerfile": UNLISTED_NGC_DOCKERFILE,
            "training/requirements.txt": TRAINING_REQUIREMENTS + "    torch==1.11.0\n",
        }
    )
    return _repo(tmp_path_factory, "ngc", extra)


@pytest.fixture(scope="module")
def circular(tmp_path_factory: pytest.TempPathFactory) -> CheckResult:
    extra = dedent(
        {
            "serving/requirements.txt": SERVING_CIRCULAR,
            "serving/requirements-base.txt": SERVING_BASE_CIRCULAR,
        }
    )
    return _repo(tmp_path_factory, "circular", extra)


def _one_line_errors(result: CheckResult) -> None:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    for _rule, _file, _line, message in result.errors():
        assert "\n" not in message


# ----------------------------------------------------------------------- not JSON


def test_notebook_that_is_not_json_is_one_error_naming_it(not_json: CheckResult) -> None:
    _one_line_errors(not_json)
    errors = not_json.errors()
    assert [(r, f) for r, f, _l, _m in errors] == [("DA900", "training/notebooks/eda.ipynb")], (
        not_json.explain()
    )
    assert "json" in errors[0][3].lower(), errors


def test_notebook_that_is_not_json_hides_nothing_else(not_json: CheckResult) -> None:
    assert not_json.rows() == {OPTUNA_LEFTOVER}, not_json.explain()
    assert len(not_json.pairs) == 1, not_json.explain()


# ------------------------------------------------------------------ invalid Python cell


def test_invalid_python_cell_is_one_error_at_its_line(py2_cell: CheckResult) -> None:
    _one_line_errors(py2_cell)
    bad_line = next(
        n for n, line in enumerate(PY2_NOTEBOOK.splitlines(), start=1) if 'print \\"rows' in line
    )
    errors = py2_cell.errors()
    assert [(r, f, line) for r, f, line, _m in errors] == [
        ("DA900", "training/notebooks/eda.ipynb", bad_line)
    ], py2_cell.explain()
    assert "cell 3" in errors[0][3], errors


def test_the_other_cells_still_count(py2_cell: CheckResult) -> None:
    """matplotlib is imported by cell 2, which parses: it is training code's import."""
    assert py2_cell.rows() == {OPTUNA_LEFTOVER}, py2_cell.explain()
    training = py2_cell.env_holding("training/notebooks/eda.ipynb", "training")
    assert training and training == py2_cell.env_holding("training/train.py", "training"), (
        py2_cell.explain()
    )


# ------------------------------------------------------------------ unknown base images


def test_private_base_image_is_no_error_and_implies_no_package(private_image: CheckResult) -> None:
    _one_line_errors(private_image)
    assert private_image.errors() == [], private_image.explain()
    from_line = [
        f
        for f in private_image.findings
        if f["kind"] == "package" and f["file"] == "serving/Dockerfile" and f["line"] == 1
    ]
    assert from_line == [], private_image.explain()


def test_private_base_image_rows(private_image: CheckResult) -> None:
    # the image differs from training's (none: training declares no image) -> nothing to
    # compare at the runtime level; the packages are as in the healthy repository
    assert private_image.rows() == {OPTUNA_LEFTOVER}, private_image.explain()


def test_unlisted_ngc_release_invents_no_torch_version(unlisted_ngc: CheckResult) -> None:
    _one_line_errors(unlisted_ngc)
    assert unlisted_ngc.errors() == [], unlisted_ngc.explain()
    torch = unlisted_ngc.about("torch")
    assert all(not f["serving"] or not f["serving"][0].isdigit() for f in torch), (
        unlisted_ngc.explain()
    )
    # no two known versions, so no DA102; no claim that they are the same either
    assert {f["rule"] for f in torch} & {"DA102", "DA104"} == set(), unlisted_ngc.explain()


def test_unlisted_ngc_release_rows(unlisted_ngc: CheckResult) -> None:
    # A full NGC training image serving is DA504 whatever its release. torch: training
    # pins 1.11.0, serving gets whatever build NGC 22.04 ships: the image fixes it but
    # nothing here says which, so "pinned in training, not pinned to it in serving"
    # (DA107) is what can be said, at the FROM line.
    assert unlisted_ngc.rows() == {
        OPTUNA_LEFTOVER,
        ("leftover", "DA504", "base_image", "serving/Dockerfile", 1),
        ("drift", "DA107", "torch", "serving/Dockerfile", 1),
    }, unlisted_ngc.explain()


# ------------------------------------------------------------------------ circular -r


def test_circular_include_is_one_error_naming_the_file(circular: CheckResult) -> None:
    _one_line_errors(circular)
    errors = circular.errors()
    assert len(errors) == 1, circular.explain()
    rule, file, line, message = errors[0]
    assert rule == "DA900" and file.startswith("serving/requirements"), errors
    assert "cycle" in message and line > 0, errors


def test_circular_include_keeps_both_files_packages(circular: CheckResult) -> None:
    assert circular.rows() == {
        (
            "leftover",
            "DA101",
            "optuna",
            "serving/requirements.txt",
            line_of(SERVING_CIRCULAR, "optuna=="),
        )
    }, circular.explain()
    sklearn = [(f["status"], f["file"]) for f in circular.about("scikit-learn")]
    assert sklearn == [("shared", "serving/requirements-base.txt")], circular.explain()
