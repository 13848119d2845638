"""Secrets planted in every place they occur never leave depaudit unmasked.

A repository with several commits plants one distinct secret per shape (configs of every
format, .env, Dockerfile ENV / ARG, k8s env values and a Secret, compose environment,
DSNs, an index URL with a token, a private key block, AWS / GCP / Slack / GitHub /
Hugging Face tokens as string literals in serving code). After ``collect`` with history,
no secret may appear in the store's bytes (db and -wal), any report format, ``check`` in
any format, any stdout / stderr, or any dashboard page.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from reliability_helpers import ROOT, GitRepo, run_depaudit

from depaudit.secrets import fingerprint, mask

PRIVATE_KEY_BODY = "MIIEowIBAAKCAQEAqSecretKeyBodyLine0123456789abcdefghijklmnop"
PRIVATE_KEY = f"-----BEGIN RSA PRIVATE KEY-----\n{PRIVATE_KEY_BODY}\n-----END RSA PRIVATE KEY-----"
PRIVATE_KEY_ESCAPED = PRIVATE_KEY.replace("\n", "\\n")  # as a YAML double-quoted string
SLACK_WEBHOOK = "https://hooks.slack.com/services/T0ABCDEF1/B0ABCDEF2/zXcVbNmAsDfGhJkLqWeRtYuI"

# shape -> the secret value planted for it (each distinct, each greppable)
SECRETS: dict[str, str] = {
    "yaml password": "yamlPw-7f3a9c1e5d",
    "toml api_key": "tomlKey-2b8d4e6f0a",
    "json secret": "jsonSecret-9c1d3e5a7b",
    "ini password": "iniPw-4e6f8a0b2c",
    ".env api key": "envWandb-1a2b3c4d5e",
    "dockerfile ENV": "dockerEnvPw-5f6a7b8c9d",
    "dockerfile ARG": "dockerArgTok-6a7b8c9d0e",
    "k8s env value": "k8sEnvPw-7b8c9d0e1f",
    "k8s Secret stringData": "k8sSecretTok-8c9d0e1f2a",
    "k8s Secret data (base64)": base64.b64encode(b"k8sSecretData-0e1f").decode(),
    "compose environment": "composePw-9d0e1f2a3b",
    "DSN password": "dsnPw-0e1f2a3b4c",
    "URL password": "urlPw-1f2a3b4c5d",
    "index-url token": "idxTok-2a3b4c5d6e",
    "private key block": PRIVATE_KEY_BODY,
    "AWS access key id": "AKIAQ7WERTYUIOPASDF2",
    "AWS secret access key": "wJalrXUtnFEMIK7MDENGbPxRfiCYzEXAMPLEKEY9",
    "GCP service-account private key": "-----BEGIN PRIVATE KEY-----gcpKeyBodyAbCdEf0123",
    "GCP private_key_id": "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
    "Slack bot token": "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "Slack webhook": SLACK_WEBHOOK.rsplit("/", 1)[1],
    "GitHub token": "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",
    "Hugging Face token": "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYz01234567",
    "commit-2 replacement password": "yamlPwRotated-3c5e7a9b1d",
}
S = SECRETS


def serving_files(yaml_password: str) -> dict[str, str | bytes | None]:
    return {
        "serving/config.yaml": (
            f"db:\n  host: db.internal\n  password: {yaml_password}\n"
            f"database_url: postgresql://svc:{S['DSN password']}@warehouse.internal:5432/fraud\n"
            f'tls_private_key: "{PRIVATE_KEY_ESCAPED}"\n'
        ),
        "serving/settings.toml": f'[tracking]\napi_key = "{S["toml api_key"]}"\nproject = "fraud"\n',
        "serving/config.json": json.dumps({"auth": {"secret": S["json secret"], "user": "svc"}}),
        "serving/app.ini": f"[database]\nhost = db.internal\npassword = {S['ini password']}\n",
        "serving/.env": (
            f"WANDB_API_KEY={S['.env api key']}\nAWS_ACCESS_KEY_ID={S['AWS access key id']}\n"
            f"AWS_SECRET_ACCESS_KEY={S['AWS secret access key']}\n"
        ),
        "serving/Dockerfile": (
            "FROM python:3.11-slim\n"
            f"ARG HF_TOKEN={S['dockerfile ARG']}\n"
            f"ENV DB_PASSWORD={S['dockerfile ENV']} LOG_LEVEL=info\n"
            "COPY . /app\n"
            'CMD ["uvicorn", "serving.app:app"]\n'
        ),
        "serving/requirements.txt": (
            f"--index-url https://deploy:{S['index-url token']}@pypi.internal/simple\n"
            "fastapi==0.110.0\nwandb==0.16.0\n"
        ),
        "serving/gcp-sa.json": json.dumps(
            {
                "type": "service_account",
                "project_id": "fraud-prod",
                "private_key_id": S["GCP private_key_id"],
                "private_key": S["GCP service-account private key"]
                + "\n-----END PRIVATE KEY-----\n",
                "client_email": "svc@fraud-prod.iam.gserviceaccount.com",
            }
        ),
        "serving/app.py": (
            "import os\nfrom fastapi import FastAPI\n\n"
            f'SLACK_TOKEN = "{S["Slack bot token"]}"\n'
            f'SLACK_WEBHOOK_URL = "{SLACK_WEBHOOK}"\n'
            f'GITHUB = "{S["GitHub token"]}"\n'
            f'HF = "{S["Hugging Face token"]}"\n'
            f'AWS_KEY = "{S["AWS access key id"]}"\n'
            f'MLFLOW = "https://ml:{S["URL password"]}@mlflow.internal/api"\n'
            "app = FastAPI()\n"
        ),
        "k8s/serving.yaml": (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: serving\nspec:\n  template:\n"
            "    spec:\n      containers:\n        - name: api\n          image: fraud-api:1\n"
            f"          env:\n            - name: DB_PASSWORD\n              value: {S['k8s env value']}\n"
            "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\ntype: Opaque\n"
            f"data:\n  password: {S['k8s Secret data (base64)']}\n"
            f"stringData:\n  token: {S['k8s Secret stringData']}\n"
        ),
        "docker-compose.yml": (
            "services:\n  api:\n    build: ./serving\n    environment:\n"
            f"      POSTGRES_PASSWORD: {S['compose environment']}\n"
            f"      MLFLOW_TRACKING_URI: https://ml:{S['URL password']}@mlflow.internal\n"
        ),
    }


TRAINING = {
    "training/requirements.txt": "torch==2.1.0\nwandb==0.16.0\n",
    # the same secret on the training side: the same fingerprint must show up
    "training/config.yaml": f"db:\n  host: db.internal\n  password: {S['yaml password']}\n",
    "training/.env": f"WANDB_API_KEY={S['.env api key']}-training\n",
}


def planted_shapes() -> int:
    return len(SECRETS)


@pytest.fixture(scope="module")
def leaky(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("secrets")
    repo = GitRepo(base / "leaky")
    repo.commit("training", dict(TRAINING))
    repo.commit("serving with secrets", serving_files(S["yaml password"]))
    repo.commit("rotate the password", serving_files(S["commit-2 replacement password"]))
    repo.commit("docs", {"README.md": "# leaky\n"})
    db = base / "store.db"
    outputs: list[str] = []
    proc = run_depaudit("collect", str(repo.path), "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    outputs += [proc.stdout, proc.stderr]
    store_bytes = b"".join(p.read_bytes() for p in base.iterdir() if p.name.startswith("store.db"))
    return {"repo": repo, "db": db, "base": base, "outputs": outputs, "store_bytes": store_bytes}


def leaks_in(text: str) -> list[str]:
    return [shape for shape, value in SECRETS.items() if value in text]


def test_no_secret_in_the_store_bytes(leaky: dict[str, Any]) -> None:
    raw = leaky["store_bytes"].decode("latin-1")
    fingerprints = set(re.findall(r"\*\*\*masked:([0-9a-f]{8})", raw))
    print(f"distinct masked fingerprints in the store: {len(fingerprints)}")
    assert len(fingerprints) >= 12  # the collector did read (and mask) the planted secrets
    assert leaks_in(raw) == []
    assert leaks_in(leaky["base"].joinpath("store.db").read_bytes().decode("latin-1")) == []
    assert leaks_in("".join(leaky["outputs"])) == []


def test_no_secret_in_any_report_or_check_output(leaky: dict[str, Any]) -> None:
    repo, db = leaky["repo"], leaky["db"]
    texts: list[str] = []
    for fmt in ("csv", "json", "markdown", "sarif"):
        for extra in ([], ["--all-commits"]):
            proc = run_depaudit("report", "--db", str(db), "--format", fmt, *extra)
            assert proc.returncode == 0, proc.stderr
            texts += [proc.stdout, proc.stderr]
    history = run_depaudit("history", "--help")
    texts.append(history.stdout)
    for fmt in ("table", "csv", "json", "markdown", "sarif"):
        for extra in ([], ["--rev", "HEAD~1"], ["--rev", "HEAD~2"]):
            proc = run_depaudit(
                "check", str(repo.path), "--format", fmt, "--fail-on", "never", *extra
            )
            assert proc.returncode == 0, proc.stderr
            texts += [proc.stdout, proc.stderr]
    joined = "\n".join(texts)
    fingerprints = set(re.findall(r"\*\*\*masked:([0-9a-f]{8})", joined))
    assert len(fingerprints) >= 3, fingerprints  # findings do show masked secrets
    leaked = leaks_in(joined)
    print(f"secret shapes planted: {planted_shapes()}, leaked in reports/check/CLI: {len(leaked)}")
    assert leaked == []


def stored_config_values(db: Path) -> dict[tuple[str, str, str], str]:
    """(environment, file, key) -> stored value of every config fact in the head state."""
    from depaudit.model import ConfigEntry
    from depaudit.store.reader import StoreReader

    reader = StoreReader(f"sqlite:///{db}")
    out: dict[tuple[str, str, str], str] = {}
    for commit in reader.commits("leaky"):
        for env in reader.environments_at("leaky", commit.sha):
            for fact in env.facts:
                if isinstance(fact, ConfigEntry):
                    out[(commit.sha[:7] + ":" + env.name, fact.file, fact.key)] = fact.value
    reader.close()
    return out


def test_masked_values_keep_the_key_and_a_fingerprint(leaky: dict[str, Any]) -> None:
    values = stored_config_values(leaky["db"])
    by_key: dict[str, set[str]] = {}
    for (_, file, key), value in values.items():
        by_key.setdefault(f"{file}:{key}", set()).add(value)
    # the key is kept, the value replaced by a fingerprinted mask
    assert by_key["training/config.yaml:db.password"] == {mask(S["yaml password"])}
    serving_pw = by_key["serving/config.yaml:db.password"]
    assert serving_pw == {mask(S["yaml password"]), mask(S["commit-2 replacement password"])}
    # same secret, same fingerprint (training and serving); a different one, a different one
    assert fingerprint(S["yaml password"]) != fingerprint(S["commit-2 replacement password"])
    assert by_key["serving/.env:WANDB_API_KEY"] == {mask(S[".env api key"])}
    assert by_key["training/.env:WANDB_API_KEY"] == {mask(S[".env api key"] + "-training")}
    assert mask(S[".env api key"]) != mask(S[".env api key"] + "-training")
    masked = [v for v in values.values() if "***masked:" in v]
    assert all(len(v.split("***masked:")[1][:8]) == 8 for v in masked)


# ----------------------------------------------------------------------------- dashboard


def _walk(node: Any) -> Iterator[Any]:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def _element_texts(at: Any) -> str:
    parts: list[str] = []
    for node in _walk(at._tree):
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
        for attr in ("value", "label", "body", "options"):
            with contextlib.suppress(Exception):  # elements without the attribute
                parts.append(repr(getattr(node, attr)))
    return "\n".join(parts)


def dashboard_pages() -> list[str]:
    """Every page module the dashboard ships (dashboard/views/*.py)."""
    return sorted(
        p.stem for p in (ROOT / "dashboard" / "views").glob("*.py") if p.stem != "__init__"
    )


PAGES = dashboard_pages()


def test_no_secret_on_any_dashboard_page(
    leaky: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    streamlit_testing = pytest.importorskip("streamlit.testing.v1")
    import streamlit as st

    url = f"sqlite:///{leaky['db']}"
    monkeypatch.setenv("DEPAUDIT_DASHBOARD_DB", url)
    monkeypatch.delenv("DEPAUDIT_DB", raising=False)
    app = str(ROOT / "dashboard" / "app.py")
    texts: list[str] = []
    rendered = 0
    for page in PAGES:
        st.cache_data.clear()
        st.cache_resource.clear()
        at = streamlit_testing.AppTest.from_file(app, default_timeout=60)
        at.query_params["repo"] = "leaky"
        at.run()
        if page != "overview":
            at.switch_page(f"views/{page}.py")
            at.query_params["repo"] = "leaky"
            at.run()
        assert not at.exception, [e.value for e in at.exception]
        texts.append(_element_texts(at))
        rendered += 1
    joined = "\n".join(texts)
    assert "leaky" in joined and rendered == len(PAGES)
    leaked = leaks_in(joined)
    print(f"dashboard pages rendered: {rendered}, secret shapes leaked: {len(leaked)}")
    assert leaked == []


_ = os
