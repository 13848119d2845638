"""A Vertex AI template whose only serving is a managed endpoint's prebuilt container.

Shaped after GoogleCloudPlatform/mlops-with-vertex-ai: one root ``Dockerfile`` (the TFX
image the pipelines run in) and ``requirements.txt`` (kfp, BigQuery, pytest), training code
under ``src/``, notebooks, and ``build/utils.py`` that creates a Vertex AI endpoint and
deploys the model to it in a prebuilt TensorFlow serving container. Run before this
fixture existed, the deploy script made the root's shared files a derived serving side:
four pairs and nine rows (kfp, BigQuery, pytest "installed in serving", TFX imports
"undeclared in serving") about an image that never serves. Nothing of the repository is
installed where the model is served, so nothing is compared, and ``check`` says why. An
app of the repository's own beside the same files still derives its serving side.
"""

from __future__ import annotations

import pytest

from tests.realworld.rwcheck import CheckResult, build, check, dedent, notebook

DEPLOY = """
    from google.cloud import aiplatform as vertex_ai

    SERVING_IMAGE = "us-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-5:latest"


    def create_endpoint(project, region, name):
        vertex_ai.init(project=project, location=region)
        return vertex_ai.Endpoint.create(display_name=name)


    def deploy_model(project, region, endpoint, model_uri):
        model = vertex_ai.Model.upload(
            display_name="chicago-taxi-tips",
            artifact_uri=model_uri,
            serving_container_image_uri=SERVING_IMAGE,
        )
        model.deploy(endpoint=endpoint, machine_type="n1-standard-2")
"""

TEMPLATE = {
    "README.md": "# MLOps with Vertex AI\n",
    "Dockerfile": (
        "FROM gcr.io/tfx-oss-public/tfx:1.2.0\nCOPY requirements.txt requirements.txt\n"
        "RUN pip install -r requirements.txt\nCOPY src/ src/\nENV PYTHONPATH=/pipeline:${PYTHONPATH}\n"
    ),
    "requirements.txt": (
        "kfp==1.6.1\ngoogle-cloud-bigquery==2.20.0\ngoogle-cloud-aiplatform==1.4.2\npytest\n"
    ),
    "src/__init__.py": "",
    "src/model_training/__init__.py": "",
    "src/model_training/task.py": "import hypertune\nimport tensorflow as tf\n",
    "src/tfx_pipelines/__init__.py": "",
    "src/tfx_pipelines/runner.py": "import kfp\nfrom tfx.orchestration import pipeline\n",
    "build/utils.py": DEPLOY,
    "01-dataset-management.ipynb": notebook("from google.cloud import bigquery"),
}

WITH_AN_APP = {
    **TEMPLATE,
    "app.py": """
        from fastapi import FastAPI

        app = FastAPI()
    """,
}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> CheckResult:
    repo = build(tmp_path_factory.mktemp("vertex") / "tmpl", [("Template", dedent(TEMPLATE))])
    return check(repo)


@pytest.fixture(scope="module")
def with_an_app(tmp_path_factory: pytest.TempPathFactory) -> CheckResult:
    repo = build(tmp_path_factory.mktemp("app") / "tmpl", [("With an app", dedent(WITH_AN_APP))])
    return check(repo)


def test_nothing_is_compared_with_a_prebuilt_serving_container(template: CheckResult) -> None:
    assert template.returncode == 0, template.stderr
    assert (template.pairs, template.findings) == ([], []), template.explain()


def test_check_says_the_managed_endpoint_serves(template: CheckResult) -> None:
    reasons = set(template.assignment.unpaired.values())
    assert reasons == {
        "no serving environment in the repository: the model is served by a managed "
        "endpoint's prebuilt container (Vertex AI model upload:model defined here in "
        "build/utils.py), nothing of the repository is installed there"
    }, template.explain()


def test_an_app_of_its_own_is_still_compared(with_an_app: CheckResult) -> None:
    assert with_an_app.pairs, with_an_app.explain()
    assert with_an_app.env_holding("app.py", "serving"), with_an_app.explain()
    assert "kfp" in with_an_app.items("leftover"), with_an_app.explain()
