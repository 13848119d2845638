"""The environment files of an ML service and the edits their commits make.

Each file is a small state (pins, base image, environment variables, config values) and a
renderer, so an edit is a change of state: bump a pin, add a package, change a base image,
add an environment variable, change a config value, or go back to the previous state
(A -> B -> A, the reverted upgrade every real history has).
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

State = dict[str, Any]

_COMMON = {
    "numpy": "1.26.2",
    "pandas": "2.1.4",
    "scikit-learn": "1.3.2",
    "pyyaml": "6.0.1",
    "joblib": "1.3.2",
}
_TRAINING = {
    "torch": "2.1.0",
    "lightgbm": "4.1.0",
    "wandb": "0.16.1",
    "mlflow": "2.9.2",
    "optuna": "3.5.0",
    "tqdm": "4.66.1",
    "google-cloud-bigquery": "3.14.1",
}
_SERVING = {
    "fastapi": "0.108.0",
    "uvicorn[standard]": "0.25.0",
    "pydantic": "2.5.3",
    "torch": "2.1.0",
    "prometheus-client": "0.19.0",
    "redis": "5.0.1",
    "httpx": "0.26.0",
}
_DEV = {"pytest": "7.4.3", "ruff": "0.1.9", "mypy": "1.8.0", "pre-commit": "3.6.0"}
# packages a later commit may add, per file
_ADDABLE = {
    "common": {"pyarrow": "14.0.2", "scipy": "1.11.4", "category-encoders": "2.6.3"},
    "training": {
        "shap": "0.44.0",
        "xgboost": "2.0.3",
        "matplotlib": "3.8.2",
        "seaborn": "0.13.1",
        "great-expectations": "0.18.7",
        "dvc": "3.37.0",
        "jupyter": "1.0.0",
        "boto3": "1.34.11",
    },
    "serving": {
        "gunicorn": "21.2.0",
        "orjson": "3.9.10",
        "opentelemetry-api": "1.22.0",
        "sentry-sdk": "1.39.1",
        "onnxruntime": "1.16.3",
        "boto3": "1.34.11",
    },
    "dev": {"hypothesis": "6.92.2", "pytest-cov": "4.1.0", "types-PyYAML": "6.0.12"},
}
_IMAGES = {
    "training": (
        "pytorch/pytorch:2.1.0-cuda12.1-cudnn8-runtime",
        "pytorch/pytorch:2.1.2-cuda12.1-cudnn8-runtime",
        "pytorch/pytorch:2.1.0-cuda12.1-cudnn8-devel",
        "nvidia/cuda:12.1.1-cudnn8-runtime-ubuntu22.04",
    ),
    "serving": (
        "python:3.11-slim",
        "python:3.11.7-slim-bookworm",
        "python:3.10-slim",
        "python:3.12-slim",
    ),
}
_ENV_VARS = (
    ("LOG_LEVEL", "info"),
    ("MODEL_PATH", "/models/model.joblib"),
    ("WORKERS", "4"),
    ("TIMEOUT_SECONDS", "30"),
    ("REDIS_URL", "redis://cache:6379/0"),
    ("FEATURE_STORE_URL", "http://features:8080"),
    ("OMP_NUM_THREADS", "1"),
    ("BATCH_SIZE", "64"),
    ("ENABLE_SHADOW_MODEL", "false"),
    ("WANDB_PROJECT", "churn"),
    ("MLFLOW_TRACKING_URI", "http://mlflow.internal:5000"),
    ("BQ_DATASET", "analytics.events"),
    ("CACHE_TTL", "3600"),
    ("MAX_PAYLOAD_KB", "256"),
)


def _requirements(state: State) -> str:
    lines = [f"# {state['comment']}"] + state["includes"]
    lines += [f"{name}{state['op']}{version}" for name, version in state["pins"].items()]
    return "\n".join(lines) + "\n"


def _pyproject(state: State) -> str:
    deps = "".join(f'    "{n}>={v}",\n' for n, v in state["pins"].items())
    return (
        '[project]\nname = "churn-service"\nversion = "0.4.0"\nrequires-python = ">=3.10"\n'
        f"dependencies = [\n{deps}]\n\n[tool.ruff]\nline-length = 100\n\n"
        '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n'
    )


def _dockerfile(state: State) -> str:
    env = "".join(f"ENV {k}={v}\n" for k, v in state["env"].items())
    side = state["side"]
    cmd = (
        '["uvicorn", "serving.app:app", "--host", "0.0.0.0", "--port", "8000"]'
        if side == "serving"
        else '["python", "-m", "training.train"]'
    )
    return (
        f"FROM {state['image']}\n\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends "
        f"{' '.join(state['apt'])} && rm -rf /var/lib/apt/lists/*\n\n"
        "WORKDIR /app\n"
        f"COPY common/requirements.txt common/requirements.txt\nCOPY {side}/requirements.txt {side}/requirements.txt\n"
        f"RUN pip install --no-cache-dir -r {side}/requirements.txt\n"
        f"{env}"
        f"COPY common/ common/\nCOPY {side}/ {side}/\n\nCMD {cmd}\n"
    )


def _env_block(env: dict[str, str], indent: str) -> str:
    return "".join(f'{indent}{k}: "{v}"\n' for k, v in env.items())


def _compose(state: State) -> str:
    return (
        "services:\n"
        "  trainer:\n    build:\n      context: .\n      dockerfile: training/Dockerfile\n"
        "    environment:\n"
        + _env_block(state["trainer"], "      ")
        + "    volumes:\n      - ./data:/app/data\n"
        "  api:\n    build:\n      context: .\n      dockerfile: serving/Dockerfile\n"
        f'    ports:\n      - "{state["port"]}:8000"\n'
        "    environment:\n"
        + _env_block(state["env"], "      ")
        + "    depends_on:\n      - cache\n"
        "  cache:\n    image: redis:7.2-alpine\n"
    )


def _k8s_env(env: dict[str, str]) -> str:
    return "".join(f'            - name: {k}\n              value: "{v}"\n' for k, v in env.items())


def _k8s_deployment(state: State) -> str:
    return (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: churn-api\n"
        f"spec:\n  replicas: {state['replicas']}\n  selector:\n    matchLabels:\n      app: churn-api\n"
        "  template:\n    metadata:\n      labels:\n        app: churn-api\n    spec:\n"
        "      containers:\n        - name: api\n          image: registry.example.com/churn-api:latest\n"
        "          ports:\n            - containerPort: 8000\n"
        "          env:\n"
        + _k8s_env(state["env"])
        + "          resources:\n            requests:\n"
        f'              cpu: "{state["cpu"]}"\n              memory: {state["memory"]}\n'
        "            limits:\n"
        f"              memory: {state['memory']}\n"
    )


def _k8s_job(state: State) -> str:
    return (
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: churn-trainer\nspec:\n"
        "  backoffLimit: 2\n  template:\n    spec:\n      restartPolicy: Never\n"
        "      containers:\n        - name: trainer\n          image: registry.example.com/churn-trainer:latest\n"
        "          env:\n" + _k8s_env(state["env"]) + "          resources:\n            limits:\n"
        f"              nvidia.com/gpu: {state['gpu']}\n              memory: {state['memory']}\n"
    )


def _config(state: State) -> str:
    return "".join(f"{k}: {v}\n" for k, v in state["values"].items())


def _dotenv(state: State) -> str:
    return "".join(f"{k}={v}\n" for k, v in state["env"].items())


@dataclass(slots=True)
class EnvFile:
    path: str
    render_state: Callable[[State], str]
    state: State
    history: list[State] = field(default_factory=list)  # every state it had, oldest first

    def render(self) -> str:
        return self.render_state(self.state)

    def ops(self) -> list[str]:
        keys = self.state.keys()
        return [op for op, key in _OP_KEYS.items() if key in keys]

    def apply(self, new: State) -> None:
        if not self.history:
            self.history.append(copy.deepcopy(self.state))
        self.state = new
        self.history.append(copy.deepcopy(new))


# an edit applies to a file whose state has this key
_OP_KEYS = {
    "bump_pin": "pins",
    "add_package": "addable",
    "base_image": "image",
    "add_env_var": "env",
    "config_value": "values",
}


def _bump(version: str, rng: random.Random) -> str:
    parts = [int(p) for p in version.split(".")]
    if rng.random() < 0.7:
        parts[-1] += 1
    else:
        parts[1] += 1
        parts[2:] = [0] * len(parts[2:])
    return ".".join(str(p) for p in parts)


def edit(rng: random.Random, file: EnvFile, op: str) -> str:
    """Apply ``op`` to ``file``; returns a commit message."""
    state = copy.deepcopy(file.state)
    if op == "bump_pin":
        name = rng.choice(list(state["pins"]))
        state["pins"][name] = _bump(state["pins"][name], rng)
        message = f"bump {name} to {state['pins'][name]}"
    elif op == "add_package":
        free = [n for n in state["addable"] if n not in state["pins"]]
        if not free:
            return edit(rng, file, "bump_pin")
        name = rng.choice(free)
        state["pins"][name] = state["addable"][name]
        message = f"add {name}"
    elif op == "base_image":
        image = rng.choice([i for i in state["images"] if i != state["image"]])
        state["image"] = image
        message = f"base image {image}"
    elif op == "add_env_var":
        target = state["env"]
        free = [(k, v) for k, v in _ENV_VARS if k not in target]
        if free:
            key, value = rng.choice(free)
        else:
            key = rng.choice(list(target))
            value = str(rng.randint(1, 100))
        target[key] = value
        if "trainer" in state and rng.random() < 0.5:  # compose: on both services
            state["trainer"][key] = value
        message = f"env {key}={value}"
    elif op == "config_value":
        key = rng.choice(list(state["values"]))
        old = state["values"][key]
        state["values"][key] = old + rng.choice([-1, 1]) * max(1, old // 4) if old > 1 else old + 1
        message = f"{key}: {old} -> {state['values'][key]}"
    else:
        raise ValueError(op)
    file.apply(state)
    return f"{file.path}: {message}"


def revert(file: EnvFile) -> str:
    """Go back to the state before the last change (A -> B -> A)."""
    file.apply(copy.deepcopy(file.history[-2]))
    return f"Revert the last change of {file.path}"


def environment_files() -> list[EnvFile]:
    """The environment files of a training / serving / common ML service."""

    def reqs(
        comment: str, pins: dict[str, str], addable: str, includes: list[str], op: str = "=="
    ) -> State:
        return {
            "comment": comment,
            "pins": dict(pins),
            "addable": _ADDABLE[addable],
            "includes": includes,
            "op": op,
        }

    common_env = {"LOG_LEVEL": "info", "PYTHONUNBUFFERED": "1"}
    return [
        EnvFile(
            "common/requirements.txt",
            _requirements,
            reqs("shared by training and serving", _COMMON, "common", []),
        ),
        EnvFile(
            "training/requirements.txt",
            _requirements,
            reqs("training job", _TRAINING, "training", ["-r ../common/requirements.txt"]),
        ),
        EnvFile(
            "serving/requirements.txt",
            _requirements,
            reqs("online API", _SERVING, "serving", ["-r ../common/requirements.txt"]),
        ),
        EnvFile(
            "requirements-dev.txt",
            _requirements,
            reqs("development tools", _DEV, "dev", ["-r serving/requirements.txt"], ">="),
        ),
        EnvFile(
            "pyproject.toml", _pyproject, {"pins": dict(_COMMON), "addable": _ADDABLE["common"]}
        ),
        EnvFile(
            "training/Dockerfile",
            _dockerfile,
            {
                "side": "training",
                "image": _IMAGES["training"][0],
                "images": _IMAGES["training"],
                "apt": ["git", "libgomp1"],
                "env": dict(common_env, WANDB_PROJECT="churn"),
            },
        ),
        EnvFile(
            "serving/Dockerfile",
            _dockerfile,
            {
                "side": "serving",
                "image": _IMAGES["serving"][0],
                "images": _IMAGES["serving"],
                "apt": ["libgomp1", "curl"],
                "env": dict(common_env, WORKERS="2"),
            },
        ),
        EnvFile(
            "docker-compose.yml",
            _compose,
            {
                "env": {"MODEL_PATH": "/models/model.joblib"},
                "trainer": {"WANDB_MODE": "offline"},
                "port": 8000,
            },
        ),
        EnvFile(
            "k8s/serving-deployment.yaml",
            _k8s_deployment,
            {
                "env": {"LOG_LEVEL": "info", "MODEL_PATH": "/models/model.joblib"},
                "replicas": 3,
                "cpu": "500m",
                "memory": "2Gi",
            },
        ),
        EnvFile(
            "k8s/training-job.yaml",
            _k8s_job,
            {"env": {"WANDB_PROJECT": "churn"}, "gpu": 1, "memory": "64Gi"},
        ),
        EnvFile(
            "serving/config.yaml",
            _config,
            {"values": {"batch_size": 64, "max_latency_ms": 200, "top_k": 20, "cache_ttl": 3600}},
        ),
        EnvFile(
            "training/config.yaml",
            _config,
            {"values": {"epochs": 20, "batch_size": 512, "patience": 5, "folds": 5}},
        ),
        EnvFile(
            ".env.example",
            _dotenv,
            {"env": {"REDIS_URL": "redis://localhost:6379/0", "LOG_LEVEL": "debug"}},
        ),
    ]
