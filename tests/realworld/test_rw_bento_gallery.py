"""A gallery of BentoML 0.x examples: a notebook and a BentoService in each folder.

Shaped after bentoml/gallery (2019-2021 history): ``<framework>/<example>/`` holds a
notebook that installs and trains (``!pip install bentoml scikit-learn==0.24.1``) and a
module whose ``BentoService`` subclass is the serving side, declaring what its bundle
installs with ``@bentoml.env(pip_dependencies=[...])`` and packing the model in an artifact
(``SklearnModelArtifact``) whose framework loads it. Run before this fixture existed, no
service was recognised: 19 notebooks "compared with nothing", no finding. Now each
example folder derives its own serving side (paired with that folder's notebook only), the
decorator's list is serving's packages (bentoml itself included), and the artifact's
framework counts as used by serving.
"""

from __future__ import annotations

import pytest

from tests.realworld.rwcheck import CheckResult, build, check, dedent, notebook

SENTIMENT_SERVICE = """
    import pandas as pd
    import bentoml
    from bentoml.artifact import SklearnModelArtifact
    from bentoml.handlers import DataframeHandler


    @bentoml.artifacts([SklearnModelArtifact("model")])
    @bentoml.env(pip_dependencies=["scikit-learn==0.22.1", "pandas"])
    class SentimentAnalysisService(bentoml.BentoService):
        @bentoml.api(DataframeHandler, typ="series")
        def predict(self, series):
            return self.artifacts.model.predict(series)
"""

PET_SERVICE = """
    from bentoml import BentoService, api, artifacts, env
    from bentoml.artifact import FastaiModelArtifact
    from bentoml.handlers import FastaiImageHandler


    @env(pip_dependencies=["fastai"])
    @artifacts([FastaiModelArtifact("pet_classifier")])
    class PetClassification(BentoService):
        @api(FastaiImageHandler)
        def predict(self, image):
            return str(self.artifacts.pet_classifier.predict(image))
"""

GALLERY = {
    "README.md": "# BentoML gallery\n",
    "scikit-learn/sentiment-analysis/sklearn-sentiment-analysis.ipynb": notebook(
        "!pip install bentoml scikit-learn==0.24.1 pandas",
        "import pandas as pd\nfrom sklearn.linear_model import LogisticRegression",
        "from sentiment_analysis_service import SentimentAnalysisService",
    ),
    "scikit-learn/sentiment-analysis/sentiment_analysis_service.py": SENTIMENT_SERVICE,
    "fast-ai/pet-image-classification/fast-ai-pet-image-classification.ipynb": notebook(
        "!pip install bentoml fastai==1.0.57",
        "from fastai.vision import *",
        "from pet_classification import PetClassification",
    ),
    "fast-ai/pet-image-classification/pet_classification.py": PET_SERVICE,
    # an example without a service: its notebook pairs with nothing
    "tensorflow/echo/tensorflow-echo.ipynb": notebook(
        "!pip install tensorflow==2.1.0", "import tensorflow as tf"
    ),
}

SENTIMENT = (
    "scikit-learn/sentiment-analysis/sklearn-sentiment-analysis.ipynb",
    "scikit-learn/sentiment-analysis/sentiment_analysis_service.py",
)
PETS = (
    "fast-ai/pet-image-classification/fast-ai-pet-image-classification.ipynb",
    "fast-ai/pet-image-classification/pet_classification.py",
)


@pytest.fixture(scope="module")
def gallery(tmp_path_factory: pytest.TempPathFactory) -> CheckResult:
    repo = build(tmp_path_factory.mktemp("bento") / "gallery", [("Gallery", dedent(GALLERY))])
    return check(repo)


def test_each_example_pairs_its_notebook_with_its_service(gallery: CheckResult) -> None:
    assert gallery.returncode == 0, gallery.stderr
    expected = {SENTIMENT, PETS}
    found, unexpected = gallery.anchored_pairs(expected)
    assert (found, unexpected, len(gallery.pairs)) == (expected, [], 2), gallery.explain()
    (echo,) = gallery.env_holding("tensorflow/echo/tensorflow-echo.ipynb", "training")
    assert echo in gallery.assignment.unpaired, gallery.explain()


def test_the_service_decorator_is_servings_packages(gallery: CheckResult) -> None:
    drift = {
        (f["rule"], f["item"], f["training"], f["serving"], f["file"], f["line"])
        for f in gallery.findings
        if f["status"] == "drift" and f["kind"] == "package"
    }
    assert drift == {
        # the artifact loads the model with fastai: training's pin is serving's need
        (
            "DA107",
            "fastai",
            "1.0.57",
            "*",
            "fast-ai/pet-image-classification/pet_classification.py",
            6,
        ),
        (
            "DA102",
            "scikit-learn",
            "0.24.1",
            "0.22.1",
            "scikit-learn/sentiment-analysis/sentiment_analysis_service.py",
            8,
        ),
    }, gallery.explain()


def test_the_artifacts_framework_and_bentoml_are_neither_undeclared_nor_leftovers(
    gallery: CheckResult,
) -> None:
    wrong = [
        (f["rule"], f["item"])
        for f in gallery.findings
        if f["item"] in ("bentoml", "fastai")
        and (f["status"] == "leftover" or f["rule"] == "DA204")
    ]
    assert wrong == [], gallery.explain()


def test_each_notebook_holds_only_its_own_folders_code(gallery: CheckResult) -> None:
    (sentiment,) = gallery.env_holding(SENTIMENT[0], "training")
    assert gallery.env_holding(SENTIMENT[1], "training") == [sentiment], gallery.explain()
