"""F2: one requirements.txt installed by a training job and by an API (notes/realworld.md).

Shaped after GokuMohandas/Made-With-ML (one requirements file grouped by comments,
installed on both sides) and graviraja/MLOps-Basics / ml-system-in-actions (hydra,
omegaconf and the skl2onnx converter shipped in the serving image). The serving
entrypoint (``uvicorn pkg.serve:app``) reaches ``serve.py`` and ``model.py`` only, so
every package only training code, notebooks, tests or tooling use is a leftover at its
``requirements.txt`` line; torch, fastapi and uvicorn are not.
"""

from __future__ import annotations

import pytest

from tests.realworld.rwcheck import CheckResult, build, check, dedent, line_of, notebook

REQUIREMENTS = """
    # Default
    torch==2.1.0
    fastapi==0.110.0
    uvicorn==0.29.0
    hydra-core==1.3.2
    hydra-colorlog==1.2.0
    omegaconf==2.3.0
    skl2onnx==1.16.0
    scikit-learn==1.3.2

    # Notebook
    matplotlib==3.8.2
    jupyterlab==4.0.9

    # Testing
    pytest==7.4.3

    # Styling
    black==23.12.1
"""

FILES = {
    "README.md": "# sentiment-service\n\nTrain with `make train`, serve with `make serve`.\n",
    "requirements.txt": REQUIREMENTS,
    "Dockerfile.train": """
        FROM python:3.11-slim
        WORKDIR /app
        COPY requirements.txt .
        RUN pip install --no-cache-dir --upgrade pip && \\
            pip install --no-cache-dir -r requirements.txt
        COPY src/ src/
        COPY configs/ configs/
        ENV PYTHONPATH=/app/src
        CMD ["python", "-m", "pkg.train"]
    """,
    "Dockerfile.serve": """
        FROM python:3.11-slim
        WORKDIR /app
        COPY requirements.txt .
        RUN pip install --no-cache-dir --upgrade pip && \\
            pip install --no-cache-dir -r requirements.txt
        COPY src/ src/
        ENV PYTHONPATH=/app/src
        EXPOSE 8000
        CMD ["uvicorn", "pkg.serve:app", "--host", "0.0.0.0", "--port", "8000"]
    """,
    "configs/config.yaml": """
        defaults:
          - override hydra/job_logging: colorlog
          - override hydra/hydra_logging: colorlog

        model:
          hidden_size: 128
          dropout: 0.1
        training:
          max_epochs: 10
          lr: 0.001
          batch_size: 64
    """,
    "src/pkg/__init__.py": "",
    "src/pkg/model.py": """
        import torch
        from torch import nn


        class SentimentModel(nn.Module):
            def __init__(self, vocab_size: int = 30_000, hidden_size: int = 128) -> None:
                super().__init__()
                self.embed = nn.EmbeddingBag(vocab_size, hidden_size)
                self.head = nn.Linear(hidden_size, 2)

            def forward(self, tokens: torch.Tensor) -> torch.Tensor:
                return self.head(self.embed(tokens))


        def load(path: str) -> SentimentModel:
            model = SentimentModel()
            model.load_state_dict(torch.load(path, map_location="cpu"))
            return model.eval()
    """,
    "src/pkg/train.py": """
        \"\"\"Train the sentiment model; export a baseline to ONNX for comparison.\"\"\"

        import hydra
        import torch
        from omegaconf import DictConfig, OmegaConf
        from skl2onnx import to_onnx
        from sklearn.linear_model import LogisticRegression

        from pkg.model import SentimentModel


        @hydra.main(config_path="../../configs", config_name="config", version_base=None)
        def main(cfg: DictConfig) -> None:
            print(OmegaConf.to_yaml(cfg))
            model = SentimentModel(hidden_size=cfg.model.hidden_size)
            opt = torch.optim.Adam(model.parameters(), lr=cfg.training.lr)
            for _ in range(cfg.training.max_epochs):
                opt.zero_grad()
            baseline = LogisticRegression().fit([[0.0], [1.0]], [0, 1])
            to_onnx(baseline, [[0.0]])
            torch.save(model.state_dict(), "model.pt")


        if __name__ == "__main__":
            main()
    """,
    "src/pkg/serve.py": """
        from fastapi import FastAPI

        from pkg.model import load

        app = FastAPI(title="sentiment")
        model = load("model.pt")


        @app.post("/predict")
        def predict(tokens: list[int]) -> dict[str, int]:
            import torch

            logits = model(torch.tensor([tokens]))
            return {"label": int(logits.argmax())}
    """,
    "notebooks/eda.ipynb": notebook(
        ("markdown", "# Exploratory analysis of the reviews"),
        "%pip install seaborn==0.13.0",
        """
        import matplotlib.pyplot as plt
        import seaborn as sns

        lengths = [len(r) for r in open("../data/reviews.txt")]
        sns.histplot(lengths)
        plt.show()
        """,
    ),
    "tests/test_train.py": """
        import pytest

        from pkg.model import SentimentModel


        @pytest.mark.parametrize("hidden", [8, 16])
        def test_model_builds(hidden: int) -> None:
            assert SentimentModel(hidden_size=hidden)
    """,
}


def _at(name: str) -> int:
    return line_of(REQUIREMENTS, f"{name}==")


# DA106: used only by training code (or, for hydra-colorlog, only by the training hydra
# config). DA101: curated training-only (notebook, test, lint, plotting).
EXPECTED_ROWS = {
    ("leftover", "DA106", "hydra-core", "requirements.txt", _at("hydra-core")),
    # hydra-colorlog is never imported: hydra loads it from the config's
    # "override hydra/job_logging: colorlog" (notes: "no-import uses")
    ("leftover", "DA106", "hydra-colorlog", "requirements.txt", _at("hydra-colorlog")),
    ("leftover", "DA106", "omegaconf", "requirements.txt", _at("omegaconf")),
    ("leftover", "DA106", "skl2onnx", "requirements.txt", _at("skl2onnx")),
    # serving loads a torch state dict (torch.load), not a pickled scikit-learn model
    ("leftover", "DA106", "scikit-learn", "requirements.txt", _at("scikit-learn")),
    ("leftover", "DA101", "matplotlib", "requirements.txt", _at("matplotlib")),
    ("leftover", "DA101", "jupyterlab", "requirements.txt", _at("jupyterlab")),
    ("leftover", "DA101", "pytest", "requirements.txt", _at("pytest")),
    ("leftover", "DA101", "black", "requirements.txt", _at("black")),
}


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> CheckResult:
    repo = build(
        tmp_path_factory.mktemp("f2") / "sentiment-service",
        [("Training job and API on one requirements file", dedent(FILES))],
    )
    return check(repo)


def test_check_succeeds(result: CheckResult) -> None:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_one_pair_the_two_dockerfiles(result: CheckResult) -> None:
    expected = {("Dockerfile.train", "Dockerfile.serve")}
    found, unexpected = result.anchored_pairs(expected)
    assert (found, unexpected, len(result.pairs)) == (expected, [], 1), result.explain()


def test_requirements_txt_is_installed_by_both_sides(result: CheckResult) -> None:
    assert result.env_holding("requirements.txt", "training"), result.explain()
    assert result.env_holding("requirements.txt", "serving"), result.explain()


def test_exact_package_and_runtime_leftovers_and_drift(result: CheckResult) -> None:
    assert result.rows() == EXPECTED_ROWS, result.explain()


def test_usage_leftovers_name_the_importing_training_module(result: CheckResult) -> None:
    evidence = {
        f["item"]: f["evidence"]
        for f in result.findings
        if f["rule"] == "DA106" and f["status"] == "leftover"
    }
    for name, module in (
        ("hydra-core", "src/pkg/train.py"),
        ("omegaconf", "src/pkg/train.py"),
        ("skl2onnx", "src/pkg/train.py"),
        ("scikit-learn", "src/pkg/train.py"),
    ):
        assert module in evidence.get(name, ""), (name, evidence.get(name), result.explain())


def test_what_serving_uses_is_not_a_leftover(result: CheckResult) -> None:
    leftovers = result.items("leftover")
    assert not leftovers & {"torch", "fastapi", "uvicorn"}, result.explain()
    torch = {f["status"] for f in result.about("torch")}
    assert torch == {"shared"}, result.explain()


def test_notebook_only_install_is_training_only(result: CheckResult) -> None:
    seaborn = {(f["status"], f["rule"]) for f in result.about("seaborn")}
    assert seaborn == {("training_only", "DA105")}, result.explain()


def test_one_file_no_drift(result: CheckResult) -> None:
    assert not result.items("drift") and not result.items("drift", kind="runtime"), result.explain()
