"""Config rules DA301-DA304: keys from Dockerfile ENV, compose, .env and YAML files."""

from __future__ import annotations

from depaudit.model import ConfigEntry, Finding
from depaudit.rules import (
    config_value_drift,
    shared_config,
    training_config_in_serving,
    training_secret_in_serving_config,
)
from depaudit.rules.config_keys import normalized_key
from depaudit.secrets import mask_value
from tests.depaudit.rules.rulekit import run


def cfg(key: str, value: str, file: str = "serving/Dockerfile", line: int = 1) -> ConfigEntry:
    """A config entry as a source writes it: secret values are masked first."""
    stored, secret = mask_value(key, value)
    return ConfigEntry(key=key, value=stored, file=file, line=line, secret=secret)


def summary(findings: list[Finding]) -> list[tuple[str, str, str, str, str, str]]:
    return [(f.rule, f.status, f.item, f.severity, f.training, f.serving) for f in findings]


def test_normalized_key_uses_env_var_leaf_only() -> None:
    assert normalized_key("ENV.WANDB_API_KEY") == "WANDB_API_KEY"
    assert normalized_key("services.api.environment.MODEL_DIR") == "MODEL_DIR"
    assert normalized_key("spec.template.spec.containers[0].env.LOG_LEVEL") == "LOG_LEVEL"
    assert normalized_key("MODEL_DIR") == "MODEL_DIR"
    assert normalized_key("training.epochs") == "training.epochs"


def test_da301_tracker_and_warehouse_secrets_are_high_and_masked() -> None:
    serving = [
        cfg("ENV.WANDB_API_KEY", "0123456789abcdef0123456789abcdef01234567", line=7),
        cfg("environment.SNOWFLAKE_ACCOUNT", "acme-xy123", file="docker-compose.yml", line=12),
        cfg("ENV.PORT", "8080", line=8),
    ]
    found = run(training_secret_in_serving_config.RULE, [], serving)
    assert [(f.rule, f.status, f.item, f.severity) for f in found] == [
        ("DA301", "leftover", "SNOWFLAKE_ACCOUNT", "high"),
        ("DA301", "leftover", "WANDB_API_KEY", "high"),
    ]
    assert found[1].serving.startswith("***masked:")
    assert "0123456789abcdef" not in found[1].serving + found[1].message
    assert (found[1].file, found[1].line) == ("serving/Dockerfile", 7)


def test_da301_secret_under_a_medium_tracker_glob_is_promoted() -> None:
    serving = [cfg("ENV.WANDB_TOKEN", "s3cr3t-value-here")]
    assert [f.rule for f in run(training_secret_in_serving_config.RULE, [], serving)] == ["DA301"]
    assert run(training_config_in_serving.RULE, [], serving) == []


def test_da302_tracker_uri_and_hyperparameters_with_knowledge_severity() -> None:
    serving = [
        cfg("ENV.MLFLOW_TRACKING_URI", "http://mlflow:5000", line=3),
        cfg("model.epochs", "20", file="serving/config.yaml", line=9),
        cfg("ENV.WANDB_MODE", "disabled", line=4),
        cfg("model.batch_size", "32", file="serving/config.yaml", line=10),  # inference too
    ]
    training = [cfg("ENV.MLFLOW_TRACKING_URI", "http://mlflow:5000", file="training/Dockerfile")]
    found = run(training_config_in_serving.RULE, training, serving)
    assert summary(found) == [
        (
            "DA302",
            "leftover",
            "MLFLOW_TRACKING_URI",
            "medium",
            "http://mlflow:5000",
            "http://mlflow:5000",
        ),
        ("DA302", "leftover", "WANDB_MODE", "medium", "", "disabled"),
        ("DA302", "leftover", "model.epochs", "low", "", "20"),
    ]
    assert (
        run(training_config_in_serving.RULE, training, serving, {"DA302": ("model.epochs",)})[
            -1
        ].item
        == "WANDB_MODE"
    )


def test_da303_and_da304_compare_on_the_normalized_key_across_file_formats() -> None:
    training = [
        cfg("ENV.FEATURE_VERSION", "v3", file="training/Dockerfile"),
        cfg("ENV.TOKENIZER", "bert-base-uncased", file="training/Dockerfile"),
        cfg("preprocess.max_len", "512", file="training/config.yaml"),
    ]
    serving = [
        cfg("services.api.environment.FEATURE_VERSION", "v2", file="docker-compose.yml", line=14),
        cfg("TOKENIZER", "bert-base-uncased", file="serving/.env", line=2),
        cfg("preprocess.max_len", "256", file="serving/config.yaml", line=5),
    ]
    drift = run(config_value_drift.RULE, training, serving)
    assert summary(drift) == [
        ("DA303", "drift", "FEATURE_VERSION", "low", "v3", "v2"),
        ("DA303", "drift", "preprocess.max_len", "low", "512", "256"),
    ]
    assert (drift[0].file, drift[0].line) == ("docker-compose.yml", 14)
    shared = run(shared_config.RULE, training, serving)
    assert summary(shared) == [
        ("DA304", "shared", "TOKENIZER", "info", "bert-base-uncased", "bert-base-uncased")
    ]


def test_masked_values_compare_by_fingerprint() -> None:
    same = "postgres-password-1"
    training = [cfg("ENV.DB_PASSWORD", same, file="training/Dockerfile")]
    equal = [cfg("ENV.DB_PASSWORD", same)]
    other = [cfg("ENV.DB_PASSWORD", "another-password")]
    assert [f.rule for f in run(shared_config.RULE, training, equal)] == ["DA304"]
    drift = run(config_value_drift.RULE, training, other)
    assert [f.rule for f in drift] == ["DA303"]
    assert "different secret" in drift[0].message
    assert same not in drift[0].training and "another" not in drift[0].serving


def test_keys_on_one_side_only_give_no_drift_or_shared() -> None:
    training = [cfg("ENV.DATA_DIR", "/data", file="training/Dockerfile")]
    serving = [cfg("ENV.PORT", "8080")]
    assert run(config_value_drift.RULE, training, serving) == []
    assert run(shared_config.RULE, training, serving) == []


def test_a_training_key_in_serving_is_a_leftover_not_shared_or_drift() -> None:
    training = [cfg("BIGQUERY_PROJECT", "acme-analytics"), cfg("WANDB_PROJECT", "fraud")]
    serving = [cfg("BIGQUERY_PROJECT", "acme-analytics"), cfg("WANDB_PROJECT", "fraud-serving")]
    leftovers = run(training_secret_in_serving_config.RULE, training, serving) + run(
        training_config_in_serving.RULE, training, serving
    )
    assert {f.item for f in leftovers} == {"BIGQUERY_PROJECT", "WANDB_PROJECT"}
    assert run(shared_config.RULE, training, serving) == []
    assert run(config_value_drift.RULE, training, serving) == []
    # once allowed as a leftover, the key is compared like any other
    allowed = {"DA302": ("WANDB_PROJECT",), "DA301": ("BIGQUERY_PROJECT",)}
    assert [f.item for f in run(config_value_drift.RULE, training, serving, allowed)] == [
        "WANDB_PROJECT"
    ]
    assert [f.item for f in run(shared_config.RULE, training, serving, allowed)] == [
        "BIGQUERY_PROJECT"
    ]
