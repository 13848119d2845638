"""Network rules DA401-DA404: hosts, URLs, DSNs, buckets and warehouse projects."""

from __future__ import annotations

from depaudit.knowledge import builtin
from depaudit.model import Finding, NetworkTarget
from depaudit.rules import (
    other_network_targets,
    tracker_host_in_serving,
    training_bucket_in_serving,
    training_network_in_serving,
)
from depaudit.rules.view import PairView
from tests.depaudit.rules.rulekit import env, run


def net(
    target: str, kind: str = "url", file: str = "serving/config.yaml", line: int = 1
) -> NetworkTarget:
    return NetworkTarget(target=target, kind=kind, file=file, line=line)  # type: ignore[arg-type]


def summary(findings: list[Finding]) -> list[tuple[str, str, str, str, str, str]]:
    return [(f.rule, f.status, f.item, f.severity, f.training, f.serving) for f in findings]


SERVING = [
    net("https://acme-xy123.snowflakecomputing.com/", "url", line=2),
    net("bigquery:acme-analytics", "warehouse", line=3),
    net("postgresql://feature-db.corp.internal:5432/features", "dsn", line=4),
    net("10.20.0.15", "host", line=5),
    net("https://api.wandb.ai", "url", line=6),
    net("http://mlflow:5000", "url", line=7),
    net("s3://acme-raw-events/2024/", "bucket", line=8),
    net("gs://acme-models/prod/model.pkl", "bucket", line=9),
    net("https://api.stripe.com/v1", "url", line=10),
    net("https://pypi.internal/simple", "index", file="serving/requirements.txt", line=1),
]


def test_da401_warehouses_and_internal_hosts_are_high() -> None:
    found = run(
        training_network_in_serving.RULE, [net("bigquery:acme-analytics", "warehouse")], SERVING
    )
    assert summary(found) == [
        ("DA401", "leftover", "10.20.0.15", "high", "", "10.20.0.15"),
        (
            "DA401",
            "leftover",
            "acme-xy123.snowflakecomputing.com",
            "high",
            "",
            "https://acme-xy123.snowflakecomputing.com/",
        ),
        (
            "DA401",
            "leftover",
            "bigquery:acme-analytics",
            "high",
            "bigquery:acme-analytics",
            "bigquery:acme-analytics",
        ),
        (
            "DA401",
            "leftover",
            "feature-db.corp.internal",
            "high",
            "",
            "postgresql://feature-db.corp.internal:5432/features",
        ),
    ]
    # a private package index is build-time, never DA401
    assert "pypi.internal" not in [f.item for f in found]


def test_da402_tracker_hosts_are_medium() -> None:
    found = run(tracker_host_in_serving.RULE, [], SERVING)
    assert summary(found) == [
        ("DA402", "leftover", "api.wandb.ai", "medium", "", "https://api.wandb.ai"),
        ("DA402", "leftover", "mlflow", "medium", "", "http://mlflow:5000"),
    ]
    assert (found[1].file, found[1].line) == ("serving/config.yaml", 7)


def test_da403_training_data_buckets_but_not_model_buckets() -> None:
    found = run(training_bucket_in_serving.RULE, [], SERVING)
    assert summary(found) == [
        ("DA403", "leftover", "s3://acme-raw-events", "high", "", "s3://acme-raw-events/2024/")
    ]


def test_da404_lists_the_rest_by_side_and_never_repeats_a_leftover() -> None:
    training = [
        net("gs://acme-models/prod/model.pkl", "bucket", file="training/train.yaml"),
        net("https://acme-xy123.snowflakecomputing.com/", "url", file="training/train.yaml"),
        net("https://huggingface.co", "url", file="training/train.yaml"),
    ]
    found = run(other_network_targets.RULE, training, SERVING)
    assert summary(found) == [
        ("DA404", "serving_only", "api.stripe.com", "info", "", "https://api.stripe.com/v1"),
        (
            "DA404",
            "shared",
            "gs://acme-models",
            "info",
            "gs://acme-models/prod/model.pkl",
            "gs://acme-models/prod/model.pkl",
        ),
        ("DA404", "training_only", "huggingface.co", "info", "https://huggingface.co", ""),
        ("DA404", "serving_only", "pypi.internal", "info", "", "https://pypi.internal/simple"),
    ]


def test_allow_list_and_repo_knowledge_overrides() -> None:
    assert (
        run(training_network_in_serving.RULE, [], SERVING, {"DA401": ("10.20.0.15",)})[0].item
        != "10.20.0.15"
    )
    ctx = PairView.of(
        env("training", []),
        env("serving", [net("https://dwh.acme.example/query")]),
        builtin().with_overrides({"training_hosts": ["dwh.acme.example"]}),
    )
    assert [f.item for f in training_network_in_serving.RULE.check(ctx)] == ["dwh.acme.example"]


def test_cached_views_follow_the_knowledge_object_not_just_the_snapshot() -> None:
    """Views are built per pair and knowledge: a different knowledge object gets its own."""
    serving = env("serving", [net("https://dwh.acme.example/query")])
    training = env("training", [])
    plain = PairView.of(training, serving, builtin())
    extended = PairView.of(
        training, serving, builtin().with_overrides({"training_hosts": ["dwh.acme.example"]})
    )
    assert [f.status for f in other_network_targets.RULE.check(plain)] == ["serving_only"]
    assert [f.item for f in training_network_in_serving.RULE.check(extended)] == [
        "dwh.acme.example"
    ]
    assert list(other_network_targets.RULE.check(extended)) == []
    assert [f.status for f in other_network_targets.RULE.check(plain)] == ["serving_only"]
