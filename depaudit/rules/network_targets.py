"""Network targets reduced to the item a user recognises, and classified once.

The item is the host for URLs / DSNs / hosts, ``scheme://bucket`` for buckets and the
target as written for warehouse projects (``bigquery:my-project``). Every serving target
belongs to exactly one network rule: DA401 (warehouse / internal), DA402 (experiment
tracker), DA403 (training-data bucket) or DA404 (anything else). Package-index targets
(``--index-url``) are build-time and only ever go to DA404: a private index is not
training access.
"""

from __future__ import annotations

from dataclasses import dataclass

from depaudit.knowledge import Entry, Knowledge
from depaudit.model import EnvironmentSnapshot, NetworkTarget
from depaudit.secrets import split_url

WAREHOUSE_ENTRY = Entry(
    name="warehouse",
    reason="serving must not reach the data warehouse: it holds confidential training data",
    category="warehouse",
    severity="high",
)


@dataclass(frozen=True, slots=True)
class Target:
    item: str
    host: str  # host name for host-like targets, bucket name for buckets, "" otherwise
    fact: NetworkTarget


def target_of(fact: NetworkTarget) -> Target:
    text = fact.target.strip()
    if fact.kind == "bucket" or text.startswith(("s3://", "gs://", "gcs://", "az://", "abfss://")):
        scheme, _, rest = text.partition("://")
        name = (rest if scheme and rest else text).split("/", 1)[0].lower()
        prefix = f"{scheme.lower()}://" if rest else ""
        return Target(f"{prefix}{name}", name, fact)
    if fact.kind == "warehouse":
        return Target(text, "", fact)
    if "://" in text:
        _, host = split_url(text)
        if host:
            return Target(host, host, fact)
    host = text.split("/", 1)[0].rsplit("@", 1)[-1]
    if host.count(":") == 1:  # host:port
        host = host.split(":", 1)[0]
    return Target(host.lower(), host.lower(), fact)


def targets(snapshot: EnvironmentSnapshot) -> dict[str, Target]:
    """Item -> first target naming it."""
    out: dict[str, Target] = {}
    for fact in snapshot.facts:
        if isinstance(fact, NetworkTarget):
            target = target_of(fact)
            if target.item:
                out.setdefault(target.item, target)
    return out


def classify(target: Target, knowledge: Knowledge) -> tuple[str, Entry | None]:
    """The rule a target belongs to when it is in serving, and the entry that says why."""
    kind = target.fact.kind
    if kind == "index":
        return "DA404", None
    if kind == "warehouse":
        return "DA401", WAREHOUSE_ENTRY
    if kind == "bucket" or target.item.split("://", 1)[0] in {"s3", "gs", "gcs", "az", "abfss"}:
        entry = knowledge.bucket(target.host)
        return ("DA403", entry) if entry else ("DA404", None)
    entry = knowledge.host(target.host) if target.host else None
    if entry is None:
        return "DA404", None
    if entry.category in {"warehouse", "internal"} or entry.severity == "high":
        return "DA401", entry
    if entry.category == "experiment-tracking":
        return "DA402", entry
    return "DA404", None
