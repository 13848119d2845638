"""``depaudit check --baseline FILE|REV``: gate only on findings the baseline lacks.

A pull request should fail for the leftovers it *adds*, not for the ones main already
had. The baseline is either

- a FILE: a previous ``depaudit check --format json`` (or ``--format sarif``) report, or
- a REV: a git revision of the same repository (``origin/main``), audited exactly like
  ``depaudit check --rev REV`` (git objects, never a checkout).

Findings are matched by :attr:`depaudit.model.Finding.key` (environments, rule, kind,
item, status): stable across commits, independent of line numbers and messages, so a
finding that only moved is not new. A path that exists is read as a file; anything else
is tried as a revision, and an error names both readings.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from depaudit.app.audit import audit_tree
from depaudit.collectors.git import GitNotFoundError, RepositoryError, open_tree
from depaudit.config import AuditConfig
from depaudit.model import Finding

_KEY_FIELDS = ("training_env", "serving_env", "rule", "kind", "item", "status")
SARIF_FINGERPRINT = "depauditFindingKey/v1"
MAX_BASELINE_BYTES = 256 * 1024 * 1024


class BaselineError(Exception):
    """A baseline that cannot be read; the message is one line for the user."""


def new_findings(findings: Iterable[Finding], baseline_keys: frozenset[str]) -> list[Finding]:
    """The findings whose key is not in the baseline."""
    return [f for f in findings if f.key not in baseline_keys]


def baseline_keys(
    baseline: str, *, repo: Path, config: AuditConfig | None = None
) -> tuple[frozenset[str], str]:
    """The finding keys of ``baseline`` and a short description of what it was."""
    path = Path(baseline)
    if path.is_file():
        return keys_from_report(path), f"report {path}"
    if path.is_dir():
        raise BaselineError(f"--baseline {baseline}: is a directory, not a report file")
    try:
        keys, sha = keys_from_revision(repo, baseline, config=config)
    except BaselineError as exc:
        raise BaselineError(
            f"--baseline {baseline}: no such report file, and not a revision of {repo} ({exc})"
        ) from None
    return keys, f"revision {baseline} ({sha[:10]})"


def keys_from_report(path: Path) -> frozenset[str]:
    """Keys of a ``--format json`` or ``--format sarif`` report written by depaudit."""
    try:
        if path.stat().st_size > MAX_BASELINE_BYTES:
            raise BaselineError(f"{path}: baseline report too large")
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BaselineError(
            f"{path}: baseline is not UTF-8 text (expected a JSON report)"
        ) from None
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read baseline ({exc.strerror or exc})") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BaselineError(
            f"{path}: baseline is not JSON ({exc.msg} at line {exc.lineno}); "
            "write it with `depaudit check --format json`"
        ) from None
    except RecursionError:
        raise BaselineError(f"{path}: baseline JSON nested too deeply") from None
    if isinstance(doc, dict) and isinstance(doc.get("findings"), list):
        return frozenset(key for entry in doc["findings"] for key in _keys_of(entry, path))
    if isinstance(doc, dict) and isinstance(doc.get("runs"), list):
        return _sarif_keys(doc["runs"], path)
    raise BaselineError(
        f"{path}: not a depaudit report (no 'findings' list); "
        "write it with `depaudit check --format json`"
    )


def _keys_of(entry: Any, path: Path) -> list[str]:
    """The keys of one reported finding: one per pair that saw it (``pairs``)."""
    if not isinstance(entry, dict):
        raise BaselineError(f"{path}: a finding is not an object")
    missing = [k for k in _KEY_FIELDS if not isinstance(entry.get(k, ""), str)]
    if missing or not entry.get("rule"):
        raise BaselineError(f"{path}: a finding lacks {', '.join(missing) or 'rule'}")
    key = "|".join(str(entry.get(k, "")) for k in _KEY_FIELDS)
    return [key, *_other_pairs(key, entry.get("pairs"))]


def _other_pairs(key: str, pairs: Any) -> list[str]:
    """``key`` for every other (training, serving) of a fact several pairs saw."""
    if not isinstance(pairs, list):
        return []
    rest = key.split("|", 2)[2]
    return [
        f"{p['training']}|{p['serving']}|{rest}"
        for p in pairs
        if isinstance(p, dict)
        and isinstance(p.get("training"), str)
        and isinstance(p.get("serving"), str)
    ]


def _sarif_keys(runs: list[Any], path: Path) -> frozenset[str]:
    keys: set[str] = set()
    for run in runs:
        results = run.get("results") if isinstance(run, dict) else None
        for res in results or []:
            fp = res.get("partialFingerprints", {}) if isinstance(res, dict) else {}
            key = fp.get(SARIF_FINGERPRINT) if isinstance(fp, dict) else None
            if not isinstance(key, str):
                raise BaselineError(
                    f"{path}: a SARIF result has no {SARIF_FINGERPRINT} fingerprint"
                )
            keys.add(key)
            props = res.get("properties")
            keys.update(_other_pairs(key, props.get("pairs") if isinstance(props, dict) else None))
    # SARIF leaves out "shared" findings; those never fail a gate, so nothing is lost
    return frozenset(keys)


def keys_from_revision(
    repo: Path, rev: str, *, config: AuditConfig | None = None
) -> tuple[frozenset[str], str]:
    """Audit ``rev`` of ``repo`` exactly like ``depaudit check --rev`` and return its keys
    and sha (an invalid config at that revision is its DA901 finding, as in ``check``)."""
    try:
        opened = open_tree(repo, rev)
    except GitNotFoundError:
        raise  # "git not found on PATH" is not about the revision: said as it is
    except RepositoryError as exc:
        raise BaselineError(str(exc)) from None
    audit = audit_tree(opened.tree, config=config)
    return frozenset(f.key for f in audit.findings), opened.commit
