"""A dependency file in a project folder is both sides' unless the files say otherwise.

One ``requirements.txt`` beside a training script and an API is installed by both (the
training job runs ``pip install -r requirements.txt`` too: nothing in the tree says it
does not). But when the serving image installs the project folder's ``Pipfile`` /
``Pipfile.lock`` and the notebook installs what it trains with by itself (``!pip install
scikit-learn==1.2.2``), the Pipfile is serving's alone (issue 11, F4: shaped after
mlbookcamp-code's deployment chapter).
"""

from __future__ import annotations

import json

from depaudit.collectors.snapshot import snapshot_tree
from tests.collectors.test_snapshot_includes import MemoryTree


def _notebook(*cells: str) -> str:
    return json.dumps(
        {
            "cells": [
                {"cell_type": "code", "metadata": {}, "source": [c], "outputs": []} for c in cells
            ],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


DOCKERFILE = """
    FROM python:3.11-slim
    RUN pip install pipenv
    WORKDIR /app
    COPY ["Pipfile", "Pipfile.lock", "./"]
    RUN pipenv install --system --deploy
    COPY predict.py model.bin ./
    ENTRYPOINT ["gunicorn", "--bind=0.0.0.0:9696", "predict:app"]
"""
PREDICT = """
    import pickle
    from flask import Flask
    app = Flask("churn")
"""
PIPFILE = """
    [packages]
    scikit-learn = "*"
    flask = "*"
"""


def files_of(tree: dict[str, str]) -> dict[str, set[str]]:
    snap = snapshot_tree(MemoryTree(tree))
    return {e.role + ":" + e.name: {a.path for a in e.files} for e in snap.environments}


def test_a_notebook_that_installs_its_own_packages_does_not_hold_the_served_pipfile() -> None:
    envs = files_of(
        {
            "churn/notebook.ipynb": _notebook(
                "!pip install -q scikit-learn==1.2.2", "import sklearn\nimport pickle"
            ),
            "churn/Pipfile": PIPFILE,
            "churn/Dockerfile": DOCKERFILE,
            "churn/predict.py": PREDICT,
        }
    )
    training = next(v for k, v in envs.items() if k.startswith("training:"))
    serving = next(v for k, v in envs.items() if k.startswith("serving:"))
    assert training == {"churn/notebook.ipynb"}
    assert {"churn/Pipfile", "churn/Dockerfile", "churn/predict.py"} <= serving


def test_without_installs_of_its_own_the_training_side_keeps_the_shared_file() -> None:
    envs = files_of(
        {
            "churn/notebook.ipynb": _notebook("import sklearn\nimport pickle"),
            "churn/Pipfile": PIPFILE,
            "churn/Dockerfile": DOCKERFILE,
            "churn/predict.py": PREDICT,
        }
    )
    training = next(v for k, v in envs.items() if k.startswith("training:"))
    assert "churn/Pipfile" in training
