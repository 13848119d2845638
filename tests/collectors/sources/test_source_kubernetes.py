"""Kubernetes manifests read through the generic config source (detected by content)."""

from __future__ import annotations

import base64

from depaudit.collectors.sources.config_files import SOURCE
from depaudit.collectors.sources.kubernetes import parse_cpu, parse_k8s_memory
from depaudit.model import (
    ConfigEntry,
    Entrypoint,
    NetworkTarget,
    ParseError,
    Resource,
    Runtime,
    Scope,
)

DB_PASSWORD = "Sup3rS3cretDbPass"
SECRET_TOKEN = "wandb-local-0123456789abcdef"

MANIFEST = f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: model-api
  labels: {{app: model-api}}
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: api
          image: nvidia/cuda:12.1.0-cudnn8-devel-ubuntu22.04
          command: ["uvicorn", "serving.app:app"]
          args: ["--port", "8080"]
          env:
            - name: MODEL_NAME
              value: gpt2
            - name: DATABASE_URL
              value: postgresql://api:{DB_PASSWORD}@db.internal:5432/features
            - name: WANDB_API_KEY
              valueFrom:
                secretKeyRef:
                  name: tracker
                  key: api-key
          envFrom:
            - configMapRef:
                name: api-config
          resources:
            requests:
              cpu: 500m
              memory: 512Mi
            limits:
              cpu: "2"
              memory: 16Gi
              nvidia.com/gpu: 1
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly-train
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: train
              image: pytorch/pytorch:2.2.0-cuda12.1-cudnn8-devel
              command: ["python", "-m", "training.train"]
              env:
                - name: BIGQUERY_PROJECT
                  value: acme-analytics
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: api-config
data:
  MLFLOW_TRACKING_URI: http://mlflow.internal:5000
  max_tokens: "512"
---
apiVersion: v1
kind: Secret
metadata:
  name: tracker
type: Opaque
data:
  api-key: {base64.b64encode(SECRET_TOKEN.encode()).decode()}
stringData:
  DB_PASSWORD: {DB_PASSWORD}
"""


def parse(text: str, path: str = "k8s/serving.yaml") -> list[object]:
    return list(SOURCE.parse(text, path))


def test_deployment_is_a_scope_with_its_facts() -> None:
    facts = parse(MANIFEST)
    f = "k8s/serving.yaml"
    assert Scope("model-api", f, 4, image="nvidia/cuda:12.1.0-cudnn8-devel-ubuntu22.04") in facts
    assert Runtime("cuda", "12.1.0", f, 12, scope="model-api", detail="devel") in facts
    assert (
        Runtime("os", "ubuntu 22.04", f, 12, scope="model-api", detail="inferred from image tag")
        in facts
    )
    assert ConfigEntry("env.MODEL_NAME", "gpt2", f, 16, scope="model-api") in facts
    assert (
        ConfigEntry(
            "env.WANDB_API_KEY",
            "secretKeyRef:tracker/api-key",
            f,
            20,
            secret=False,
            scope="model-api",
        )
        in facts
    )
    assert ConfigEntry("envFrom.configMapRef", "api-config", f, 26, scope="model-api") in facts
    assert (
        NetworkTarget(
            "postgresql://db.internal:5432/features",
            "dsn",
            f,
            18,
            key="DATABASE_URL",
            scope="model-api",
        )
        in facts
    )
    assert (
        Entrypoint(
            "uvicorn serving.app:app --port 8080", f, 13, module="serving.app", scope="model-api"
        )
        in facts
    )


def test_resources_become_amounts_with_bounds() -> None:
    resources = {(r.name, r.bound): r for r in parse(MANIFEST) if isinstance(r, Resource)}
    assert resources["cpu", "request"].amount == 0.5
    assert resources["memory", "request"].amount == 512 * 2**20
    assert resources["cpu", "limit"].amount == 2.0
    assert resources["memory", "limit"].amount == 16 * 2**30
    gpu = resources["gpu", "limit"]
    assert (gpu.amount, gpu.raw, gpu.line, gpu.scope) == (1.0, "1", 35, "model-api")


def test_cronjob_uses_job_template() -> None:
    facts = parse(MANIFEST)
    f = "k8s/serving.yaml"
    assert (
        Scope("nightly-train", f, 40, image="pytorch/pytorch:2.2.0-cuda12.1-cudnn8-devel") in facts
    )
    assert Runtime("cuda", "12.1", f, 49, scope="nightly-train", detail="devel") in facts
    assert (
        NetworkTarget(
            "bigquery:acme-analytics",
            "warehouse",
            f,
            52,
            key="BIGQUERY_PROJECT",
            scope="nightly-train",
        )
        in facts
    )
    assert any(isinstance(e, Entrypoint) and e.module == "training.train" for e in facts)


def test_configmap_and_secret_values() -> None:
    facts = parse(MANIFEST)
    f = "k8s/serving.yaml"
    assert ConfigEntry("MLFLOW_TRACKING_URI", "http://mlflow.internal:5000", f, 60) in facts
    assert ConfigEntry("max_tokens", "512", f, 61) in facts
    secrets = {
        e.key: e
        for e in facts
        if isinstance(e, ConfigEntry) and e.key in ("api-key", "DB_PASSWORD")
    }
    assert all(e.secret and e.value.startswith("***masked") for e in secrets.values())
    assert secrets["api-key"].line == 69


def test_planted_secrets_absent() -> None:
    text = repr(SOURCE.parse(MANIFEST, "k8s/serving.yaml"))
    assert DB_PASSWORD not in text
    assert SECRET_TOKEN not in text
    assert base64.b64encode(SECRET_TOKEN.encode()).decode() not in text


def test_same_secret_same_fingerprint_in_secret_and_env() -> None:
    facts = parse(MANIFEST)
    by_key = {e.key: e.value for e in facts if isinstance(e, ConfigEntry)}
    # the stringData password and the DSN password are the same secret
    assert by_key["DB_PASSWORD"].split(":")[1][:8] in by_key["env.DATABASE_URL"]


def test_quantities() -> None:
    assert parse_cpu("250m") == 0.25
    assert parse_cpu("1.5") == 1.5
    assert parse_cpu("lots") is None
    assert parse_k8s_memory("1G") == 1e9
    assert parse_k8s_memory("128974848") == 128974848
    assert parse_k8s_memory("1Gb") is None


def test_non_workload_kinds_give_no_config_noise() -> None:
    service = (
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\nspec:\n  ports: [{port: 80}]\n"
    )
    assert parse(service) == []


def test_broken_manifest_is_a_parse_error() -> None:
    facts = parse("apiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n")
    assert len(facts) == 1 and isinstance(facts[0], ParseError)
    assert "invalid YAML" in facts[0].message


def test_workload_with_odd_shapes_does_not_raise() -> None:
    odd = "apiVersion: v1\nkind: Pod\nmetadata: 5\nspec:\n  containers: [1, null, {env: [3]}]\n"
    facts = parse(odd)
    assert any(isinstance(f, Scope) for f in facts)
