"""Two training sides, one serving side, one requirements file: one verdict per package.

Shaped after GokuMohandas/Made-With-ML at its HEAD: one grouped ``requirements.txt`` at the
root, training code in the package (``madewithml/train.py``), exploration notebooks in
``notebooks/``, and a Ray Serve deployment in ``deploy/`` that imports the package's
``serve`` module (a Ray Serve deployment over ``predict``). Run on the real repository before this fixture existed, ``cleanlab``
(imported by a notebook only) came out three times for one requirements line: a DA106
leftover in notebooks x deploy, and both "shared" (DA104) and "nobody imports it" (DA205)
in training x deploy. It is one leftover; docs tooling (mkdocs, pyupgrade) is training-only
by what it is.
"""

from __future__ import annotations

import pytest

from tests.realworld.rwcheck import CheckResult, build, check, dedent, line_of, notebook

REQUIREMENTS = """
    # Default
    numpy==1.24.3
    ray[serve]==2.7.0
    torch==2.0.0
    transformers==4.28.1

    # Notebook
    cleanlab==2.3.1
    jupyterlab==3.6.3

    # Documentation
    mkdocs==1.4.2

    # Styling
    pyupgrade==3.3.2
"""

FILES = {
    "README.md": "# Made With ML-like course project\n",
    "requirements.txt": REQUIREMENTS,
    "madewithml/__init__.py": "",
    "madewithml/models.py": """
        import torch
        from transformers import BertModel


        class FinetunedLLM(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.llm = BertModel.from_pretrained("allenai/scibert_scivocab_uncased")
    """,
    "madewithml/train.py": """
        import numpy as np
        import torch

        from madewithml.models import FinetunedLLM


        def train_loop(epochs: int) -> FinetunedLLM:
            model = FinetunedLLM()
            optimizer = torch.optim.Adam(model.parameters(), lr=np.float32(1e-4))
            for _ in range(epochs):
                optimizer.zero_grad()
            return model
    """,
    "madewithml/predict.py": """
        import numpy as np
        import torch

        from madewithml.models import FinetunedLLM


        def predict_proba(model: FinetunedLLM, batch: dict) -> np.ndarray:
            with torch.inference_mode():
                return model(batch).numpy()
    """,
    "madewithml/serve.py": """
        from ray import serve

        from madewithml.predict import predict_proba


        @serve.deployment(num_replicas=1)
        class ModelDeployment:
            def __call__(self, batch: dict) -> dict:
                return {"probabilities": predict_proba(self.model, batch).tolist()}
    """,
    "madewithml/tune.py": """
        from ray import tune

        from madewithml.train import train_loop


        def tune_models(space: dict) -> None:
            tune.Tuner(train_loop, param_space=space).fit()
    """,
    "notebooks/explore.ipynb": notebook(
        ("markdown", "# Label quality"),
        """
        import cleanlab
        import numpy as np

        issues = cleanlab.filter.find_label_issues(np.zeros(3, int), np.ones((3, 2)) / 2)
        """,
    ),
    "deploy/services/serve_model.yaml": """
        name: madewithml
        ray_serve_config:
          import_path: deploy.services.serve_model:entrypoint
          runtime_env:
            working_dir: .
        rollout_strategy: ROLLOUT
    """,
    "deploy/cluster_env.yaml": """
        base_image: anyscale/ray:2.7.0optimized-py310-cu118
        debian_packages:
          - curl
    """,
    "deploy/services/serve_model.py": """
        from ray import serve

        from madewithml.serve import ModelDeployment

        entrypoint = ModelDeployment.bind()
    """,
}


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> CheckResult:
    repo = build(
        tmp_path_factory.mktemp("mwml") / "Made-With-ML",
        [("Package, notebooks and a Ray Serve deployment", dedent(FILES))],
    )
    return check(repo)


def test_check_succeeds(result: CheckResult) -> None:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_both_training_sides_pair_with_the_deployment(result: CheckResult) -> None:
    expected = {
        ("madewithml/train.py", "deploy/services/serve_model.py"),
        ("notebooks/explore.ipynb", "deploy/services/serve_model.py"),
    }
    found, unexpected = result.anchored_pairs(expected)
    assert (found, unexpected) == (expected, []), result.explain()


def test_a_package_only_a_notebook_uses_is_one_leftover_and_nothing_else(
    result: CheckResult,
) -> None:
    about = sorted((f["rule"], f["status"]) for f in result.about("cleanlab"))
    about += sorted((f["rule"], f["status"]) for f in result.about("cleanlab", kind="code"))
    assert about == [("DA106", "leftover")], result.explain()


def test_exact_leftovers(result: CheckResult) -> None:
    at = {name: line_of(REQUIREMENTS, name) for name in ("cleanlab", "jupyterlab", "mkdocs")}
    assert result.rows() == {
        ("leftover", "DA106", "cleanlab", "requirements.txt", at["cleanlab"]),
        ("leftover", "DA101", "jupyterlab", "requirements.txt", at["jupyterlab"]),
        ("leftover", "DA101", "mkdocs", "requirements.txt", at["mkdocs"]),
        ("leftover", "DA101", "pyupgrade", "requirements.txt", line_of(REQUIREMENTS, "pyupgrade")),
    }, result.explain()
