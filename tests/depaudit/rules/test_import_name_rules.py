"""DA202 / DA204 / DA205 on namespace packages and renamed modules, as ML services import them."""

from __future__ import annotations

import textwrap

from depaudit.collectors.sources.python_code import SOURCE
from depaudit.knowledge import builtin
from depaudit.model import (
    CodeModule,
    ConfigEntry,
    Entrypoint,
    EnvironmentSnapshot,
    Fact,
    Finding,
    Package,
    Role,
)
from depaudit.rules.training_library_in_serving_code import RULE as DA202
from depaudit.rules.training_only_usage_in_serving import RULE as DA106
from depaudit.rules.undeclared_serving_import import RULE as DA204
from depaudit.rules.unpinned_in_serving import RULE as DA107
from depaudit.rules.unused_serving_dependency import RULE as DA205
from depaudit.rules.view import PairView


def code(path: str, text: str) -> CodeModule:
    (fact,) = SOURCE.parse(textwrap.dedent(text).lstrip("\n"), path).facts
    assert isinstance(fact, CodeModule), fact
    return fact


def requirements(side: str, *names: str) -> list[Package]:
    return [
        Package(name=n, file=f"{side}/requirements.txt", line=i, origin="declared")
        for i, n in enumerate(names, start=1)
    ]


def context(serving: list[Fact], training: list[Fact] | None = None) -> PairView:
    def snap(role: Role, facts: list[Fact]) -> EnvironmentSnapshot:
        return EnvironmentSnapshot(name=role, role=role, origin="convention", facts=tuple(facts))

    entry = Entrypoint("uvicorn serving.app:app --port 8080", "serving/Dockerfile", 9)
    return PairView.of(
        snap("training", training or []), snap("serving", [*serving, entry]), builtin(), {}
    )


def run(rule: object, ctx: PairView) -> list[Finding]:
    return list(rule.check(ctx))  # type: ignore[attr-defined]


# Field test 2026-12-04 #3: a model server that loads its model from GCS and speaks protobuf,
# next to a training job that reads BigQuery.
TRAIN = code(
    "training/train.py",
    """
    from google.cloud import bigquery
    client = bigquery.Client()
    """,
)
SERVING_APP = code(
    "serving/app.py",
    """
    from google.protobuf import message
    from google.cloud import storage
    import google.auth
    from serving import model_loader
    """,
)
MODEL_LOADER = code(
    "serving/model_loader.py",
    """
    from google.cloud.storage import Blob
    """,
)


def test_protobuf_storage_and_auth_are_not_the_bigquery_warehouse() -> None:
    ctx = context(
        [SERVING_APP, MODEL_LOADER, *requirements("serving", "protobuf", "google-cloud-storage")],
        [TRAIN, *requirements("training", "google-cloud-bigquery")],
    )
    assert run(DA202, ctx) == []


def test_bigquery_in_serving_is_named_by_its_module_not_the_namespace() -> None:
    app = code(
        "serving/app.py",
        """
        from google.protobuf import message
        from google.cloud import bigquery
        """,
    )
    ctx = context([app, *requirements("serving", "protobuf", "google-cloud-bigquery")])
    (f,) = run(DA202, ctx)
    assert (f.item, f.status, f.file, f.line) == (
        "google.cloud.bigquery",
        "leftover",
        "serving/app.py",
        2,
    )
    assert "BigQuery" in f.message and "serving/app.py:1" not in f.message


def test_undeclared_import_is_judged_per_module_inside_a_namespace() -> None:
    app = code(
        "serving/app.py",
        """
        import google
        from google.protobuf import json_format
        from google.cloud import storage
        from google.cloud import secretmanager
        from google.cloud import bigquery
        import google.auth
        from google.api_core import retry
        """,
    )
    ctx = context([app, *requirements("serving", "protobuf", "google-cloud-storage")])
    found = [(f.item, f.line, f.message.split(", but")[0]) for f in run(DA204, ctx)]
    # storage and protobuf are declared, and google-auth / google-api-core come with the
    # storage client; the bare namespace is nobody's package to declare; bigquery is DA202's
    # "remove it", not also "declare it"
    assert found == [
        (
            "google-cloud-secret-manager",
            4,
            "serving code imports google.cloud.secretmanager at serving/app.py:4",
        ),
    ]
    assert [f.item for f in run(DA202, ctx)] == ["google.cloud.bigquery"]
    # without the storage client, google.auth is an import nothing declared installs
    alone = context([app, *requirements("serving", "protobuf", "google-cloud-secret-manager")])
    assert [(f.item, f.line) for f in run(DA204, alone)] == [
        ("google-api-core", 7),
        ("google-auth", 6),
        ("google-cloud-storage", 3),
    ]


def test_declared_namespace_distributions_are_recognised_as_imported() -> None:
    # the old guess joined import segments with "-" and missed every one of these
    app = code(
        "serving/app.py",
        """
        from azure.storage.fileshare import ShareClient
        import vertexai
        from opentelemetry.semconv.trace import SpanAttributes
        from databricks import sql
        import cv2
        """,
    )
    declared = requirements(
        "serving",
        "azure-storage-file-share",
        "google-cloud-aiplatform",
        "opentelemetry-semantic-conventions",
        "databricks-sql-connector",
        "opencv-python-headless",
        "azure-storage-blob",
    )
    ctx = context([app, *declared])
    assert [f.item for f in run(DA205, ctx)] == ["azure-storage-blob"]
    assert run(DA204, ctx) == []


def test_leftovers_from_a_copied_requirements_file_are_named_by_their_real_distribution() -> None:
    # a course project: requirements_inference.txt copied from training's, the API runs only
    # the ONNX model; hydra (hydra-core) and omegaconf configure the training job
    train = code(
        "training/train.py",
        """
        import hydra
        from omegaconf import DictConfig
        from kubeflow import fairing
        import sklearn.metrics
        """,
    )
    app = code(
        "serving/app.py",
        """
        import onnxruntime
        from fastapi import FastAPI
        import cv2
        app = FastAPI()
        """,
    )
    declared = requirements(
        "serving",
        "hydra-core",
        "omegaconf",
        "kubeflow-fairing",
        "scikit-learn",
        "onnxruntime",
        "fastapi",
        "opencv-python-headless",
    )
    trained = requirements(
        "training", "hydra-core", "omegaconf", "kubeflow-fairing", "scikit-learn"
    )
    ctx = context([app, *declared], [train, *trained])
    found = {f.item: f.evidence for f in run(DA106, ctx)}
    assert found == {
        "hydra-core": "imported by training code at training/train.py:1 (import hydra)",
        "omegaconf": "imported by training code at training/train.py:2 (import omegaconf.DictConfig)",
        "kubeflow-fairing": "imported by training code at training/train.py:3 (import kubeflow.fairing)",
        "scikit-learn": "imported by training code at training/train.py:4 (import sklearn.metrics)",
    }
    # opencv-python-headless provides cv2: used by serving, neither a leftover nor unused
    assert run(DA205, ctx) == []


# issue 11, F7: what training pickles decides which libraries an unpickling server needs
def _unpickling_pair(training_pickles: str) -> PairView:
    train = code(
        "training/train.py",
        f"""
        import dill
        import pandas as pd
        from ktext.preprocess import processor
        from sklearn.linear_model import LogisticRegression


        def main(path, given):
            issues = pd.read_csv(path)
            body_pp = processor(keep_n=8000)
            model = LogisticRegression()
            dill.dump({training_pickles}, open("out.dpkl", "wb"))
        """,
    )
    app = code(
        "serving/app.py",
        """
        import dill
        from fastapi import FastAPI
        app = FastAPI()
        body_pp = dill.load(open("body_pp.dpkl", "rb"))
        """,
    )
    declared = requirements("serving", "fastapi", "dill", "ktext", "pandas", "scikit-learn")
    trained = [
        Package(name="ktext", file="training/Dockerfile", line=3, origin="declared",
                specifier="==0.34", version="0.34"),
        *requirements("training", "pandas", "scikit-learn", "dill"),
    ]  # fmt: skip
    return context([app, *declared], [train, *trained])


def test_the_library_of_what_training_pickles_is_needed_by_serving_the_rest_is_a_leftover() -> None:
    ctx = _unpickling_pair("body_pp")
    # ktext made the pickled object: serving needs it (and its version: DA107, not DA106);
    # everything training pickles is traced, so pandas and scikit-learn are leftovers
    assert {f.item for f in run(DA106, ctx)} == {"pandas", "scikit-learn"}
    (drift,) = [f for f in run(DA107, ctx) if f.item == "ktext"]
    assert drift.severity == "medium"
    assert drift.evidence == (
        "training pins it at training/Dockerfile:3; training pickles "
        "ktext.preprocess.processor objects (training/train.py:11) and serving unpickles"
    )


def test_untraced_pickles_keep_every_inference_library_out() -> None:
    # a parameter is pickled: the model may be made of any inference library
    ctx = _unpickling_pair("given")
    assert {f.item for f in run(DA106, ctx)} == {"ktext"}


# issue 11, F2: a Hydra plugin is selected by a config file, never imported
def test_a_plugin_a_config_selects_is_used_by_that_side() -> None:
    selects = ConfigEntry(
        "defaults[0].override hydra/job_logging", "colorlog", "configs/train.yaml", 2
    )
    train = code("training/train.py", "import hydra\n")
    app = code("serving/app.py", "from fastapi import FastAPI\napp = FastAPI()\n")
    declared = requirements("serving", "fastapi", "hydra-colorlog", "hydra-joblib-launcher")
    ctx = context([app, *declared], [train, selects])
    found = {f.item: f.evidence for f in run(DA106, ctx)}
    assert found == {
        "hydra-colorlog": "used by training's config at configs/train.yaml:2 "
        "(config selects hydra/job_logging: colorlog)"
    }
    # nobody selects the joblib launcher: the low "nobody uses it"
    assert [f.item for f in run(DA205, ctx)] == ["hydra-joblib-launcher"]
    # serving's own config selecting the plugin makes it used by serving
    serving_selects = ConfigEntry(
        "defaults[0].hydra/job_logging", "colorlog", "serving/conf.yaml", 1
    )
    ctx = context([app, serving_selects, *declared], [train, selects])
    assert run(DA106, ctx) == []


def test_a_plugin_serving_config_selects_is_not_unused() -> None:
    selects = ConfigEntry("defaults[0].hydra/job_logging", "colorlog", "serving/conf.yaml", 1)
    app = code("serving/app.py", "from fastapi import FastAPI\napp = FastAPI()\n")
    declared = requirements("serving", "fastapi", "hydra-colorlog")
    assert run(DA205, context([app, selects, *declared])) == []
    assert [f.item for f in run(DA205, context([app, *declared]))] == ["hydra-colorlog"]
