"""F10: an examples collection whose examples hold deployment folders and component trees.

Shaped after kubeflow/examples: an example has a Flask UI (``ui/app.py`` with its own
requirements and a ``Dockerfile.ui``), a training image (``Dockerfile.training``),
notebooks, and a ksonnet deployment folder (``ks_app/``: ``app.yaml`` and jsonnet
components, no Python). Another example keeps a ``pipelines/`` folder whose
``components/`` tree holds a container pair (``containers/t2t_train`` and
``containers/t2t_app``).

Two placement mistakes this fixture pins down:
- ``ui/app.py`` is the UI's serving side; a deployment folder named ``*_app`` next to it
  does not swallow it (code joins a side only when it lies in that side's folder);
- a training folder that also holds a serving side (``pipelines/…/t2t_app``) is a
  collection of projects, so the container pair below it stays a pair of its own.
"""

from __future__ import annotations

import pytest

from tests.realworld.rwcheck import CheckResult, build, check, dedent, line_of, notebook

UI_REQUIREMENTS = """
    flask==2.3.3
    tensor2tensor==1.15.7
    tensorflow==2.13.0
"""

T2T_APP_REQUIREMENTS = """
    flask==2.3.3
    tensorflow-serving-api==2.13.0
    jupyter==1.0.0
"""

FILES = {
    "README.md": "# Examples: one folder per example\n",
    # ------------------------------------------------------------------ yelp: UI + training
    "yelp/Dockerfile.training": """
        FROM tensorflow/tensorflow:2.13.0
        RUN pip install tensor2tensor==1.15.7 tensorflow==2.13.0
        COPY yelp_sentiment /app/yelp_sentiment
        CMD ["t2t-trainer", "--problem=yelp"]
    """,
    "yelp/Dockerfile.ui": """
        FROM python:3.10-slim
        COPY ui /app
        RUN pip install -r /app/requirements.txt
        CMD ["python", "/app/app.py"]
    """,
    "yelp/ui/requirements.txt": UI_REQUIREMENTS,
    "yelp/ui/app.py": """
        import tensorflow as tf
        from flask import Flask
        from tensor2tensor.serving import serving_utils

        app = Flask(__name__)
    """,
    "yelp/notebooks/yelp.ipynb": notebook("import pandas as pd\nimport tensorflow as tf"),
    "yelp/yelp_sentiment/__init__.py": "from . import problem\n",
    "yelp/yelp_sentiment/problem.py": "from tensor2tensor.data_generators import problem\n",
    "yelp/ks_app/app.yaml": """
        apiVersion: 0.3.0
        kind: ksonnet.io/app
        name: ks_app
    """,
    "yelp/ks_app/components/params.libsonnet": "{ global: {}, components: {} }\n",
    "yelp/ks_app/components/ui.jsonnet": "local params = std.extVar('__ksonnet/params');\n",
    # -------------------------------------------------- summarize: components/containers pair
    "summarize/pipelines/pipeline.py": """
        import kfp.dsl as dsl


        @dsl.pipeline(name="summarize")
        def pipeline() -> None:
            pass
    """,
    "summarize/pipelines/components/t2t/containers/t2t_train/Dockerfile": """
        FROM tensorflow/tensorflow:2.13.0
        RUN pip install tensor2tensor==1.15.7
        COPY train.py /train.py
        CMD ["python", "/train.py"]
    """,
    "summarize/pipelines/components/t2t/containers/t2t_train/train.py": """
        import tensor2tensor
    """,
    "summarize/pipelines/components/t2t/containers/t2t_app/Dockerfile": """
        FROM python:3.10-slim
        COPY . /app
        RUN pip install -r /app/requirements.txt
        CMD ["python", "/app/app.py"]
    """,
    "summarize/pipelines/components/t2t/containers/t2t_app/requirements.txt": (
        T2T_APP_REQUIREMENTS
    ),
    "summarize/pipelines/components/t2t/containers/t2t_app/app.py": """
        from flask import Flask
        import tensorflow_serving

        app = Flask(__name__)
    """,
}

T2T = "summarize/pipelines/components/t2t/containers"

EXPECTED_PAIRS = {
    ("yelp/Dockerfile.training", "yelp/ui/app.py"),
    ("yelp/notebooks/yelp.ipynb", "yelp/ui/app.py"),
    (f"{T2T}/t2t_train/train.py", f"{T2T}/t2t_app/app.py"),
}


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> CheckResult:
    repo = build(tmp_path_factory.mktemp("f10") / "examples", [("Examples", dedent(FILES))])
    return check(repo)


def test_check_succeeds(result: CheckResult) -> None:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_ui_and_container_pairs_and_nothing_else(result: CheckResult) -> None:
    found, unexpected = result.anchored_pairs(EXPECTED_PAIRS)
    assert (found, unexpected) == (EXPECTED_PAIRS, []), result.explain()


def test_the_deployment_folder_does_not_take_the_ui_code(result: CheckResult) -> None:
    holders = [e for e in result.assignment.environments.values() if "yelp/ui/app.py" in e.files]
    assert len(holders) == 1 and all("ks_app/app.yaml" not in f for f in holders[0].files), (
        result.explain()
    )


def test_exact_package_and_runtime_leftovers_and_drift(result: CheckResult) -> None:
    text = dedent(FILES)[f"{T2T}/t2t_app/requirements.txt"]
    assert isinstance(text, str)
    assert result.rows() == {
        (
            "leftover",
            "DA101",
            "jupyter",
            f"{T2T}/t2t_app/requirements.txt",
            line_of(text, "jupyter"),
        ),
        ("drift", "DA502", "os", f"{T2T}/t2t_app/Dockerfile", 1),
        ("drift", "DA502", "os", "yelp/Dockerfile.ui", 1),
    }, result.explain()


def test_the_ui_dockerfile_builds_the_ui_image_only(result: CheckResult) -> None:
    """``COPY ui /app`` + ``CMD python /app/app.py`` runs ``ui/app.py``: the image is the
    UI's, and its ``-r /app/requirements.txt`` reads ``ui/requirements.txt``."""
    holders = [
        e.name for e in result.assignment.environments.values() if "yelp/Dockerfile.ui" in e.files
    ]
    assert holders == result.env_holding("yelp/ui/app.py", "serving"), result.explain()
    assert result.errors() == [], result.explain()
    assert "flask" in {f["item"] for f in result.findings if f["serving_env"] == holders[0]}


def test_the_container_training_side_is_not_the_pipelines_folder(result: CheckResult) -> None:
    container = result.env_holding(f"{T2T}/t2t_train/train.py", "training")
    pipelines = result.env_holding("summarize/pipelines/pipeline.py", "training")
    assert len(container) == 1 and container != pipelines, result.explain()
