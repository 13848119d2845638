"""Realistic seed files, one or more per source format, written the way real ML repos write them.

The fuzz tests truncate, mutate and splice these, so the parsers see inputs that are
*almost* valid (the ones that reach deep into a parser) as well as random text.
"""

from __future__ import annotations

import json

SEEDS: dict[str, list[str]] = {
    "requirements.txt": [
        "# serving deps\n--index-url https://pypi.org/simple\n-r base.txt\n-c constraints.txt\n"
        "numpy==1.26.4\nscikit-learn>=1.3,<1.5 ; python_version >= '3.10'\n"
        "torch==2.1.0+cu121 --hash=sha256:0123456789abcdef\nfastapi[all]~=0.110\n"
        "git+https://github.com/org/featurelib.git@v1.2#egg=featurelib\n"
        "-e ./libs/common\nuvicorn \\\n    [standard]==0.29.0\n./wheels/tokenizers-0.15.0-cp311-cp311-linux_x86_64.whl\n",
    ],
    "pyproject.toml": [
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n\n'
        '[project]\nname = "fraud-api"\nversion = "0.3.0"\nrequires-python = ">=3.10"\n'
        'dependencies = [\n  "fastapi>=0.110",\n  "numpy==1.26.4",\n  "pydantic>=2,<3",\n]\n\n'
        '[project.optional-dependencies]\ntrain = ["optuna==3.6.1", "wandb"]\n\n'
        '[tool.poetry.dependencies]\npython = "^3.11"\nrequests = { version = "^2.31", extras = ["socks"] }\n\n'
        '[tool.poetry.group.dev.dependencies]\npytest = "^8.0"\n\n[tool.depaudit.rules]\nignore = ["DA105"]\n',
    ],
    "poetry.lock": [
        '[[package]]\nname = "numpy"\nversion = "1.26.4"\ndescription = "Fundamental package"\n'
        'optional = false\npython-versions = ">=3.9"\nfiles = [\n    {file = "numpy-1.26.4.tar.gz", hash = "sha256:2a02"},\n]\n\n'
        '[[package]]\nname = "scikit-learn"\nversion = "1.4.2"\n[package.dependencies]\nnumpy = ">=1.19.5"\n\n'
        '[metadata]\nlock-version = "2.0"\npython-versions = "^3.11"\ncontent-hash = "abc"\n',
    ],
    "uv.lock": [
        'version = 1\nrequires-python = ">=3.11"\n\n[[package]]\nname = "fastapi"\nversion = "0.110.0"\n'
        'source = { registry = "https://pypi.org/simple" }\ndependencies = [\n    { name = "pydantic" },\n]\n'
        'sdist = { url = "https://files.pythonhosted.org/fastapi-0.110.0.tar.gz", hash = "sha256:1" }\n\n'
        '[[package]]\nname = "pydantic"\nversion = "2.6.4"\nsource = { registry = "https://pypi.org/simple" }\n',
    ],
    "Pipfile.lock": [
        '{\n    "_meta": {"hash": {"sha256": "ab"}, "pipfile-spec": 6, "requires": {"python_version": "3.11"},\n'
        '        "sources": [{"name": "pypi", "url": "https://user:pw@pypi.internal/simple", "verify_ssl": true}]},\n'
        '    "default": {"numpy": {"hashes": ["sha256:1"], "version": "==1.26.4"},\n'
        '                "requests": {"extras": ["socks"], "version": "==2.31.0", "markers": "python_version >= \'3.7\'"}},\n'
        '    "develop": {"pytest": {"version": "==8.0.0"}}\n}\n',
    ],
    "Pipfile": [
        '[[source]]\nurl = "https://pypi.org/simple"\nverify_ssl = true\nname = "pypi"\n\n'
        '[packages]\nnumpy = "==1.26.4"\nrequests = {version = "*", extras = ["socks"]}\n'
        'featurelib = {git = "https://github.com/org/featurelib.git", ref = "v1"}\n\n'
        '[dev-packages]\npytest = "*"\n\n[requires]\npython_version = "3.11"\n',
    ],
    "setup.cfg": [
        "[metadata]\nname = fraud\nversion = 0.1\n\n[options]\npython_requires = >=3.10\n"
        "install_requires =\n    numpy==1.26.4\n    pandas>=2.0\n    scikit-learn\n\n"
        "[options.extras_require]\ntrain =\n    optuna\n    wandb\n\n[flake8]\nmax-line-length = 100\n",
    ],
    "environment.yml": [
        "name: train\nchannels:\n  - pytorch\n  - nvidia\n  - conda-forge\ndependencies:\n"
        "  - python=3.11\n  - pytorch=2.1.0=py3.11_cuda12.1_cudnn8.9.2_0\n  - cudatoolkit=11.8\n"
        "  - numpy>=1.26\n  - pip\n  - pip:\n      - wandb==0.16.0\n      - -r requirements-extra.txt\n",
    ],
    ".python-version": ["3.11.7\n", "pypy3.10-7.3.15\n"],
    "Dockerfile": [
        "# syntax=docker/dockerfile:1\nARG CUDA=12.1.0\nFROM nvidia/cuda:${CUDA}-devel-ubuntu22.04 AS build\n"
        "ARG PIP_INDEX_URL=https://user:s3cr3t@pypi.internal/simple\n"
        "ENV PYTHONUNBUFFERED=1 WANDB_API_KEY=abc123 \\\n    DB_PASSWORD=hunter2\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends \\\n"
        "    build-essential python3.11 cuda-toolkit-12-1 && rm -rf /var/lib/apt/lists/*\n"
        "COPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n"
        "RUN <<EOF\npip install torch==2.1.0\nEOF\n\n"
        "FROM python:3.11-slim@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
        "COPY --from=build /app /app\nRUN apk add --no-cache libgomp && yum install -y gcc\n"
        'HEALTHCHECK CMD curl -f http://localhost:8080/health\nCMD ["uvicorn", "serving.app:app", "--host", "0.0.0.0"]\n',
    ],
    "docker-compose.yml": [
        "version: '3.9'\nx-common: &common\n  restart: unless-stopped\n  environment:\n    LOG_LEVEL: info\n"
        "services:\n  trainer:\n    <<: *common\n    build:\n      context: ./training\n      dockerfile: Dockerfile\n"
        "    deploy:\n      resources:\n        reservations:\n          devices:\n            - driver: nvidia\n              count: all\n"
        "              capabilities: [gpu]\n    environment:\n      - MLFLOW_TRACKING_URI=http://mlflow.internal:5000\n"
        "      - WANDB_API_KEY=${WANDB_API_KEY}\n  api:\n    build: ./serving\n    image: registry.internal/fraud-api:1.2\n"
        "    ports: ['8080:8080']\n    cpus: 2\n    mem_limit: 4g\n    env_file: .env\n"
        "    environment:\n      DATABASE_URL: postgresql://app:pw@db.internal:5432/fraud\n",
    ],
    "app.py": [
        '"""Serving app."""\nfrom __future__ import annotations\n\nimport os\nfrom fastapi import FastAPI\n'
        "from .model import load_model\nfrom training.features import build_features as bf\n"
        "import wandb, optuna\ntry:\n    import torch\nexcept ImportError:\n    torch = None\n\n"
        'API_TOKEN = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"\napp = FastAPI()\n\n\n'
        "@app.post('/predict')\nasync def predict(payload: dict) -> dict:\n"
        "    model = load_model(os.environ['MODEL_PATH'])\n    wandb.init(project='x')\n"
        "    return {'y': model.predict([bf(payload)])}\n\n\nclass Model:\n"
        "    def fit(self, X, y):\n        return self\n",
    ],
    "config.yaml": [
        "defaults: &defaults\n  batch_size: 32\n  lr: 0.001\ntraining:\n  <<: *defaults\n  epochs: 20\n"
        "  wandb:\n    project: fraud\n    api_key: 0123456789abcdef\nserving:\n  host: 0.0.0.0\n"
        "  db_url: postgresql://svc:pass@warehouse.internal/db\n  buckets: [s3://train-data/raw, gs://models/v1]\n"
        "  tags: !!set {a, b}\n  when: 2024-01-01\n  multi: |\n    line one\n    line two\n---\nsecond: doc\n",
    ],
    "k8s/deploy.yaml": [
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: fraud-api\nspec:\n  replicas: 2\n  template:\n"
        "    spec:\n      containers:\n        - name: api\n          image: registry.internal/fraud-api:1.2\n"
        "          env:\n            - name: DB_PASSWORD\n              value: hunter2\n            - name: TOKEN\n"
        "              valueFrom:\n                secretKeyRef: {name: s, key: token}\n          resources:\n"
        "            requests: {cpu: 500m, memory: 1Gi}\n            limits: {cpu: '64', memory: 256Gi, nvidia.com/gpu: 1}\n"
        "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\ntype: Opaque\n"
        "data:\n  password: aHVudGVyMg==\nstringData:\n  token: plain-token-value\n",
    ],
    "config.json": [
        '{"model": {"name": "xgb", "threshold": 0.5}, "db": {"password": "p@ss", "host": "db.internal"},'
        ' "features": [1, 2.5e3, null, true, "s3://bucket/key"], "nested": {"a": {"b": {"c": []}}}}\n',
    ],
    "settings.toml": [
        '[server]\nhost = "0.0.0.0"\nport = 8080\n\n[db]\nurl = "mysql://root:toor@10.0.0.5/app"\n'
        'password = "x"\n\n[[models]]\nname = "a"\nwhen = 1979-05-27T07:32:00Z\n',
    ],
    "app.ini": [
        "[DEFAULT]\nlog_level = info\n\n[database]\nhost = db.internal\npassword = hunter2\n"
        "url = %(host)s/x\n\n[serving]\nworkers = 4\n",
    ],
    ".env": [
        "# env\nexport AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nAWS_SECRET_ACCESS_KEY='wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'\n"
        'MLFLOW_TRACKING_URI="http://mlflow.internal:5000"\nEMPTY=\nMULTI="a\\nb"\n',
    ],
    # nbformat 4 as Jupyter writes it (indent 1, sorted keys), with outputs and IPython
    # syntax; and the nbformat 3 shape (worksheets, "input")
    "notebooks/explore.ipynb": [
        json.dumps(
            {
                "cells": [
                    {
                        "cell_type": "markdown",
                        "id": "a1",
                        "metadata": {},
                        "source": ["# Fraud model\n", "EDA"],
                    },
                    {
                        "cell_type": "code",
                        "execution_count": 1,
                        "id": "b2",
                        "metadata": {"tags": []},
                        "outputs": [
                            {
                                "name": "stdout",
                                "output_type": "stream",
                                "text": ["Successfully installed wandb-0.16.3\n"],
                            },
                            {
                                "data": {
                                    "image/png": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk",
                                    "text/plain": ["<Figure>"],
                                },
                                "metadata": {},
                                "output_type": "display_data",
                            },
                        ],
                        "source": [
                            "%pip install -q wandb==0.16.3 'transformers>=4.36' -r ../requirements-train.txt\n",
                            "!{sys.executable} -m pip install optuna\n",
                            "%matplotlib inline\n",
                            "import pandas as pd\n",
                            "from sklearn.model_selection import train_test_split\n",
                            "df = pd.read_parquet('s3://train-data/raw/2024.parquet')\n",
                            "X_train, X_test = train_test_split(df, test_size=0.2)\n",
                            "df.describe?",
                        ],
                    },
                    {
                        "cell_type": "code",
                        "execution_count": 2,
                        "id": "c3",
                        "metadata": {},
                        "outputs": [],
                        "source": "%%time\nimport wandb\nwandb.init(project='fraud')\nmodel.fit(X_train, y_train)",
                    },
                    {
                        "cell_type": "code",
                        "execution_count": None,
                        "id": "d4",
                        "metadata": {},
                        "outputs": [],
                        "source": ["%%bash\n", "pip install lightgbm==4.1.0 \\\n", "  xgboost\n"],
                    },
                ],
                "metadata": {
                    "kernelspec": {
                        "display_name": "Python 3",
                        "language": "python",
                        "name": "python3",
                    },
                    "language_info": {"name": "python", "version": "3.11.7"},
                },
                "nbformat": 4,
                "nbformat_minor": 5,
            },
            indent=1,
            sort_keys=True,
        )
        + "\n",
        json.dumps(
            {
                "metadata": {"name": "old"},
                "nbformat": 3,
                "nbformat_minor": 0,
                "worksheets": [
                    {
                        "cells": [
                            {"cell_type": "heading", "level": 1, "source": ["Training"]},
                            {
                                "cell_type": "code",
                                "collapsed": False,
                                "input": [
                                    "import numpy as np\n",
                                    "!pip install keras==2.4.3\n",
                                    "np.random.seed(0)",
                                ],
                                "language": "python",
                                "outputs": [],
                                "prompt_number": 1,
                            },
                        ],
                        "metadata": {},
                    }
                ],
            },
            indent=1,
        ),
    ],
    # a book repository's image targets: build args, a cd into the build folder,
    # continuation lines and a variable for the tag
    "Makefile": [
        "IMAGE ?= book/serving\nTAG := 1.0\n\n.PHONY: build\nbuild:\n"
        "\tdocker build -t $(IMAGE):$(TAG) \\\n\t\t--build-arg BASE=base:latest -f serving/Dockerfile .\n"
        "base:\n\tcd docker/base && docker build -t base:latest .\n",
    ],
}

# a representative path per seed key (the key is already a path the source matches)
SEED_PATHS = {key: key for key in SEEDS}

CONFIG_SEEDS = [
    '[environments.pipeline]\nrole = "training"\ninclude = ["pipelines/**", "requirements-pipeline.txt"]\n'
    'exclude = ["pipelines/scratch/**"]\n\n[environments.api]\nrole = "serving"\ninclude = ["api/**"]\n'
    'entrypoints = ["api.main"]\n\n[rules]\nignore = ["DA105"]\nseverity = { DA302 = "high" }\n'
    '[rules.DA101]\nallow = ["pytest"]\n\n[knowledge]\ntraining_packages = ["my-trainer"]\nmax_cpu = 8\nmax_memory = 32e9\n',
]
