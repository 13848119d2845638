"""F5: the training image's framework comes from its base image (notes/realworld.md).

Shaped after kubeflow/examples pytorch_mnist (training ``FROM pytorch/pytorch:…``, a
Seldon wrapper pinning ``torch==0.4.0`` for serving), Azure/mlops-project-template nlp
(an NGC PyTorch image) and graviraja/MLOps-Basics (framework image in serving). One
project folder holds the training side and three serving sides:

- ``serving/``: ``python:3.11-slim`` + ``torch==2.1.0``: torch is *shared* with the
  version the training base image installs (never "training only");
- ``serving-ngc/``: ``FROM nvcr.io/nvidia/pytorch:22.10-py3``: NVIDIA's torch build
  1.13.0a0 (from the base-image data table) drifts from 2.1.0, and a full NGC training
  image serves;
- ``serving-seldon/``: ``torch`` unpinned: drift (DA107), not shared.

Adjusted from the notes: they name NGC ``22.04-py3`` ("a 1.12.0 pre-release per NVIDIA's
release notes"); the project's base-image table only lists releases whose torch version
was checked against the container itself and 22.04 is not one of them, so an exact
expectation needs a listed release: 22.10 (torch ``1.13.0a0+d0d6b1f``). The notes'
folder names ``serving2`` / ``serving3`` carry no keyword a real repository would use;
``serving-ngc`` / ``serving-seldon`` do.
"""

from __future__ import annotations

import pytest

from tests.realworld.rwcheck import CheckResult, build, check, dedent, line_of

SERVING_REQUIREMENTS = """
    torch==2.1.0
    fastapi==0.110.0
    uvicorn==0.29.0
"""
SELDON_REQUIREMENTS = """
    # installed by the seldon s2i python builder
    torch
    seldon-core==1.17.1
"""
NGC_DOCKERFILE = """
    FROM nvcr.io/nvidia/pytorch:22.10-py3
    WORKDIR /srv
    RUN pip install --no-cache-dir fastapi==0.110.0 uvicorn==0.29.0
    COPY app.py model.pt ./
    CMD ["uvicorn", "app:app", "--host", "0.0.0.0", "--port", "8080"]
"""

APP = """
    import io

    import torch
    from fastapi import FastAPI, UploadFile

    app = FastAPI()
    model = torch.jit.load("model.pt", map_location="cpu").eval()


    @app.post("/predict")
    async def predict(image: UploadFile) -> dict[str, int]:
        tensor = torch.load(io.BytesIO(await image.read()))
        with torch.no_grad():
            return {"digit": int(model(tensor.unsqueeze(0)).argmax())}
"""

FILES = {
    "README.md": "# MNIST with PyTorch: distributed training and three ways to serve\n",
    "mnist/training/Dockerfile": """
        FROM pytorch/pytorch:2.1.0-cuda12.1-cudnn8-devel
        WORKDIR /workspace
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY train.py .
        ENTRYPOINT ["python", "train.py"]
    """,
    "mnist/training/requirements.txt": """
        lightning==2.1.3
        torchvision==0.16.0
    """,
    "mnist/training/train.py": """
        import lightning as L
        import torch
        from torch import nn
        from torchvision import datasets, transforms


        class Net(L.LightningModule):
            def __init__(self) -> None:
                super().__init__()
                self.model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))

            def training_step(self, batch, batch_idx):
                x, y = batch
                return nn.functional.cross_entropy(self.model(x), y)

            def configure_optimizers(self):
                return torch.optim.Adam(self.parameters(), lr=1e-3)


        if __name__ == "__main__":
            data = datasets.MNIST("data", download=True, transform=transforms.ToTensor())
            trainer = L.Trainer(max_epochs=3, accelerator="gpu", strategy="ddp")
            net = Net()
            trainer.fit(net, torch.utils.data.DataLoader(data, batch_size=64))
            torch.jit.script(net.model).save("model.pt")
    """,
    "mnist/serving/Dockerfile": """
        FROM python:3.11-slim
        WORKDIR /srv
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY app.py model.pt ./
        CMD ["uvicorn", "app:app", "--host", "0.0.0.0", "--port", "8080"]
    """,
    "mnist/serving/requirements.txt": SERVING_REQUIREMENTS,
    "mnist/serving/app.py": APP,
    "mnist/serving-ngc/Dockerfile": NGC_DOCKERFILE,
    "mnist/serving-ngc/app.py": APP,
    "mnist/serving-seldon/requirements.txt": SELDON_REQUIREMENTS,
    "mnist/serving-seldon/MnistModel.py": """
        import torch


        class MnistModel:
            def __init__(self) -> None:
                self.model = torch.jit.load("model.pt", map_location="cpu").eval()

            def predict(self, X, features_names=None):
                with torch.no_grad():
                    return self.model(torch.as_tensor(X, dtype=torch.float32)).numpy()
    """,
    "mnist/serving-seldon/.s2i/environment": """
        MODEL_NAME=MnistModel
        SERVICE_TYPE=MODEL
        PERSISTENCE=0
    """,
}

EXPECTED_PAIRS = {
    ("mnist/training/Dockerfile", "mnist/serving/Dockerfile"),
    ("mnist/training/Dockerfile", "mnist/serving-ngc/Dockerfile"),
    ("mnist/training/Dockerfile", "mnist/serving-seldon/requirements.txt"),
}

EXPECTED_ROWS = {
    # serving-ngc: NVIDIA's torch build of release 22.10 against 2.1.0; a training image
    ("drift", "DA102", "torch", "mnist/serving-ngc/Dockerfile", 1),
    ("leftover", "DA504", "base_image", "mnist/serving-ngc/Dockerfile", 1),
    # serving-seldon: training's 2.1.0 (from its FROM line) vs unpinned
    (
        "drift",
        "DA107",
        "torch",
        "mnist/serving-seldon/requirements.txt",
        line_of(SELDON_REQUIREMENTS, "torch"),
    ),
    # the Ubuntu-based PyTorch training image vs a Debian slim serving image: the OS
    # differs (DA502 covers the differing image); the two Ubuntu-based images differ as
    # base images (DA503). DESIGN §1: OS / base image must be standardised.
    ("drift", "DA502", "os", "mnist/serving/Dockerfile", 1),
    ("drift", "DA503", "base_image", "mnist/serving-ngc/Dockerfile", 1),
}


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> CheckResult:
    repo = build(
        tmp_path_factory.mktemp("f5") / "pytorch-mnist",
        [("Training on the PyTorch image, three serving variants", dedent(FILES))],
    )
    return check(repo)


def test_check_succeeds(result: CheckResult) -> None:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_three_pairs_one_per_serving_side(result: CheckResult) -> None:
    found, unexpected = result.anchored_pairs(EXPECTED_PAIRS)
    assert (found, unexpected, len(result.pairs)) == (EXPECTED_PAIRS, [], 3), result.explain()


def test_exact_package_and_runtime_leftovers_and_drift(result: CheckResult) -> None:
    assert result.rows() == EXPECTED_ROWS, result.explain()


def test_torch_from_the_training_image_is_shared_with_the_slim_serving(
    result: CheckResult,
) -> None:
    rows = [f for f in result.about("torch") if f["file"] == "mnist/serving/requirements.txt"]
    assert [(f["status"], f["rule"], f["training"], f["serving"]) for f in rows] == [
        ("shared", "DA104", "2.1.0", "2.1.0")
    ], result.explain()


def test_torch_is_never_training_only(result: CheckResult) -> None:
    assert "torch" not in result.items("training_only"), result.explain()


def test_serving_seldon_torch_is_drift_not_shared(result: CheckResult) -> None:
    rows = [f for f in result.about("torch") if f["file"].startswith("mnist/serving-seldon/")]
    assert [(f["status"], f["training"]) for f in rows] == [("drift", "2.1.0")], result.explain()
