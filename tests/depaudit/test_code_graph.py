"""The import graph: resolution, implicit packages, reachability with chains, third party."""

from __future__ import annotations

import textwrap

from depaudit.code_graph import (
    ImportGraph,
    distribution_candidates,
    format_chain,
    training_call_key,
)
from depaudit.collectors.sources.python_code import SOURCE
from depaudit.model import CodeModule


def modules(files: dict[str, str]) -> list[CodeModule]:
    out = []
    for path, text in files.items():
        (fact,) = SOURCE.parse(textwrap.dedent(text), path).facts
        assert isinstance(fact, CodeModule)
        out.append(fact)
    return out


REPO = {
    "serving/__init__.py": "",
    "serving/app.py": """
        from fastapi import FastAPI
        from common.features import preprocess
        app = FastAPI()
    """,
    "common/__init__.py": "",
    "common/features.py": """
        import numpy as np
        from training.train import LABELS  # a constant, but it drags train.py along
    """,
    "training/__init__.py": "import logging\n",
    "training/train.py": """
        import optuna
        from training import tune
    """,
    "training/tune.py": "import optuna\n",
    "training/unused.py": "import wandb\n",
}


def test_three_hop_chain_is_found_with_every_hop() -> None:
    graph = ImportGraph(modules(REPO))
    reach = graph.reachable(["serving.app"])
    chain = reach["training.train"]
    assert [s.module for s in chain] == [
        "serving.app",
        "common.features",
        "training.train",
    ]
    assert [s.line for s in chain] == [0, 3, 3]
    assert format_chain(chain) == (
        "serving/app.py -> common/features.py (imported at serving/app.py:3) -> "
        "training/train.py (imported at common/features.py:3)"
    )
    # parent packages run on the way; modules nothing imports are not reached
    assert {"serving", "common", "training", "training.tune"} <= set(reach)
    assert "training.unused" not in reach


def test_longest_existing_prefix_is_the_module() -> None:
    graph = ImportGraph(modules(REPO))
    assert graph.resolve("common.features.preprocess") == "common.features"
    assert graph.resolve("training.tune") == "training.tune"
    assert graph.resolve("training.LABELS") == "training"
    assert graph.resolve("numpy.linalg") is None


def test_namespace_packages_and_src_layout() -> None:
    mods = modules(
        {
            "src/acme/models/__init__.py": "",
            "src/acme/models/net.py": "import torch\n",
            "src/acme/app.py": "from acme.models.net import Net\nfrom acme import models\n",
            # no __init__.py anywhere under plugins/: a namespace package
            "plugins/vision/resize.py": "import PIL\n",
            "serve.py": "import plugins.vision.resize\nfrom acme import app\n",
        }
    )
    graph = ImportGraph(mods)
    assert "acme" in graph.packages and "acme" not in graph.modules  # namespace
    assert graph.resolve("plugins.vision.resize") == "plugins.vision.resize"
    assert graph.resolve("plugins.vision") is None
    assert graph.is_local("plugins.vision")
    reach = graph.reachable(["serve"])
    assert {"acme.app", "acme.models", "acme.models.net", "plugins.vision.resize"} <= set(reach)


def test_script_imports_its_sibling_module() -> None:
    mods = modules(
        {
            "serving/app.py": "import utils\nfrom schemas import Request\n",
            "serving/utils.py": "",
            "serving/schemas.py": "",
            "training/utils.py": "",
        }
    )
    graph = ImportGraph(mods)
    assert graph.resolve("utils", "serving.app") == "serving.utils"
    assert set(graph.reachable(["serving.app"])) == {
        "serving.app",
        "serving.utils",
        "serving.schemas",
    }
    assert graph.external_imports(mods) == {}


def test_dynamic_import_is_an_edge() -> None:
    mods = modules(
        {
            "serving/app.py": 'import importlib\nh = importlib.import_module("training.tune")\n',
            "training/tune.py": "",
        }
    )
    reach = ImportGraph(mods).reachable(["serving.app"])
    assert reach["training.tune"][-1].line == 2


def test_cycles_terminate_and_unknown_starts_are_ignored() -> None:
    mods = modules({"a.py": "import b\n", "b.py": "import a\n"})
    reach = ImportGraph(mods).reachable(["a", "does.not.exist"])
    assert set(reach) == {"a", "b"}


def test_external_imports_exclude_stdlib_and_repo_code() -> None:
    mods = modules(REPO)
    ext = ImportGraph(mods).external_imports(mods)
    assert sorted(ext) == ["fastapi", "numpy", "optuna", "wandb"]
    assert [m.module for m, _ in ext["optuna"]] == ["training.train", "training.tune"]


def test_serving_copy_of_a_module_name_wins() -> None:
    serving = modules({"src/pkg/model.py": "import onnxruntime\n"})
    training = modules({"train/src/pkg/model.py": "import torch\n"})
    graph = ImportGraph([*serving, *training])
    assert graph.modules["pkg.model"].file == "src/pkg/model.py"


def test_distribution_candidates_and_call_keys() -> None:
    assert "google-cloud-storage" in distribution_candidates("google.cloud.storage", {})
    assert "protobuf" in distribution_candidates("google.protobuf.json_format", {})
    assert "scikit-learn" in distribution_candidates("sklearn.svm", {"sklearn": "scikit-learn"})
    calls = {".fit": 1, "wandb.init": 1}
    assert training_call_key("clf.fit", calls) == ".fit"
    assert training_call_key(".fit", calls) == ".fit"
    assert training_call_key("wandb.init", calls) == "wandb.init"
    assert training_call_key("fit", calls) is None  # a local function, not a method
    assert training_call_key("wandb.finish", calls) is None


def test_folders_as_written_resolve_a_copied_src_package() -> None:
    """``COPY serving/src /app/src``: the app imports ``src.*`` although module names drop src/."""
    graph = ImportGraph(
        modules(
            {
                "serving/src/__init__.py": "",
                "serving/src/app.py": "from src.api.routes import router\nimport src.constants\n",
                "serving/src/api/__init__.py": "",
                "serving/src/api/routes.py": "from src.model import predict\n",
                "serving/src/constants.py": "X = 1\n",
                "serving/src/model.py": "import wandb\n",
                # a module named after a library elsewhere: not on serving's path
                "training/utils/wandb.py": "def log(x):\n    return x\n",
            }
        )
    )
    assert graph.resolve("src.api.routes.router", "app") == "api.routes"
    assert graph.resolve("src.constants", "app") == "constants"
    assert graph.is_local("src.api.routes.router", "app")
    assert set(graph.reachable(["app"])) >= {"app", "api.routes", "model", "constants"}
    assert set(graph.external_imports([graph.modules["model"]])) == {"wandb"}
