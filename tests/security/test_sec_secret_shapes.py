"""Secrets planted everywhere real ML repos keep them never leave depaudit unmasked.

A three-commit repository (secrets added in commit 2, changed in commit 3) is collected
into a SQLite store; the store's bytes, every report / history / check format, all CLI
output and every dashboard page are searched for each planted value, and for each piece
of a value with punctuation (a mask that stops at ``&`` leaks the tail).

Python code carries its secrets in many shapes (``pwd = ...``, ``os.environ["X"] = ...``,
keyword arguments, dict literals, defaults, comparisons...): training and serving copy
the same small functions and diverge, so DA207 puts their bodies in its diff evidence.
"""

from __future__ import annotations

import base64
import json
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.gitrepo import GitRepo

DEPAUDIT = str(Path(sys.executable).parent / "depaudit")
APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
PAGES = ["overview", "leftovers", "drift", "shared", "history", "environment", "rules"]

# Every planted value, per version (commit 2 = "v2", commit 3 = "v3"). Unique and long.
PEM_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7sEcPlAnTeD{v}Zq"
SHARED_PW = "Shared-Pw-In-Two-Files-{v}-7c1e9a"


def secrets_for(v: str) -> dict[str, str]:
    return {
        "yaml_password": f"yaml-pw-{v}-Qx81ma02ZZ",
        "yaml_api_key": f"yaml-apikey-{v}-Lr55tt00Wq",
        "toml_secret": f"toml-secret-{v}-Pp09ab77Kk",
        "json_token": f"json-token-{v}-Hh11cd22Ee",
        "ini_password": f"ini-pw-{v}-Mm33ef44Gg",
        "env_dsn_pw": f"envdsnpw{v}Xy99zz",
        "wandb_key": f"0123456789abcdef0123456789abcdef0123{v}ab",
        "docker_env_pw": f"docker-env-pw-{v}-Nn55gh66",
        "docker_arg_token": f"docker-arg-token-{v}-Oo77ij88",
        "k8s_env_value": f"k8s-env-secret-{v}-Rr12kl34",
        "k8s_data_plain": f"k8s-data-plain-{v}-Ss56mn78",
        "k8s_string_data": f"k8s-stringdata-{v}-Tt90op12",
        "compose_pw": f"compose-pw-{v}-Uu34qr56",
        "pg_url_pw": f"pgurlpw{v}Vv78st90",
        "redis_pw": f"redispw{v}Ww12uv34",
        "index_token": f"indextoken{v}Yy56wx78zz",
        "pem_body": PEM_BODY.format(v=v),
        "aws_key_id": f"AKIAZ7Q3{v.upper()}K9PLMN4WX"[:20],
        "aws_secret": f"wJalrXUtnFEMI/K7MDENG/bPxRfiCY{v}EXAMPLEK"[:40],
        "gcp_private_key": f"MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSk{v}GcpGcp",
        "slack_bot": f"xoxb-1234567890-0987654321-{v}AbCdEfGhIjKlMnOp",
        "slack_hook": f"https://hooks.slack.com/services/T0000{v}/B0000{v}/XXXXXXXXXXXXXXXX{v}",
        "github": "ghp_" + f"{v}A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7"[:36],
        "hf": "hf_" + f"{v}HuggingFaceTokenAbCdEfGhIjKlMnOpQr"[:34],
        "shared_pw": SHARED_PW.format(v=v),
        "json_auth_basic": f"admin:Json-Auth-Basic-{v}-Kq73",
        "yaml_auth_list": f"Yaml-Auth-Listed-{v}-Zr18",
        "compose_curl_pw": f"Curl-User-Pw-{v}-Lx40",
        "k8s_mysql_pw": f"MysqlGluedPw{v}Qa19",
        "compose_sshpass_pw": f"SshPassPw{v}Zt83",
        **{f"code_{shape}": value for shape, value in code_secrets(v).items()},
    }


def code_secrets(v: str) -> dict[str, str]:
    """One value per code shape; several hold punctuation a text pattern stops at."""
    return {
        "short_name": f"Pwd-Short-{v}-Hx21",
        "punctuation": f"Amp-Head-{v}-q1&Amp-Tail-{v}-q2",
        "environ": f"Environ-Set-{v}-Ee90#Hash-Tail-{v}",
        "setdefault": f"Setdefault-{v}-Aa12;Semi-Tail-{v}",
        "getenv_default": f"Getenv-Default-{v}-Bb34",
        "kwarg": f"Kwarg-Pw-{v}-Cc56 Space-Tail-{v}",
        "param_default": f"Param-Default-{v}-Dd78",
        "dict_nested": f"admin:Dict-Nested-{v}-Ff90",
        "dict_header": f"Token Dict-Header-{v}-Gg12",
        "attribute": f"Attr-Secret-{v}-Hh34=Eq-Tail-{v}",
        "class_field": f"Class-Field-{v}-Ii56",
        "fstring": f"Fstring-Pw-{v}-Jj78",
        "auth_tuple": f"Auth-Tuple-{v}-Kk90",
        "compare": f"Compare-Pw-{v}-Ll12",
        "in_string": f"In-String-{v}-Mm34&In-String-Tail-{v}",
        "comment": f"Comment-Pw-{v}-Nn56",
        "triple_quoted": f"Triple-Quoted-{v}-Oo78",
        "bytes": f"Bytes-Secret-{v}-Pp90",
        "subscript_chain": f"Subscript-Chain-{v}-Qq12@At-Tail-{v}",
        "secret_call": f"Basic-Auth-Call-{v}-Rr34",
        "jwt_key": f"Jwt-Key-{v}-Ss56%Pct-Tail-{v}",
        "walrus": f"Walrus-Key-{v}-Tt78",
        "quote_inside": f"Quote-Head-{v}-u1'Quote-Tail-{v}-u2",
    }


def code_file(s: dict[str, str], divisor: int) -> str:
    """Small functions training and serving both define; they differ in ``divisor``."""
    c = {k.removeprefix("code_"): val for k, val in s.items() if k.startswith("code_")}
    shapes = {
        "short_name": [f'pwd = "{c["short_name"]}"'],
        "punctuation": [f'password = "{c["punctuation"]}"'],
        "environ": [f'os.environ["DB_PASSWORD"] = "{c["environ"]}"'],
        "setdefault": [f'os.environ.setdefault("WANDB_API_KEY", "{c["setdefault"]}")'],
        "getenv_default": [f'token = os.getenv("HF_TOKEN", "{c["getenv_default"]}")'],
        "kwarg": [f'conn = connect(host="db.internal", password="{c["kwarg"]}")'],
        "dict_nested": [f'cfg = {{"auth": {{"basic": "{c["dict_nested"]}", "type": "basic"}}}}'],
        "dict_header": [f'requests.get(URL, headers={{"Authorization": "{c["dict_header"]}"}})'],
        "fstring": [f'db_pass = f"{{prefix}}{c["fstring"]}"'],
        "auth_tuple": [f'requests.get(URL, auth=("svc", "{c["auth_tuple"]}"))'],
        "compare": [f'if password == "{c["compare"]}":', "    x = -x"],
        "in_string": [f"cmd = \"mysql --password='{c['in_string']}' features\""],
        "comment": [f"x = x + 0  # password: {c['comment']}"],
        "triple_quoted": ['note = """', f"client_secret = {c['triple_quoted']}", '"""'],
        "bytes": [f'api_secret = b"{c["bytes"]}"'],
        "subscript_chain": [f'settings["warehouse"]["passwd"] = "{c["subscript_chain"]}"'],
        "secret_call": [f'session = HTTPBasicAuth("svc", "{c["secret_call"]}")'],
        "jwt_key": [f'signed = jwt.encode(payload, "{c["jwt_key"]}", algorithm="HS256")'],
        "walrus": [f'if (session_key := "{c["walrus"]}"):', "    x = x + 1"],
        "quote_inside": [f'password = "{c["quote_inside"]}"'],
    }
    out = ["import os", "", "import jwt", "import requests", ""]
    for shape, lines in shapes.items():
        out += ["", f"def scale_{shape}(x, payload=None, prefix=''):"]
        out += [f"    {line}" for line in lines]
        out += [f"    return x / {divisor}", ""]
    out += [
        "",
        f'def scale_param_default(x, api_key="{c["param_default"]}"):',
        "    x = x + 0",
        f"    return x / {divisor}",
        "",
        "",
        "class ScalerAttribute:",
        "    def __init__(self):",
        f'        self.secret = "{c["attribute"]}"',
        f"        self.divisor = {divisor}",
        "",
        "",
        "class ScalerSettings:",
        f'    db_password: str = "{c["class_field"]}"',
        f"    divisor: int = {divisor}",
        "",
    ]
    return "\n".join(out)


def files_for(s: dict[str, str]) -> dict[str, str]:
    b64 = base64.b64encode(s["k8s_data_plain"].encode()).decode()
    pem = f"-----BEGIN RSA PRIVATE KEY-----\n{s['pem_body']}\n-----END RSA PRIVATE KEY-----"
    gcp = {
        "type": "service_account",
        "project_id": "acme-ml",
        "private_key_id": "0f1e2d3c4b5a69788796a5b4c3d2e1f0aabbccdd",
        "private_key": f"-----BEGIN PRIVATE KEY-----\\n{s['gcp_private_key']}\\n-----END PRIVATE KEY-----\\n",
        "client_email": "trainer@acme-ml.iam.gserviceaccount.com",
    }
    return {
        "training/requirements.txt": "torch==2.1.0\nwandb==0.16.0\n",
        "training/train.py": "import wandb\n\n\ndef main():\n    wandb.init()\n",
        "serving/config.yaml": (
            "database:\n"
            f"  password: {s['yaml_password']}\n"
            f"  api_key: {s['yaml_api_key']}\n"
            "model_path: /models/m.pt\n"
            f"tls:\n  key: |\n    {pem.replace(chr(10), chr(10) + '    ')}\n"
        ),
        "training/features.py": code_file(s, 2),
        "serving/features.py": code_file(s, 3),
        "serving/settings.json": json.dumps(
            {
                "auth": {"basic": s["json_auth_basic"], "type": "basic"},
                "sso": {"auth": {"tokens": [s["yaml_auth_list"]]}},
            }
        ),
        "serving/settings.toml": f'[warehouse]\nsecret = "{s["toml_secret"]}"\nhost = "db.internal"\n',
        "serving/config.json": json.dumps(
            {"tracker": {"token": s["json_token"], "db_password": s["shared_pw"]}}, indent=2
        ),
        "serving/app.ini": f"[db]\nuser = svc\npassword = {s['ini_password']}\n",
        "serving/.env": (
            f"DATABASE_URL=postgresql://svc:{s['env_dsn_pw']}@db.internal:5432/prod\n"
            f"WANDB_API_KEY={s['wandb_key']}\n"
            f"DB_PASSWORD={s['shared_pw']}\n"
        ),
        "serving/Dockerfile": (
            "FROM python:3.11-slim\n"
            f"ARG PIP_TOKEN={s['docker_arg_token']}\n"
            f"ENV DB_PASSWORD={s['docker_env_pw']}\n"
            f"ENV AWS_ACCESS_KEY_ID={s['aws_key_id']} AWS_SECRET_ACCESS_KEY={s['aws_secret']}\n"
            "COPY requirements.txt .\n"
            "RUN pip install -r requirements.txt\n"
            'CMD ["uvicorn", "serving.app:app"]\n'
        ),
        "serving/requirements.txt": (
            f"--index-url https://build:{s['index_token']}@pypi.internal/simple\n"
            "fastapi==0.110.0\nwandb==0.16.0\n"
        ),
        "serving/app.py": (
            "from fastapi import FastAPI\n\n"
            f'SLACK_TOKEN = "{s["slack_bot"]}"\n'
            f'ALERT_HOOK = "{s["slack_hook"]}"\n'
            f'GH = "{s["github"]}"\n'
            f'HF = "{s["hf"]}"\n'
            f'CACHE = "redis://:{s["redis_pw"]}@cache.internal:6379/0"\n'
            f'WAREHOUSE = "postgresql://u:{s["pg_url_pw"]}@h/db"\n\n'
            "app = FastAPI()\n"
        ),
        "serving/gcp-sa.json": json.dumps(gcp, indent=2),
        "deploy/k8s/deployment.yaml": (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n"
            "  template:\n    spec:\n      containers:\n        - name: api\n"
            "          image: acme/api:1\n"
            f'          command: ["sh", "-c", "mysql -h db -uapp -p{s["k8s_mysql_pw"]} -e ok"]\n'
            "          env:\n"
            "            - name: MODEL_API_TOKEN\n"
            f"              value: {s['k8s_env_value']}\n"
        ),
        "deploy/k8s/secret.yaml": (
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: api-secrets\ntype: Opaque\n"
            f"data:\n  db-password: {b64}\n"
            f"stringData:\n  tracker-token: {s['k8s_string_data']}\n"
        ),
        "docker-compose.yml": (
            "services:\n  api:\n    build: serving\n    environment:\n"
            f"      - POSTGRES_PASSWORD={s['compose_pw']}\n"
            "      - LOG_LEVEL=info\n"
            '    command: ["sh", "-c", '
            f'"curl -fsS -u admin:{s["compose_curl_pw"]} http://registry.internal/ready '
            f"&& sshpass -p {s['compose_sshpass_pw']} scp model.pkl host: "
            '&& uvicorn serving.app:app"]\n'
        ),
    }


V2, V3 = secrets_for("v2"), secrets_for("v3")


def pieces(value: str) -> list[str]:
    """The value and its pieces between punctuation: a mask cut short leaks a tail."""
    parts = [p for p in re.split(r"[&#;=@%:' ]", value) if len(p) >= 10]
    return [value, *parts]


def all_secrets() -> list[str]:
    out: list[str] = []
    for s in (V2, V3):
        for value in s.values():
            out.extend(pieces(value))
        out.append(base64.b64encode(s["k8s_data_plain"].encode()).decode())
    return sorted(set(out))


SECRETS = all_secrets()


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([DEPAUDIT, *args], capture_output=True, text=True, timeout=300)


class Collected:
    def __init__(self, root: Path) -> None:
        self.repo = GitRepo(root / "leaky")
        self.repo.commit(
            "layout",
            {
                "training/requirements.txt": "torch==2.1.0\n",
                "serving/requirements.txt": "fastapi==0.110.0\n",
            },
        )
        self.repo.commit("add config", files_for(V2))
        self.repo.commit("rotate", files_for(V3))
        self.db = root / "store.db"
        self.url = f"sqlite:///{self.db}"
        self.outputs: dict[str, str] = {}
        self.record("collect", run("collect", str(self.repo.path), "--db", str(self.db)))

    def record(self, name: str, proc: subprocess.CompletedProcess[str]) -> None:
        assert "Traceback" not in proc.stderr, proc.stderr
        assert proc.returncode in (0, 1), (name, proc.stderr)
        self.outputs[name] = proc.stdout + "\n" + proc.stderr


@pytest.fixture(scope="module")
def collected(tmp_path_factory: pytest.TempPathFactory) -> Collected:
    return Collected(tmp_path_factory.mktemp("secshapes"))


def leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


def store_bytes(db: Path) -> bytes:
    blobs = b""
    for suffix in ("", "-wal", "-shm"):
        path = Path(str(db) + suffix)
        if path.exists():
            blobs += path.read_bytes()
    return blobs


def test_store_bytes_hold_no_secret(collected: Collected) -> None:
    raw = store_bytes(collected.db)
    assert [s for s in SECRETS if s.encode() in raw] == []
    con = sqlite3.connect(collected.db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    raw = store_bytes(collected.db)
    assert [s for s in SECRETS if s.encode() in raw] == []
    assert b"***masked:" in raw


def test_cli_outputs_hold_no_secret(collected: Collected) -> None:
    db, repo = str(collected.db), str(collected.repo.path)
    for fmt in ("csv", "json", "markdown", "sarif"):
        collected.record(f"report-{fmt}", run("report", "--db", db, "--format", fmt))
        collected.record(
            f"report-all-{fmt}", run("report", "--db", db, "--format", fmt, "--all-commits")
        )
    for fmt in ("table", "csv", "json"):
        collected.record(f"history-{fmt}", run("history", "--db", db, "--format", fmt))
    for fmt in ("table", "csv", "json", "markdown", "sarif"):
        collected.record(f"check-{fmt}", run("check", repo, "--format", fmt, "--fail-on", "never"))
        collected.record(
            f"check-rev-{fmt}",
            run("check", repo, "--rev", "HEAD", "--format", fmt, "--fail-on", "never"),
        )
    leaked = {name: leaks(out) for name, out in collected.outputs.items() if leaks(out)}
    assert leaked == {}
    assert "***masked:" in collected.outputs["report-json"]


def _walk(node: Any) -> Iterator[Any]:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def test_dashboard_pages_hold_no_secret(
    collected: Collected, monkeypatch: pytest.MonkeyPatch
) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("DEPAUDIT_DASHBOARD_DB", collected.url)
    monkeypatch.delenv("DEPAUDIT_DB", raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    leaked: dict[str, list[str]] = {}
    for page in PAGES:
        at = AppTest.from_file(APP, default_timeout=90)
        at.query_params["repo"] = "leaky"
        at.run()
        if page != "overview":
            at.switch_page(f"views/{page}.py")
            at.query_params["repo"] = "leaky"
            at.run()
        assert not at.exception, [e.value for e in at.exception]
        parts = [str(at._tree)]
        for node in _walk(at._tree):
            if getattr(node, "type", "") == "dataframe":
                parts.append(node.value.to_csv())
        found = leaks("\n".join(parts))
        if found:
            leaked[page] = found
    assert leaked == {}


MASK = re.compile(r"\*\*\*masked:([0-9a-f]{8})\*\*\*")


def _config_entries(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if node.get("type") == "ConfigEntry":
            yield node
        for value in node.values():
            yield from _config_entries(value)
    elif isinstance(node, list):
        for value in node:
            yield from _config_entries(value)


def test_masks_keep_key_and_fingerprint(collected: Collected) -> None:
    from depaudit.secrets import fingerprint

    con = sqlite3.connect(collected.db)
    entries = [
        e
        for (data,) in con.execute("SELECT data FROM parts")
        for e in _config_entries(json.loads(data))
    ]
    con.close()
    masked = {(e["file"], e["key"]): e["value"] for e in entries if e.get("secret")}

    assert masked, "no secret config entry stored"
    # key kept, value masked to ***masked:<fingerprint>***
    for (file, key), want in KEY_OF.items():
        for v in (V2, V3):
            mask = f"***masked:{fingerprint(v[want])}***"
            got = {e["value"] for e in entries if (e["file"], e["key"]) == (file, key)}
            assert any(mask in g for g in got), (file, key, got)
    # two different passwords: two fingerprints; one password in two files: one fingerprint
    assert fingerprint(V3["yaml_password"]) != fingerprint(V3["ini_password"])
    env_pw = {
        e["value"] for e in entries if (e["file"], e["key"]) == ("serving/.env", "DB_PASSWORD")
    }
    json_pw = {
        e["value"]
        for e in entries
        if (e["file"], e["key"]) == ("serving/config.json", "tracker.db_password")
    }
    assert env_pw == json_pw and len(env_pw) == 2


KEY_OF = {
    ("serving/config.yaml", "database.password"): "yaml_password",
    ("serving/config.yaml", "database.api_key"): "yaml_api_key",
    ("serving/settings.toml", "warehouse.secret"): "toml_secret",
    ("serving/config.json", "tracker.token"): "json_token",
    ("serving/app.ini", "db.password"): "ini_password",
    ("serving/.env", "WANDB_API_KEY"): "wandb_key",
    ("serving/Dockerfile", "ENV.DB_PASSWORD"): "docker_env_pw",
    ("serving/Dockerfile", "ARG.PIP_TOKEN"): "docker_arg_token",
    ("serving/Dockerfile", "ENV.AWS_SECRET_ACCESS_KEY"): "aws_secret",
    ("deploy/k8s/secret.yaml", "tracker-token"): "k8s_string_data",
    ("serving/.env", "DATABASE_URL"): "env_dsn_pw",
    ("serving/settings.json", "auth.basic"): "json_auth_basic",
    ("serving/settings.json", "sso.auth.tokens[0]"): "yaml_auth_list",
}


def test_code_secrets_masked_whole_with_their_fingerprint(collected: Collected) -> None:
    """DA207's diff shows each code secret as the mask of the whole literal."""
    from depaudit.secrets import mask

    proc = run("report", "--db", str(collected.db), "--format", "json")
    assert proc.returncode in (0, 1), proc.stderr
    findings = json.loads(proc.stdout)["findings"]
    evidence = "\n".join(f["evidence"] for f in findings if f["rule"] == "DA207")
    diverged = {f["item"].rsplit(".", 1)[-1] for f in findings if f["rule"] == "DA207"}
    shapes = [k.removeprefix("code_") for k in V3 if k.startswith("code_")]
    # every small function and both classes diverged and were diffed
    assert {f"scale_{s}" for s in shapes if s not in CLASS_SHAPES} <= diverged
    assert {"ScalerAttribute", "ScalerSettings"} <= diverged
    for shape in shapes:
        if shape == "comment":
            continue  # the diff is of the syntax tree: comments are not in it
        want = mask(V3[f"code_{shape}"])
        if shape == "fstring":
            want = "***masked:"  # an f-string is fingerprinted by its source text
        assert want in evidence, shape
    assert leaks(evidence) == []


CLASS_SHAPES = {"attribute", "class_field"}


def test_summary_line(collected: Collected, capsys: pytest.CaptureFixture[str]) -> None:
    leaked = [s for s in SECRETS if any(s in out for out in collected.outputs.values())]
    with capsys.disabled():
        print(f"\nsecret shapes planted: {len(SECRETS)}, leaked: {len(leaked)}")
    assert leaked == []
