"""Network targets (URLs, DSNs, hosts, buckets, warehouse projects) in config values and text.

Pure functions shared by the Dockerfile, compose, Kubernetes and config sources.

Normalisation, so the same target on both sides compares equal:
- credentials are always removed (``depaudit.secrets.strip_url_credentials``), and so are
  query strings and fragments (they carry tokens and per-run noise, not identity);
- buckets keep only scheme and bucket: ``s3://bucket`` (``abfs://container@account...``);
- warehouses become ``<warehouse>:<project|account|host>``: ``bigquery:my-project``,
  ``snowflake:acme-xy12345``, ``redshift:<host>``, ``databricks:<host>``. Every GCP project
  key (``GCP_PROJECT``, ``GOOGLE_CLOUD_PROJECT``...) maps to ``bigquery:`` so the same project
  named by different keys on each side is one target — an approximation: a GCP project is
  not always used for BigQuery.
"""

from __future__ import annotations

import functools
import re
from typing import Any, cast
from urllib.parse import urlsplit

from depaudit.model import NetworkTarget
from depaudit.secrets import strip_url_credentials

_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s'\"<>`,;)\]}]+")

_BUCKET_SCHEMES = frozenset(
    [
        "s3",
        "s3a",
        "s3n",
        "gs",
        "gcs",
        "abfs",
        "abfss",
        "wasb",
        "wasbs",
        "adl",
        "az",
        "oss",
        "r2",
        "hdfs",
        "minio",
    ]
)
_DSN_SCHEMES = frozenset(
    [
        "postgres",
        "postgresql",
        "mysql",
        "mariadb",
        "mssql",
        "sqlserver",
        "oracle",
        "redis",
        "rediss",
        "mongodb",
        "amqp",
        "amqps",
        "kafka",
        "cassandra",
        "clickhouse",
        "memcached",
        "nats",
        "elasticsearch",
        "cockroachdb",
        "trino",
        "presto",
        "hive",
        "impala",
        "druid",
        "neo4j",
        "bolt",
    ]
)
_URL_SCHEMES = frozenset(
    [
        "http",
        "https",
        "grpc",
        "grpcs",
        "ws",
        "wss",
        "ftp",
        "ftps",
        "sftp",
        "ssh",
        "git",
        "tcp",
        "udp",
        "thrift",
    ]
)
_SKIP_SCHEMES = frozenset(
    ["file", "sqlite", "data", "mailto", "about", "chrome", "javascript", "jar"]
)

# host suffix -> warehouse name, for URLs / DSNs / hosts pointing at a warehouse
_WAREHOUSE_HOSTS: tuple[tuple[str, str], ...] = (
    (".snowflakecomputing.com", "snowflake"),
    (".redshift.amazonaws.com", "redshift"),
    (".redshift-serverless.amazonaws.com", "redshift"),
    (".cloud.databricks.com", "databricks"),
    (".azuredatabricks.net", "databricks"),
    (".gcp.databricks.com", "databricks"),
    ("bigquery.googleapis.com", "bigquery"),
)

# key (normalised to UPPER_SNAKE) -> warehouse, for keys naming a project / account / host
_WAREHOUSE_KEYS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"(?:^|_)(?:BIGQUERY|BQ|GCP|GCLOUD|GOOGLE_CLOUD|GOOGLE)_PROJECT(?:_ID|_NAME)?$"),
        "bigquery",
    ),
    (re.compile(r"(?:^|_)BIGQUERY_(?:BILLING_)?PROJECT(?:_ID)?$"), "bigquery"),
    (re.compile(r"(?:^|_)SNOWFLAKE_ACCOUNT(?:_NAME|_IDENTIFIER)?$"), "snowflake"),
    (re.compile(r"(?:^|_)SNOWFLAKE_(?:HOST|URL)$"), "snowflake"),
    (re.compile(r"(?:^|_)REDSHIFT_(?:HOST|HOSTNAME|ENDPOINT|CLUSTER|CLUSTER_ID)$"), "redshift"),
    (re.compile(r"(?:^|_)DATABRICKS_(?:HOST|SERVER_HOSTNAME|WORKSPACE_URL)$"), "databricks"),
)
_INDEX_KEY = re.compile(r"(?:^|_)(?:EXTRA_)?INDEX(?:_URL)?$|(?:^|_)TRUSTED_HOST$|FIND_LINKS$")
_HOST_KEY = re.compile(
    r"(?:^|_)(?:HOST|HOSTNAME|HOSTS|SERVER|SERVERS|ENDPOINT|ADDR|ADDRESS|BROKER|BROKERS|"
    r"BOOTSTRAP_SERVERS)$"
)
_PROJECT_VALUE = re.compile(r"^[a-z][a-z0-9.:\-_]{2,62}$", re.IGNORECASE)
_HOSTNAME = re.compile(
    r"^(?=.*[a-zA-Z])[a-zA-Z0-9](?:[a-zA-Z0-9\-]{0,62})(?:\.[a-zA-Z0-9\-]{1,63})*\.?$"
)
_HOST_PORT = re.compile(
    r"^(?P<host>(?=[^:]*[a-zA-Z])[a-zA-Z0-9](?:[a-zA-Z0-9\-.]{0,252}))(?::(?P<port>\d{2,5}))$"
)


def normalise_key(key: str) -> str:
    """``training.bigquery.project-id`` -> ``TRAINING_BIGQUERY_PROJECT_ID``."""
    return re.sub(r"[^A-Z0-9]+", "_", key.upper()).strip("_")


def _host_warehouse(host: str) -> str:
    host = host.lower().rstrip(".")
    for suffix, warehouse in _WAREHOUSE_HOSTS:
        if host.endswith(suffix) or host == suffix.lstrip("."):
            return warehouse
    return ""


def _warehouse_target(warehouse: str, host: str) -> str:
    host = host.lower().rstrip(".")
    if warehouse == "snowflake" and host.endswith(".snowflakecomputing.com"):
        host = host[: -len(".snowflakecomputing.com")]
    return f"{warehouse}:{host}"


def _unresolved(text: str) -> bool:
    """A placeholder such as ``${DB_HOST}``, ``{{ .Values.host }}`` or ``$HOST``."""
    return "$" in text or "{{" in text or "{" in text or "%(" in text


def classify_url(url: str, *, key: str = "") -> tuple[str, str] | None:
    """(target, kind) for one URL-looking string, credentials removed; None if not a target."""
    url = url.rstrip(".:")
    scheme_raw, sep, rest = url.partition("://")
    if not sep:
        return None
    scheme = scheme_raw.lower()
    base = scheme.split("+", 1)[0]
    if base in _SKIP_SCHEMES:
        return None
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    after = rest[len(authority) :]
    path = re.split(r"[?#]", after, maxsplit=1)[0]

    if base in _BUCKET_SCHEMES:
        # s3://KEY:SECRET@bucket (old Hadoop style) -> drop the credentials;
        # abfs://container@account.dfs... keeps its container (no ":" before "@")
        if "@" in authority and ":" in authority.rsplit("@", 1)[0]:
            authority = authority.rsplit("@", 1)[1]
        if not authority or _unresolved(authority):
            return None
        return f"{scheme}://{authority}", "bucket"

    clean = strip_url_credentials(f"{scheme_raw}://{authority}")
    host_port = clean.partition("://")[2]
    if "@" in host_port:  # a credential the stripper left (e.g. bare user) is dropped too
        host_port = host_port.rsplit("@", 1)[1]
    try:
        host = (urlsplit(f"x://{host_port}").hostname or "").lower()
    except ValueError:
        return None

    if base == "bigquery":
        project = host_port or path.strip("/").split("/", 1)[0]
        if not project or _unresolved(project):
            return None
        return f"bigquery:{project.lower()}", "warehouse"
    if base in ("snowflake", "redshift", "databricks"):
        if not host or _unresolved(host):
            return None
        return _warehouse_target(base, host), "warehouse"
    if not host or _unresolved(host):
        return None
    warehouse = _host_warehouse(host)
    if warehouse:
        return _warehouse_target(warehouse, host), "warehouse"

    target = (
        f"{scheme_raw}://{host_port}{path}".rstrip("/")
        if path != "/"
        else (f"{scheme_raw}://{host_port}")
    )
    if base in _DSN_SCHEMES:
        return target, "dsn"
    if key and _INDEX_KEY.search(normalise_key(key)):
        return target, "index"
    return target, "url"


def targets_from_text(
    text: str,
    *,
    file: str,
    line: int,
    key: str = "",
    scope: str = "",
    kind: str = "",
    limit: int | None = None,
) -> list[NetworkTarget]:
    """Every URL / DSN / bucket in free text (shell commands, long values); at most
    ``limit`` of them (then one more, so the caller can tell there were more)."""
    out: list[NetworkTarget] = []
    seen: set[tuple[str, str]] = set()
    if not text or "://" not in text:
        return out
    for match in _URL.finditer(text):
        if limit is not None and len(out) > limit:
            break
        found = classify_url(match.group(0), key=key)
        if found is None:
            continue
        target, found_kind = found
        if kind and found_kind == "url":
            found_kind = kind
        if (target, found_kind) in seen:
            continue
        seen.add((target, found_kind))
        out.append(
            NetworkTarget(
                target=target,
                kind=cast(Any, found_kind),
                file=file,
                line=line,
                key=key,
                scope=scope,
            )
        )
    return out


def targets_from_config(
    key: str, value: object, *, file: str, line: int, scope: str = ""
) -> list[NetworkTarget]:
    """Network targets named by one config ``key = value`` (value as written, unmasked).

    Only the target is kept, never the value: passwords in DSNs do not survive.
    """
    if value is None or isinstance(value, bool | int | float):
        return []
    text = str(value).strip()
    if not text or len(text) > 4096:
        return []
    return [
        NetworkTarget(
            target=target, kind=cast(Any, kind), file=file, line=line, key=key, scope=scope
        )
        for target, kind in _config_targets(key, text)
    ]


@functools.lru_cache(maxsize=65_536)
def _config_targets(key: str, text: str) -> tuple[tuple[str, str], ...]:
    """(target, kind) of a config value; memoised: a new version of a config file repeats
    most keys and values of the last one, and each value is judged by a dozen patterns."""
    norm = normalise_key(key)
    for pattern, warehouse in _WAREHOUSE_KEYS:
        if pattern.search(norm):
            if "://" in text:
                found = classify_url(text, key=key)
                if found is None:
                    return ()
                target, _ = found
                host = target.partition("://")[2] or target.partition(":")[2]
                return ((_warehouse_target(warehouse, host.split("/")[0]), "warehouse"),)
            if _unresolved(text) or not _PROJECT_VALUE.match(text):
                return ()
            return ((_warehouse_target(warehouse, text), "warehouse"),)

    if "://" in text:
        return tuple((t.target, t.kind) for t in targets_from_text(text, file="", line=0, key=key))

    out: list[tuple[str, str]] = []
    if _unresolved(text):
        return ()
    parts = [p.strip() for p in text.split(",")] if "," in text else [text]
    for part in parts:
        match = _HOST_PORT.match(part)
        if match:
            host = match.group("host").lower()
            warehouse = _host_warehouse(host)
            if warehouse:
                out.append((_warehouse_target(warehouse, host), "warehouse"))
            else:
                out.append((f"{host}:{match.group('port')}", "host"))
        elif (
            _HOST_KEY.search(norm)
            and _HOSTNAME.match(part)
            and part.lower()
            not in (
                "true",
                "false",
                "none",
                "null",
            )
        ):
            host = part.lower().rstrip(".")
            warehouse = _host_warehouse(host)
            if warehouse:
                out.append((_warehouse_target(warehouse, host), "warehouse"))
            else:
                out.append((host, "host"))
    return tuple(out)


__all__ = ["classify_url", "normalise_key", "targets_from_config", "targets_from_text"]
