"""F3: training and serving images share a base image set by a build arg (notes/realworld.md).

Shaped after shibuiwilliam/building-ml-system: every Dockerfile starts
``ARG FROM_IMAGE=python:3.10.6-slim`` / ``FROM ${FROM_IMAGE}``, and the Makefile passes
``--build-arg FROM_IMAGE=<an image built from base/>`` to the training and the API
builds. lightgbm and scikit-learn reach both sides *only* through that base image, so
they are shared (with the base requirements line as their source), never undeclared in
the API. The variant passes the build arg through docker compose ``build.args``.
"""

from __future__ import annotations

import pytest

from tests.realworld.rwcheck import CheckResult, build, check, dedent, line_of

BASE_REQUIREMENTS = """
    # shared by every image of the search service
    lightgbm==3.3.2
    scikit-learn==1.1.2
    numpy==1.23.1
"""
API_REQUIREMENTS = """
    fastapi==0.74.0
    uvicorn==0.17.6
    pandas==1.4.1
"""

COMMON = {
    "README.md": "# learn-to-rank search\n\n`make build-all` builds the base, training and API images.\n",
    "base/Dockerfile": """
        FROM python:3.10.6-slim
        ENV PYTHONUNBUFFERED=1
        RUN apt-get update && \\
            apt-get install -y --no-install-recommends libgomp1 && \\
            rm -rf /var/lib/apt/lists/*
        COPY base/requirements.txt /opt/base-requirements.txt
        RUN pip install --no-cache-dir -r /opt/base-requirements.txt
    """,
    "base/requirements.txt": BASE_REQUIREMENTS,
    "train/Dockerfile": """
        ARG FROM_IMAGE=python:3.10.6-slim
        FROM ${FROM_IMAGE}
        WORKDIR /opt/train
        COPY train/requirements.txt /opt/train/requirements.txt
        RUN pip install --no-cache-dir -r /opt/train/requirements.txt
        COPY train/src/ /opt/train/src/
        CMD ["python", "-m", "src.train"]
    """,
    "train/requirements.txt": """
        mlflow==1.28.0
        pandas==1.4.3
    """,
    "train/src/__init__.py": "",
    "train/src/train.py": """
        import lightgbm as lgb
        import mlflow
        import pandas as pd
        from sklearn.model_selection import GroupKFold


        def main() -> None:
            df = pd.read_csv("/data/clicks.csv")
            ranker = lgb.LGBMRanker(n_estimators=300)
            for train_idx, _ in GroupKFold(n_splits=3).split(df, groups=df["query_id"]):
                part = df.iloc[train_idx]
                ranker.fit(part.drop(columns=["label", "query_id"]), part["label"],
                           group=part.groupby("query_id").size())
            with mlflow.start_run():
                mlflow.lightgbm.log_model(ranker.booster_, "model")


        if __name__ == "__main__":
            main()
    """,
    "api/Dockerfile": """
        ARG FROM_IMAGE=python:3.10.6-slim
        FROM ${FROM_IMAGE}
        WORKDIR /opt/api
        COPY api/requirements.txt /opt/api/requirements.txt
        RUN pip install --no-cache-dir -r /opt/api/requirements.txt
        COPY api/src/ /opt/api/src/
        COPY models/ranker.txt /opt/api/models/ranker.txt
        CMD ["uvicorn", "src.main:app", "--host", "0.0.0.0", "--port", "8000"]
    """,
    "api/requirements.txt": API_REQUIREMENTS,
    "api/src/__init__.py": "",
    "api/src/main.py": """
        import lightgbm as lgb
        import pandas as pd
        from fastapi import FastAPI
        from sklearn.preprocessing import StandardScaler

        app = FastAPI()
        booster = lgb.Booster(model_file="models/ranker.txt")
        scaler = StandardScaler(with_mean=False)


        @app.post("/rank")
        def rank(items: list[dict[str, float]]) -> list[float]:
            return booster.predict(pd.DataFrame(items)).tolist()
    """,
}

MAKEFILE = """
    DOCKER_REPOSITORY := registry.example.com/search
    BASE_IMAGE := $(DOCKER_REPOSITORY):base_1.0.0
    TRAIN_IMAGE := $(DOCKER_REPOSITORY):learn_to_rank_train_1.0.0
    API_IMAGE := $(DOCKER_REPOSITORY):learn_to_rank_api_1.0.0

    .PHONY: build-base
    build-base:
    \tdocker build --platform linux/amd64 -t $(BASE_IMAGE) -f base/Dockerfile .

    .PHONY: build-train
    build-train: build-base
    \tdocker build --platform linux/amd64 -t $(TRAIN_IMAGE) \\
    \t\t--build-arg FROM_IMAGE=$(BASE_IMAGE) -f train/Dockerfile .

    .PHONY: build-api
    build-api: build-base
    \tdocker build --platform linux/amd64 -t $(API_IMAGE) \\
    \t\t--build-arg FROM_IMAGE=$(BASE_IMAGE) -f api/Dockerfile .

    .PHONY: build-all
    build-all: build-base build-train build-api
"""

COMPOSE = """
    services:
      base:
        image: search/base:1.0.0
        build:
          context: .
          dockerfile: base/Dockerfile
      train:
        image: search/train:1.0.0
        build:
          context: .
          dockerfile: train/Dockerfile
          args:
            FROM_IMAGE: search/base:1.0.0
        depends_on: [base]
        volumes:
          - ./data:/data
      api:
        image: search/api:1.0.0
        build:
          context: .
          dockerfile: api/Dockerfile
          args:
            FROM_IMAGE: search/base:1.0.0
        depends_on: [base]
        ports:
          - "8000:8000"
"""

EXPECTED_PAIRS = {("train/requirements.txt", "api/requirements.txt")}
EXPECTED_ROWS = {
    ("drift", "DA102", "pandas", "api/requirements.txt", line_of(API_REQUIREMENTS, "pandas==")),
}
# reached through the base image on both sides: shared, sourced at the base requirements
EXPECTED_SHARED_FROM_BASE = {
    ("lightgbm", "base/requirements.txt", line_of(BASE_REQUIREMENTS, "lightgbm==")),
    ("scikit-learn", "base/requirements.txt", line_of(BASE_REQUIREMENTS, "scikit-learn==")),
}


@pytest.fixture(scope="module", params=["makefile", "compose"])
def result(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> CheckResult:
    files = dict(COMMON)
    if request.param == "makefile":
        files["Makefile"] = MAKEFILE
    else:
        files["docker-compose.yml"] = COMPOSE
    repo = build(
        tmp_path_factory.mktemp(f"f3-{request.param}") / "search",
        [("Base, training and API images", dedent(files))],
    )
    return check(repo)


def test_check_succeeds(result: CheckResult) -> None:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_one_pair_train_x_api(result: CheckResult) -> None:
    found, unexpected = result.anchored_pairs(EXPECTED_PAIRS)
    assert (found, unexpected, len(result.pairs)) == (EXPECTED_PAIRS, [], 1), result.explain()


def test_the_pair_says_it_shares_the_base_image(result: CheckResult) -> None:
    reasons = [p.reason for p in result.pairs]
    assert len(reasons) == 1 and "base image" in reasons[0].lower(), result.explain()


def test_exact_package_and_runtime_leftovers_and_drift(result: CheckResult) -> None:
    assert result.rows() == EXPECTED_ROWS, result.explain()


def test_base_image_packages_are_shared_and_sourced_at_the_base(result: CheckResult) -> None:
    shared = {
        (f["item"], f["file"], f["line"])
        for f in result.findings
        if f["status"] == "shared" and f["kind"] == "package"
    }
    assert shared >= EXPECTED_SHARED_FROM_BASE, result.explain()


def test_api_imports_of_base_packages_are_declared(result: CheckResult) -> None:
    undeclared = {f["item"] for f in result.findings if f["rule"] == "DA204"}
    assert not undeclared & {"lightgbm", "scikit-learn"}, result.explain()


def test_base_image_is_shared_not_drifted(result: CheckResult) -> None:
    base = {(f["status"], f["rule"]) for f in result.about("base_image", kind="runtime")}
    assert base == {("shared", "DA507")}, result.explain()
