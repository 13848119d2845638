"""Masking: every planted secret shape disappears; fingerprints tell values apart."""

from __future__ import annotations

import json

import pytest

from depaudit.secrets import (
    fingerprint,
    is_masked,
    is_secret_key,
    mask,
    mask_value,
    scrub,
    strip_url_credentials,
)

AWS_ID = "AKIAIOSFODNN7EXAMPLE"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
GITHUB = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
SLACK = "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
SLACK_HOOK = "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
PEM_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7"
PRIVATE_KEY = f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n-----END RSA PRIVATE KEY-----"
GCP_SA = json.dumps(
    {
        "type": "service_account",
        "project_id": "acme-analytics",
        "private_key_id": "0123456789abcdef0123456789abcdef01234567",
        "private_key": f"-----BEGIN PRIVATE KEY-----\n{PEM_BODY}\n-----END PRIVATE KEY-----\n",
        "client_email": "trainer@acme-analytics.iam.gserviceaccount.com",
    }
)
BEARER = "eyJhbGciOi.ZXlKaGJHY2lPaUpJVXpJMU5pSjku.c2lnbmF0dXJlMTIz"

PLANTED = [
    (f"aws_access_key_id = {AWS_ID}\naws_secret_access_key = {AWS_SECRET}\n", [AWS_ID, AWS_SECRET]),
    (f"export AWS_SECRET_ACCESS_KEY={AWS_SECRET}", [AWS_SECRET]),
    (f"git clone https://{GITHUB}@github.com/acme/models.git", [GITHUB]),
    (f"GITHUB_TOKEN: {GITHUB}", [GITHUB]),
    (f"curl -X POST -d @msg.json {SLACK_HOOK}", ["XXXXXXXXXXXXXXXXXXXXXXXX"]),
    (f"slack token {SLACK}", [SLACK]),
    (PRIVATE_KEY, [PEM_BODY]),
    (GCP_SA, [PEM_BODY, "0123456789abcdef0123456789abcdef01234567"]),
    ("postgresql://etl:Pa55-w0rd@warehouse.internal:5432/dwh", ["Pa55-w0rd"]),
    ("mysql://root:p@ss@db/x", ["p@ss", "ss@db"]),
    (
        "pip install --index-url https://__token__:pypi-AgEIcHlwaS5vcmc@pypi.corp/simple x",
        ["pypi-AgEIcHlwaS5vcmc"],
    ),
    ("https://artifacts.corp/simple?token=abcdef123456&x=1", ["abcdef123456"]),
    (f'curl -H "Authorization: Bearer {BEARER}" https://api.example.com', [BEARER]),
    ("curl -H 'Authorization: token 0123456789abcdef' x", ["0123456789abcdef"]),
    ("mlflow --password hunter2hunter2 ui", ["hunter2hunter2"]),
    (
        "HF_TOKEN=hf_abcdefghijklmnopqrstuvwxyz012345 python serve.py",
        ["hf_abcdefghijklmnopqrstuvwxyz012345"],
    ),
]


@pytest.mark.parametrize(("text", "secrets"), PLANTED)
def test_scrub_removes_every_planted_shape(text: str, secrets: list[str]) -> None:
    out = scrub(text)
    for secret in secrets:
        assert secret not in out
    assert "***masked:" in out


def test_gcp_service_account_json_stays_json() -> None:
    data = json.loads(scrub(GCP_SA))
    assert is_masked(data["private_key"])
    assert data["project_id"] == "acme-analytics"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("aws_secret_access_key", AWS_SECRET),
        ("DB_PASSWORD", "hunter2"),
        ("wandb.api_key", "0123456789abcdef"),
        ("SLACK_WEBHOOK", SLACK_HOOK),
        ("HF_TOKEN", "anything"),
        ("apiKey", "anything"),
        ("SENTRY_DSN", "https://abc@o1.ingest.sentry.io/1"),
        ("MODEL_REGISTRY_URL", f"https://{GITHUB}@github.com/x"),
        # a service's token beside an ML word ("index", "hub") is still a credential
        ("PIP_INDEX_TOKEN", "tok-7f3a9c2e1b5d4a6f"),
        ("HF_HUB_TOKEN", "plain-looking-value"),
    ],
)
def test_mask_value_secret(key: str, value: str) -> None:
    shown, secret = mask_value(key, value)
    assert secret
    assert value not in shown


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("model_name", "gpt2"),
        ("API_URL", "http://api.example.com"),
        ("max_tokens", "512"),
        ("max_new_tokens", "128"),
        ("pad_token_id", "0"),
        ("token_index", "3"),
        ("vocab_index_token", "[UNK]"),
        ("eos_token", "</s>"),
        ("tokenizer_name", "bert-base-uncased"),
        ("author", "Jane"),
        ("token_url", "https://auth.example.com/token"),
        ("password_file", "/run/secrets/db"),
    ],
)
def test_ordinary_values_stay_readable(key: str, value: str) -> None:
    assert mask_value(key, value) == (value, False)


def test_free_text_ordinary_stays_readable() -> None:
    for text in ("gpt2", "http://api.example.com", "max_tokens: 512", "password = get_password()"):
        assert scrub(text) == text


def test_fingerprints() -> None:
    assert fingerprint("secret-one") == fingerprint("secret-one")
    assert fingerprint("secret-one") != fingerprint("secret-two")
    assert mask_value("DB_PASSWORD", "a1")[0] != mask_value("DB_PASSWORD", "a2")[0]
    # the same secret masked in a DSN and under a secret key gets the same fingerprint
    in_dsn = scrub("postgresql://u:Same-Secret@db/x")
    assert fingerprint("Same-Secret") in in_dsn
    assert mask("Same-Secret") == mask_value("PGPASSWORD", "Same-Secret")[0]


def test_masking_is_idempotent() -> None:
    once = scrub(f"postgresql://u:pw12345@db/x {GITHUB}")
    assert scrub(once) == once
    shown, _ = mask_value("DB_PASSWORD", "x")
    assert mask_value("DB_PASSWORD", shown) == (shown, False)


def test_strip_url_credentials() -> None:
    assert strip_url_credentials("postgresql://u:p@host:5432/db") == "postgresql://host:5432/db"
    assert strip_url_credentials("redis://:pw@cache:6379") == "redis://cache:6379"
    assert strip_url_credentials("https://host/x") == "https://host/x"
    out = strip_url_credentials("https://host/x?sig=abc123&v=1")
    assert "abc123" not in out and "v=1" in out


def test_is_secret_key_edges() -> None:
    assert is_secret_key("ENV.WANDB_API_KEY")
    assert is_secret_key("spec.containers[0].env.DB_PASSWORD")
    assert not is_secret_key("training.epochs")
    assert not is_secret_key("generation.max_tokens")


@pytest.mark.parametrize(
    "key",
    [
        "pwd",
        "DB_PWD",
        "db_pass",
        "PGPASS",
        "passphrase",
        "auth.basic",
        "auth.key",
        "credentials.db[0]",
        "api_keys[1]",
        "secrets.prod.value",
        "sso.auth.tokens[0]",
        "os.environ.DB_PASSWORD",
        "settings.warehouse.passwd",
        "AUTHORIZATION",
        "session_cookie",
        "jwt_secret",
    ],
)
def test_secret_keys_by_leaf_or_parent(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize(
    "key",
    [
        "auth.type",
        "auth.enabled",
        "auth.url",
        "auth.user",
        "credentials.project_id",
        "oauth.scopes[0]",
        "secrets.name",
        "author",
        "AUTHORS",
        "author_name",
        "authority",
        "PassengerId",
        "passengers",
        "num_passes",
        "tokenizer.pad_token",
        "special_tokens.pad",
        "generation.max_new_tokens",
        "password_file",
        "",
    ],
)
def test_keys_that_only_look_secret(key: str) -> None:
    assert not is_secret_key(key)


# (text, the secret) -- each value masked whole, whatever punctuation it holds
WHOLE_VALUES = [
    ('"password": "Tr0ub4dor&3"', "Tr0ub4dor&3"),
    ("password = 'Tr0ub4dor&3 with spaces'", "Tr0ub4dor&3 with spaces"),
    ("DB_PASSWORD=Tr0ub4dor&3", "Tr0ub4dor&3"),
    ("mysql --password='p#ss;w&rd' db", "p#ss;w&rd"),
    ("PGPWD=hunter2hunter2 psql", "hunter2hunter2"),
    ("curl -u admin:Tr0ub4dor&3x http://x/", "Tr0ub4dor"),
    ("curl --user 'svc:two words' http://x/", "two words"),
    ("curl -fsS -u sk_live_0123456789abcdef: https://api.stripe.com", "sk_live_0123456789abcdef"),
    ("http -a svc:Hunter2-Httpie GET http://x/", "Hunter2-Httpie"),
]


@pytest.mark.parametrize(("text", "secret"), WHOLE_VALUES)
def test_scrub_masks_whole_values(text: str, secret: str) -> None:
    out = scrub(text)
    assert "***masked:" in out
    for piece in secret.replace("&", " ").replace("#", " ").replace(";", " ").split():
        if len(piece) >= 4:
            assert piece not in out, out


@pytest.mark.parametrize(
    "text",
    [
        "https://x/?password=abcd1234&user=bob",  # "&name=" ends a query value
        "mysql --password=abcd1234 && run",  # "&&" ends a shell word
        "run --password=abcd1234 &",
    ],
)
def test_ampersand_separators_still_end_a_value(text: str) -> None:
    out = scrub(text)
    assert "abcd1234" not in out
    assert out.endswith(text.split("abcd1234", 1)[1])


@pytest.mark.parametrize(
    "text",
    [
        "docker run -u 1000:1000 acme/api",
        "chown -R app:app /srv",
        "curl -u $API_USER:$API_PASSWORD http://x/",
        "--auth-type=${AUTH_TYPE}",
        "author: Jane Doe",
        "PassengerId: 42",
    ],
)
def test_free_text_without_secret_values_stays_readable(text: str) -> None:
    assert scrub(text) == text


def test_assignments_off_keeps_code_references() -> None:
    code = "password = settings.db_password\nconnect(password=password)"
    assert scrub(code, assignments=False) == code
    assert scrub(f"{code}\nx = '{AWS_ID}'", assignments=False).count("***masked:") == 1


@pytest.mark.parametrize(
    ("command", "secret"),
    [
        ("mysql -h db -uroot -pS3cretPw8 analytics", "S3cretPw8"),
        ("mysqldump --single-transaction -pHunter2x mydb > dump.sql", "Hunter2x"),
        ("mariadb -u app -pMaria77pw -e 'select 1'", "Maria77pw"),
        ("sshpass -p Ssh9pass scp model.pkl host:", "Ssh9pass"),
        ("redis-cli -h cache -a R3disPass ping", "R3disPass"),
        ("tool --password Long8Pass --verbose", "Long8Pass"),
    ],
)
def test_client_password_options_are_masked(command: str, secret: str) -> None:
    masked = scrub(command)
    assert secret not in masked and "masked" in masked


@pytest.mark.parametrize(
    "command",
    [
        "mysql -p analytics",  # -p alone: mysql asks for the password
        "mysql -p$MYSQL_PASSWORD analytics",  # a variable, not the value
        "python train.py -p 3 --epochs 10",  # -p of another program
        "sshpass -p $SSHPASS scp model.pkl host:",
    ],
)
def test_password_options_without_a_value_stay(command: str) -> None:
    assert scrub(command) == command
