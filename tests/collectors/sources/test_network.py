"""Network target extraction from config values and free text."""

from __future__ import annotations

import pytest

from depaudit.collectors.sources.network import classify_url, targets_from_config, targets_from_text


def targets(key: str, value: object) -> list[tuple[str, str]]:
    return [(t.target, t.kind) for t in targets_from_config(key, value, file="f", line=3)]


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        (
            "DATABASE_URL",
            "postgresql://u:p4ss@db.internal:5432/features",
            [("postgresql://db.internal:5432/features", "dsn")],
        ),
        (
            "DB",
            "mysql+pymysql://root:hunter2@mysql:3306/db?charset=utf8",
            [("mysql+pymysql://mysql:3306/db", "dsn")],
        ),
        ("REDIS_URL", "redis://:pw@cache:6379/0", [("redis://cache:6379/0", "dsn")]),
        (
            "SF_URL",
            "snowflake://etl:pw@acme-xy12345/db/schema?warehouse=WH",
            [("snowflake:acme-xy12345", "warehouse")],
        ),
        ("BQ_URL", "bigquery://my-project/dataset", [("bigquery:my-project", "warehouse")]),
        (
            "RS",
            "redshift+psycopg2://u:p@c1.abc.us-east-1.redshift.amazonaws.com:5439/dev",
            [("redshift:c1.abc.us-east-1.redshift.amazonaws.com", "warehouse")],
        ),
        ("BIGQUERY_PROJECT", "my-project", [("bigquery:my-project", "warehouse")]),
        ("GCP_PROJECT", "my-project", [("bigquery:my-project", "warehouse")]),
        ("training.bigquery.project_id", "my-project", [("bigquery:my-project", "warehouse")]),
        ("SNOWFLAKE_ACCOUNT", "acme-xy12345", [("snowflake:acme-xy12345", "warehouse")]),
        (
            "SNOWFLAKE_ACCOUNT",
            "acme-xy12345.snowflakecomputing.com",
            [("snowflake:acme-xy12345", "warehouse")],
        ),
        (
            "REDSHIFT_HOST",
            "c1.abc.us-east-1.redshift.amazonaws.com",
            [("redshift:c1.abc.us-east-1.redshift.amazonaws.com", "warehouse")],
        ),
        (
            "DATABRICKS_HOST",
            "https://dbc-123.cloud.databricks.com",
            [("databricks:dbc-123.cloud.databricks.com", "warehouse")],
        ),
        ("DATA", "s3://training-data/raw/2024/", [("s3://training-data", "bucket")]),
        ("DATA", "gs://bucket", [("gs://bucket", "bucket")]),
        (
            "LAKE",
            "abfs://raw@acct.dfs.core.windows.net/x",
            [("abfs://raw@acct.dfs.core.windows.net", "bucket")],
        ),
        ("OLD", "s3a://AKIAIOSFODNN7EXAMPLE:sekret@bucket/x", [("s3a://bucket", "bucket")]),
        (
            "MLFLOW_TRACKING_URI",
            "http://mlflow.internal:5000/",
            [("http://mlflow.internal:5000", "url")],
        ),
        (
            "PIP_INDEX_URL",
            "https://u:tok@pypi.corp/simple",
            [("https://pypi.corp/simple", "index")],
        ),
        ("GRPC", "grpc://model-server:8500", [("grpc://model-server:8500", "url")]),
        (
            "KAFKA",
            "kafka-1:9092,kafka-2:9092",
            [("kafka-1:9092", "host"), ("kafka-2:9092", "host")],
        ),
        ("DB_HOST", "postgres.internal", [("postgres.internal", "host")]),
        (
            "CLONE",
            "https://ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/acme/x.git",
            [("https://github.com/acme/x.git", "url")],
        ),
    ],
)
def test_targets(key: str, value: str, expected: list[tuple[str, str]]) -> None:
    assert targets(key, value) == expected


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("time", "12:30"),
        ("model", "gpt2"),
        ("max_tokens", 512),
        ("enabled", True),
        ("DB_URL", "${DB_URL}"),
        ("GOOGLE_CLOUD_PROJECT", "${PROJECT}"),
        ("cache", "sqlite:///tmp/cache.db"),
        ("path", "file:///data/x"),
        ("DB_HOST", "true"),
        ("x", None),
    ],
)
def test_not_targets(key: str, value: object) -> None:
    assert targets(key, value) == []


def test_no_password_survives() -> None:
    found = targets_from_config(
        "U", "postgresql://u:Very$ecret@db:5432/x?password=Other1", file="f", line=1
    )
    assert "ecret" not in repr(found) and "Other1" not in repr(found)


def test_free_text_and_key_scope_line() -> None:
    text = "curl -fsSL https://u:tok@files.internal/x.sh | sh && gsutil cp gs://training-data/model.pt ."
    found = targets_from_text(text, file="Dockerfile", line=7, scope="api")
    assert [(t.target, t.kind, t.line, t.scope) for t in found] == [
        ("https://files.internal/x.sh", "url", 7, "api"),
        ("gs://training-data", "bucket", 7, "api"),
    ]
    assert "tok" not in repr(found)


def test_classify_url_rejects_non_urls() -> None:
    assert classify_url("not a url") is None
    assert classify_url("http://") is None
    assert classify_url("http://[broken") is None
