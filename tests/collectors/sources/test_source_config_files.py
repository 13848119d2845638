"""Generic config source: YAML / JSON / TOML / INI / .env flattened, masked, with lines."""

from __future__ import annotations

import json

import pytest

from depaudit.collectors.sources.config_files import MAX_ENTRIES, SOURCE
from depaudit.model import ConfigEntry, NetworkTarget, ParseError
from depaudit.secrets import mask

PG_PASSWORD = "pg-Pa55w0rd-prod"
SF_PASSWORD = "snowflakeSecret99"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

DOTENV = f"""\
# training credentials
export DATABASE_URL=postgresql://trainer:{PG_PASSWORD}@warehouse.internal:5432/features
SNOWFLAKE_URL="snowflake://etl:{SF_PASSWORD}@acme-xy12345/analytics/public?warehouse=WH"
AWS_SECRET_ACCESS_KEY={AWS_SECRET}
MODEL_NAME=gpt2   # inline comment
MAX_TOKENS=512
REDIS_URL='redis://:{PG_PASSWORD}@cache:6379/0'
not a key value line
"""

YAML_CONFIG = """\
training:
  epochs: 10
  optimizer: {name: adamw, lr: 3.0e-4}
bigquery:
  project: acme-analytics
  dataset: events
data:
  buckets:
    - s3://acme-training-data/raw/2024/
    - gs://acme-features
tracking:
  uri: http://mlflow.internal:5000
max_tokens: 512
"""


def parse(text: str, path: str) -> list[object]:
    return list(SOURCE.parse(text, path))


def test_dotenv_values_masked_and_targets_extracted() -> None:
    f = "training/.env"
    facts = parse(DOTENV, f)
    config = {e.key: e for e in facts if isinstance(e, ConfigEntry)}
    assert config["MODEL_NAME"] == ConfigEntry("MODEL_NAME", "gpt2", f, 5)
    assert config["MAX_TOKENS"] == ConfigEntry("MAX_TOKENS", "512", f, 6)
    assert config["AWS_SECRET_ACCESS_KEY"].secret and config["AWS_SECRET_ACCESS_KEY"].line == 4
    assert config["DATABASE_URL"].value.startswith("postgresql://trainer:***masked:")
    targets = [t for t in facts if isinstance(t, NetworkTarget)]
    assert targets == [
        NetworkTarget(
            "postgresql://warehouse.internal:5432/features", "dsn", f, 2, key="DATABASE_URL"
        ),
        NetworkTarget("snowflake:acme-xy12345", "warehouse", f, 3, key="SNOWFLAKE_URL"),
        NetworkTarget("redis://cache:6379/0", "dsn", f, 7, key="REDIS_URL"),
    ]
    text = repr(SOURCE.parse(DOTENV, f))
    for secret in (PG_PASSWORD, SF_PASSWORD, AWS_SECRET):
        assert secret not in text


def test_yaml_flattened_with_lines_and_warehouse_project() -> None:
    f = "training/config.yaml"
    facts = parse(YAML_CONFIG, f)
    config = {e.key: e for e in facts if isinstance(e, ConfigEntry)}
    assert config["training.epochs"] == ConfigEntry("training.epochs", "10", f, 2)
    assert config["training.optimizer.lr"] == ConfigEntry("training.optimizer.lr", "0.0003", f, 3)
    assert config["bigquery.project"] == ConfigEntry("bigquery.project", "acme-analytics", f, 5)
    assert config["data.buckets[1]"] == ConfigEntry("data.buckets[1]", "gs://acme-features", f, 10)
    assert config["max_tokens"] == ConfigEntry("max_tokens", "512", f, 13)
    targets = {(t.target, t.kind, t.line) for t in facts if isinstance(t, NetworkTarget)}
    assert targets == {
        ("bigquery:acme-analytics", "warehouse", 5),
        ("s3://acme-training-data", "bucket", 9),
        ("gs://acme-features", "bucket", 10),
        ("http://mlflow.internal:5000", "url", 12),
    }


def test_json_lines_follow_document_order() -> None:
    f = "serving/settings.json"
    text = json.dumps(
        {
            "model": {"name": "gpt2", "max_tokens": 256},
            "api_key": "sk-live-0123456789abcdefghij",
            "upstream": {"url": "https://api.example.com/v1?token=abc123456"},
            "name": "second-name-key",
        },
        indent=2,
    )
    facts = parse(text, f)
    config = {e.key: e for e in facts if isinstance(e, ConfigEntry)}
    assert config["model.name"] == ConfigEntry("model.name", "gpt2", f, 3)
    assert config["model.max_tokens"] == ConfigEntry("model.max_tokens", "256", f, 4)
    assert config["api_key"].secret and config["api_key"].line == 6
    assert config["name"].line == 10  # the second "name", not the first
    assert NetworkTarget("https://api.example.com/v1", "url", f, 8, key="upstream.url") in facts
    assert "sk-live-0123456789abcdefghij" not in repr(facts)
    assert "abc123456" not in repr(facts)


def test_toml_and_ini() -> None:
    toml_text = 'title = "serve"\n[server]\nhost = "0.0.0.0"\nport = 8080\n\n[db]\npassword = "tomlSecret123"\n'
    facts = parse(toml_text, "serving/settings.toml")
    config = {e.key: e for e in facts if isinstance(e, ConfigEntry)}
    assert config["server.port"] == ConfigEntry("server.port", "8080", "serving/settings.toml", 4)
    assert config["db.password"].secret and config["db.password"].line == 7
    assert "tomlSecret123" not in repr(facts)

    ini_text = "[DEFAULT]\nregion = eu\n[mlflow]\ntracking_uri = http://mlflow.internal:5000\n"
    facts = parse(ini_text, "training/setup.ini")
    assert ConfigEntry("DEFAULT.region", "eu", "training/setup.ini", 2) in facts
    assert (
        ConfigEntry("mlflow.tracking_uri", "http://mlflow.internal:5000", "training/setup.ini", 4)
        in facts
    )


@pytest.mark.parametrize(
    "path",
    [
        "serving/config.yaml",
        "training/params.yml",
        "serving/settings.json",
        "conf/app.toml",
        "x/pytest.ini",
        "x/app.cfg",
        ".env",
        "serving/prod.env",
        ".env.production",
        ".env.example",
    ],
)
def test_matches(path: str) -> None:
    assert SOURCE.matches(path)


@pytest.mark.parametrize(
    "path",
    [
        "docker-compose.yml",
        "compose.prod.yaml",
        "environment.yml",
        ".github/workflows/ci.yml",
        ".gitlab-ci.yml",
        "package.json",
        "web/package-lock.json",
        "notebooks/eda.ipynb",
        "tsconfig.json",
        "pyproject.toml",
        "Pipfile",
        "poetry.lock",
        "setup.cfg",
        "model/tokenizer.json",
        "train.py",
    ],
)
def test_does_not_match(path: str) -> None:
    assert not SOURCE.matches(path)


@pytest.mark.parametrize(
    ("text", "path", "needle"),
    [
        ("a: [1, 2\n", "c.yaml", "invalid YAML"),
        ("x: " + "[" * 100 + "]" * 100 + "\n", "c.yaml", "deeper"),
        ('{"a": {"b": [1, 2, ', "c.json", "invalid JSON"),
        ("[" * 100_000 + "]" * 100_000, "c.json", "deep"),
        ("[a\nb = 1\n", "c.toml", "invalid TOML"),
        ("no section header\n", "c.ini", "invalid INI"),
        ("\x00\x01\x02\xff", "c.yaml", "binary"),
        ("\x00PK\x03\x04", ".env", "binary"),
    ],
)
def test_broken_inputs_are_parse_errors(text: str, path: str, needle: str) -> None:
    facts = parse(text, path)
    assert len(facts) == 1 and isinstance(facts[0], ParseError), facts
    assert needle in facts[0].message
    assert "\n" not in facts[0].message


def test_alias_bomb_rejected_fast() -> None:
    import time

    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    start = time.perf_counter()
    facts = parse("\n".join(lines) + "\n", "bomb.yaml")
    assert time.perf_counter() - start < 1.0
    assert len(facts) == 1 and isinstance(facts[0], ParseError)
    assert "alias" in facts[0].message


def test_huge_json_is_a_parse_error_not_a_flood() -> None:
    text = json.dumps({f"k{i}": i for i in range(MAX_ENTRIES + 1)})
    facts = parse(text, "data/big.json")
    assert len(facts) == 1 and isinstance(facts[0], ParseError)


def test_helm_template_is_skipped_without_error() -> None:
    text = (
        "apiVersion: apps/v1\nkind: Deployment\n{{- if .Values.enabled }}\nspec: {}\n{{- end }}\n"
    )
    assert parse(text, "charts/api/templates/deployment.yaml") == []


def test_mixed_stream_of_kubernetes_and_plain_documents() -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  A: b\n---\nplain: 1\n"
    facts = parse(text, "k8s/all.yaml")
    assert ConfigEntry("A", "b", "k8s/all.yaml", 5) in facts
    assert ConfigEntry("plain", "1", "k8s/all.yaml", 7) in facts
    assert not any(isinstance(f, ConfigEntry) and f.key.startswith("apiVersion") for f in facts)


# ------------------------------------------------------------------ secret parents

AUTH_VALUE = "admin:Parent-Held-Pw&Tail-77"


def _auth_files(value: str, parent: str, leaf: str) -> dict[str, str]:
    """The same nested setting in every structured format."""
    return {
        "serving/settings.json": json.dumps({parent: {leaf: value, "type": "basic"}}),
        "serving/settings.yaml": f"{parent}:\n  {leaf}: {json.dumps(value)}\n  type: basic\n",
        "serving/settings.toml": f'[{parent}]\n{leaf} = {json.dumps(value)}\ntype = "basic"\n',
        "serving/settings.ini": f"[{parent}]\n{leaf} = {value}\ntype = basic\n",
    }


@pytest.mark.parametrize("parent", ["auth", "credentials", "secrets", "basic_auth", "api_keys"])
@pytest.mark.parametrize("leaf", ["basic", "value", "default", "primary", "prod"])
def test_values_under_a_secret_parent_are_masked_in_every_format(parent: str, leaf: str) -> None:
    for path, text in _auth_files(AUTH_VALUE, parent, leaf).items():
        facts = parse(text, path)
        entries = {f.key: f for f in facts if isinstance(f, ConfigEntry)}
        entry = entries[f"{parent}.{leaf}"]
        assert entry.secret, (path, entry)
        assert "Parent-Held" not in repr(facts) and "Tail-77" not in repr(facts), path
        assert entry.value == mask(AUTH_VALUE)  # the whole value, whatever its punctuation
        # what describes the secret stays readable
        assert entries[f"{parent}.type"].value == "basic" and not entries[f"{parent}.type"].secret


def test_lists_under_a_secret_parent_are_masked() -> None:
    text = json.dumps({"sso": {"auth": {"tokens": ["List-Held-One-42", "List-Held-Two-43"]}}})
    facts = parse(text, "serving/settings.json")
    assert "List-Held" not in repr(facts)
    assert all(f.secret for f in facts if isinstance(f, ConfigEntry))


def test_ml_settings_under_innocent_parents_stay_readable() -> None:
    text = (
        "tokenizer:\n  pad_token: '<pad>'\n  max_tokens: 512\n"
        "auth:\n  enabled: true\n  provider: oidc\n  url: https://idp.internal/\n"
        "passenger:\n  id: PassengerId\n"
    )
    facts = parse(text, "serving/config.yaml")
    values = {f.key: f.value for f in facts if isinstance(f, ConfigEntry)}
    assert values == {
        "tokenizer.pad_token": "<pad>",
        "tokenizer.max_tokens": "512",
        "auth.enabled": "true",
        "auth.provider": "oidc",
        "auth.url": "https://idp.internal/",
        "passenger.id": "PassengerId",
    }


def test_data_tables_in_config_shaped_files_are_not_settings() -> None:
    # a DVC plot file: {"<plot>": [{"actual": .., "predicted": ..}, ...]} with a setting beside
    rows = [{"actual": str(i % 3), "predicted": str(i % 2)} for i in range(300)]
    text = json.dumps({"confusion_matrix": rows, "threshold": 0.5, "endpoint": "http://api:80"})
    facts = parse(text, "evaluation/plots/confusion_matrix.json")
    entries = {f.key: f.value for f in facts if isinstance(f, ConfigEntry)}
    assert entries == {"threshold": "0.5", "endpoint": "http://api:80"}
    assert [f.key for f in facts if isinstance(f, NetworkTarget)] == ["endpoint"]
    # metrics per epoch as rows of numbers, in YAML
    yaml_rows = "history:\n" + "".join(f"  - [{i}, 0.{i}]\n" for i in range(40))
    assert [f for f in parse(yaml_rows, "metrics.yaml") if isinstance(f, ConfigEntry)] == []


def test_short_lists_and_lists_of_differing_records_stay_settings() -> None:
    hosts = [{"name": f"h{i}", "url": f"http://h{i}:80"} for i in range(5)]
    mixed = [{"name": "a"}, *({"name": f"n{i}", "port": i} for i in range(30))]
    facts = parse(json.dumps({"hosts": hosts, "workers": mixed}), "config/service.json")
    keys = {f.key for f in facts if isinstance(f, ConfigEntry)}
    assert "hosts[4].url" in keys and "workers[0].name" in keys and "workers[30].port" in keys
