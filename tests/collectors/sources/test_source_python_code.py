"""The Python code source: one CodeModule per file, read with ast, never executed."""

from __future__ import annotations

import textwrap

import pytest

from depaudit.collectors.sources.python_code import SOURCE, module_name
from depaudit.model import CodeModule, ImportRef, Include, Package, ParseError


def parse(text: str, path: str) -> CodeModule:
    facts = SOURCE.parse(textwrap.dedent(text), path).facts
    assert len(facts) == 1
    fact = facts[0]
    assert isinstance(fact, CodeModule), fact
    return fact


def names(mod: CodeModule) -> list[str]:
    return [i.name for i in mod.imports]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("serving/app.py", "serving.app"),
        ("serving/__init__.py", "serving"),
        ("src/mypkg/features.py", "mypkg.features"),
        ("services/api/src/api/app.py", "api.app"),
        ("serve.py", "serve"),
        ("my-scripts/run.py", None),
        ("notebooks/01_explore.py", None),
        ("pkg/class.py", None),
        ("README.md", None),
    ],
)
def test_module_name(path: str, expected: str | None) -> None:
    assert module_name(path) == expected


@pytest.mark.parametrize(
    ("path", "read"),
    [
        ("serving/app.py", True),
        ("training/train.py", True),
        ("tests/test_app.py", False),
        ("serving/tests/helpers.py", False),
        ("serving/test_app.py", False),
        ("serving/app_test.py", False),
        ("conftest.py", False),
        ("setup.py", False),  # a program: never read, never run
        ("serving/app.pyc", False),
        ("serving/app.txt", False),
    ],
)
def test_matches(path: str, read: bool) -> None:
    assert SOURCE.matches(path) is read


def test_fastapi_app_imports_calls_and_app_object() -> None:
    mod = parse(
        '''
        """Prediction API."""
        from __future__ import annotations

        import logging
        import numpy as np
        from fastapi import FastAPI
        from sklearn.model_selection import train_test_split as tts
        import wandb

        from common.features import preprocess

        app = FastAPI(title="churn")
        log = logging.getLogger(__name__)


        @app.post("/predict")
        def predict(payload: dict) -> dict:
            wandb.init(project="churn")
            x = preprocess(payload)
            a, b = tts(x)
            scaler.fit_transform(x)
            make_model().fit(x)
            model.predict(x)
            return {"y": np.asarray(x).tolist()}
        ''',
        "serving/app.py",
    )
    assert mod.module == "serving.app" and not mod.is_package
    assert names(mod) == [
        "__future__.annotations",
        "logging",
        "numpy",
        "fastapi.FastAPI",
        "sklearn.model_selection.train_test_split",
        "wandb",
        "common.features.preprocess",
    ]
    assert [(c.name, c.line) for c in mod.calls] == [
        ("wandb.init", 19),
        ("sklearn.model_selection.train_test_split", 21),
        ("scaler.fit_transform", 22),
        (".fit", 23),
    ]
    assert mod.app_objects == ("FastAPI:app",)
    assert [d.name for d in mod.definitions] == ["predict"]
    assert mod.definitions[0].body.startswith('@app.post("/predict")')


def test_relative_imports_resolve_against_the_module() -> None:
    mod = parse(
        """
        from ..common import io
        from . import schemas
        from .routes.v1 import router
        from ... import too_far
        """,
        "serving/api/app.py",
    )
    assert names(mod) == [
        "serving.common.io",
        "serving.api.schemas",
        "serving.api.routes.v1.router",
    ]


def test_relative_import_in_package_init_and_src_layout() -> None:
    mod = parse("from .core import Model\nfrom . import utils\n", "src/mypkg/__init__.py")
    assert mod.module == "mypkg" and mod.is_package
    assert names(mod) == ["mypkg.core.Model", "mypkg.utils"]


def test_dynamic_imports_with_literal_names() -> None:
    mod = parse(
        """
        import importlib
        from importlib import import_module

        handler = importlib.import_module("training.tune")
        other = import_module(".plugins", __package__)
        legacy = __import__("optuna")
        unknown = importlib.import_module(name_from_config)
        """,
        "serving/loader.py",
    )
    dynamic = [(i.name, i.line) for i in mod.imports if i.dynamic]
    assert dynamic == [("training.tune", 5), ("serving.plugins", 6), ("optuna", 7)]


def test_type_checking_imports_are_not_runtime_imports() -> None:
    mod = parse(
        """
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            import torch
        else:
            import numpy
        """,
        "serving/types.py",
    )
    assert names(mod) == ["typing.TYPE_CHECKING", "numpy"]


def test_renamed_copy_hashes_the_same_and_docstrings_do_not_count() -> None:
    train = parse(
        '''
        def preprocess(df):
            """Training version."""
            df = df.fillna(0)  # keep zeros
            return df / 255.0
        ''',
        "training/features.py",
    )
    serve = parse(
        """
        def prepare_request(df):
              df = df.fillna(0)   # other comment, other indentation
              return df   /   255.0
        """,
        "serving/features.py",
    )
    (t,) = train.definitions
    (s,) = serve.definitions
    assert t.body_hash == s.body_hash
    assert s.name == "prepare_request" and s.kind == "function" and s.line == 2
    changed = parse("def preprocess(df):\n    return df / 256.0\n", "x.py").definitions[0]
    assert changed.body_hash != t.body_hash


def test_app_objects_of_several_frameworks() -> None:
    mod = parse(
        """
        import bentoml
        import gradio as gr
        from flask import Flask
        from ray import serve
        from kserve import Model

        flask_app = Flask(__name__)
        svc = bentoml.Service("iris")
        demo = gr.Interface(fn=None, inputs="text", outputs="text")

        @serve.deployment(num_replicas=2)
        class Predictor:
            pass

        class Iris(Model):
            pass
        """,
        "serving/apps.py",
    )
    assert mod.app_objects == (
        "Flask:flask_app",
        "bentoml.Service:svc",
        "gradio:demo",
        "kserve:Iris",
        "ray.serve:Predictor",
    )


def test_a_model_deployed_to_a_managed_endpoint_is_an_app_object() -> None:
    """A deploy script defines serving when the endpoint runs a prebuilt container: the
    Vertex upload inside a function, a SageMaker model built at module level."""
    mod = parse(
        """
        from google.cloud import aiplatform
        from sagemaker.sklearn import SKLearnModel

        model = SKLearnModel(model_data="s3://m/model.tar.gz", role="r", entry_point="inference.py")


        def deploy(uri: str) -> None:
            uploaded = aiplatform.Model.upload(display_name="churn", artifact_uri=uri)
            uploaded.deploy(machine_type="n1-standard-2")
        """,
        "svc/deploy/deploy.py",
    )
    assert mod.app_objects == ("SageMaker model:model", "Vertex AI model upload:uploaded")


def test_secrets_in_definition_bodies_are_masked() -> None:
    mod = parse(
        """
        def client():
            return connect(token="ghp_abcdefghijklmnopqrstuvwxyz0123456789")
        """,
        "serving/client.py",
    )
    assert "ghp_abcdefghijklmnopqrstuvwxyz0123456789" not in mod.definitions[0].body


def test_huge_definition_body_is_capped() -> None:
    body = "def big():\n" + "".join(f"    x{i} = {i}\n" for i in range(5000))
    (d,) = parse(body, "serving/big.py").definitions
    assert len(d.body) < 21_000 and d.body.endswith("(truncated by depaudit)")


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ("def predict(x:\n    return x\n", 1, "syntax error"),
        ("import os\n\nprint 'python 2'\n", 3, "syntax error"),
        ("x = 1\n\x00\n", 0, "null bytes"),
        ("def f():\n    return " + "(" * 300 + ")" * 300 + "\n", 2, "nested"),
        ("x = " + "-" * 100_000 + "1\n", 0, "too deeply nested"),
    ],
)
def test_broken_files_give_one_parse_error(text: str, line: int, says: str) -> None:
    facts = SOURCE.parse(text, "serving/broken.py").facts
    assert len(facts) == 1
    err = facts[0]
    assert isinstance(err, ParseError)
    assert err.file == "serving/broken.py" and "\n" not in err.message
    assert err.line == line and says in err.message


def test_bom_and_crlf_files_parse() -> None:
    mod = parse("\ufeffimport os\r\ndef f():\r\n    return os.sep\r\n", "serving/win.py")
    assert names(mod) == ["os"]
    assert mod.definitions[0].body == "def f():\n    return os.sep"


def test_module_that_is_not_importable_keeps_a_readable_name() -> None:
    mod = parse("import pandas\n", "notebooks/01_explore.py")
    assert mod.module == "notebooks.01_explore"
    assert mod.imports == (ImportRef("pandas", 1),)


def test_guarded_imports_are_optional() -> None:
    mod = parse(
        """
        import os
        try:
            import orjson as json
        except ImportError:
            import json
        try:
            from ujson import dumps
        except ValueError:
            pass
        with contextlib.suppress(ModuleNotFoundError):
            import uvloop
        try:
            plugin = importlib.import_module("acme_plugin")
        except Exception:
            plugin = None
        try:
            def later():
                import pandas
        except ImportError:
            pass
        """,
        "serving/app.py",
    )
    optional = {(i.name, i.optional) for i in mod.imports}
    assert optional == {
        ("os", False),
        ("orjson", True),
        ("json", False),  # the fallback runs unguarded
        ("ujson.dumps", False),  # ValueError does not catch a failed import
        ("uvloop", True),
        ("acme_plugin", True),
        ("pandas", False),  # a function body runs later, outside the try
    }


def test_pickled_objects_are_named_by_the_imported_callable_that_made_them() -> None:
    mod = parse(
        """
        import pickle

        import dill as dpickle
        import joblib
        from ktext.preprocess import processor
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.pipeline import Pipeline

        from .model import Net


        def main(x, y, given):
            body_pp = processor(keep_n=8000)
            body_pp.fit_transform(x)
            with open("body_pp.dpkl", "wb") as f:
                dpickle.dump(body_pp, f)
            joblib.dump(Pipeline([("rf", RandomForestClassifier())]).fit(x, y), "model.joblib")
            joblib.dump(given, "given.joblib")
            net = Net()
            pickle.dump(net, open("net.pkl", "wb"))
            json_text = str({"a": 1})
        """,
        "train/train.py",
    )
    assert [(c.name, c.line) for c in mod.pickled] == [
        ("ktext.preprocess.processor", 17),
        ("sklearn.pipeline.Pipeline", 18),
        ("", 19),  # a parameter: the code does not say what made it
        ("train.model.Net", 21),  # the repository's own class: the pair view knows it is local
    ]
    assert not [c for c in mod.calls if "dump" in c.name]  # a dump is not a training call


def test_json_dump_is_not_pickling() -> None:
    mod = parse(
        """
        import json

        def save(metrics):
            json.dump(metrics, open("m.json", "w"))
        """,
        "train/report.py",
    )
    assert mod.pickled == ()


def test_model_files_saved_and_loaded_by_a_literal_path() -> None:
    mod = parse(
        """
        import os
        import pickle

        import joblib
        import torch
        from tensorflow import keras

        MODEL_FILE = os.getenv("MODEL_FILE", "lin_reg.bin")
        SCALER = "artifacts/scaler.pkl"


        def main(model, dv, net):
            with open("models/lin_reg.bin", "wb") as f_out:
                pickle.dump((dv, model), f_out)
            joblib.dump(dv, SCALER)
            torch.save(net.state_dict(), "weights.pt")
            model.save("clothing-model.h5")
            with open(MODEL_FILE, "rb") as f_in:
                dv, model = pickle.load(f_in)
            clf = joblib.load(path="clf.joblib")
            keras.models.load_model("clothing-model.h5")
            df.to_csv("predictions.csv")
            open("notes.txt", "w").write("done")
            log_artifact("models/lin_reg.bin")
        """,
        "train/train.py",
    )
    assert [(f.path, f.line) for f in mod.saves] == [
        ("models/lin_reg.bin", 14),
        ("artifacts/scaler.pkl", 16),
        ("weights.pt", 17),
        ("clothing-model.h5", 18),
    ]
    assert [(f.path, f.line) for f in mod.loads] == [
        ("lin_reg.bin", 19),  # the name's os.getenv default
        ("clf.joblib", 21),
        ("clothing-model.h5", 22),
    ]


def test_a_module_without_a_model_file_literal_saves_and_loads_nothing() -> None:
    mod = parse(
        """
        import joblib

        def load(path):
            return joblib.load(path)
        """,
        "serving/model.py",
    )
    assert (mod.saves, mod.loads) == ((), ())


def test_a_hydra_entrypoint_includes_the_config_file_it_loads() -> None:
    result = SOURCE.parse(
        textwrap.dedent(
            """
            import hydra
            from hydra import main as hydra_main


            @hydra.main(config_path="../../configs", config_name="config", version_base=None)
            def train(cfg):
                pass


            @hydra_main(config_path="conf", config_name="serve.yaml")
            def other(cfg):
                pass


            @hydra.main(config_path=CONFIG_DIR, config_name="config")
            def computed(cfg):
                pass
            """
        ),
        "src/pkg/train.py",
    )
    loads = [(f.target, f.line, f.kind) for f in result.facts if isinstance(f, Include)]
    # a path computed at run time is not followed
    assert loads == [("../../configs/config.yaml", 6, "config"), ("conf/serve.yaml", 11, "config")]


def test_a_bentoml_service_declares_its_packages_and_loads_its_artifacts_framework() -> None:
    result = SOURCE.parse(
        textwrap.dedent(
            """
            import bentoml
            from bentoml.artifact import KerasModelArtifact


            @bentoml.env(pip_packages=["tensorflow==1.14.0", "Pillow"], requirements_txt_file="reqs.txt")
            @bentoml.artifacts([KerasModelArtifact("classifier")])
            class FashionService(bentoml.BentoService):
                pass
            """
        ).lstrip(),
        "keras/fashion-mnist/service.py",
    )
    module = next(f for f in result.facts if isinstance(f, CodeModule))
    packages = [(f.name, f.specifier, f.line) for f in result.facts if isinstance(f, Package)]
    includes = [(f.target, f.kind) for f in result.facts if isinstance(f, Include)]
    assert module.app_objects == ("bentoml.BentoService:FashionService",)
    assert ("keras", 2) in [(r.name, r.line) for r in module.imports if r.dynamic]
    assert packages == [("bentoml", "", 5), ("pillow", "", 5), ("tensorflow", "==1.14.0", 5)]
    assert includes == [("reqs.txt", "requirements")]


def test_a_model_path_with_credentials_is_masked() -> None:
    mod = parse(
        """
        import joblib

        clf = joblib.load("s3://AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY@bucket/clf.joblib")
        """,
        "serving/app.py",
    )
    (loaded,) = mod.loads
    assert "AKIAIOSFODNN7EXAMPLE" not in loaded.path and "wJalrXUtnFEMI" not in loaded.path
    assert loaded.path.endswith("@bucket/clf.joblib")
