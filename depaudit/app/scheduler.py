"""The scheduled collector: ``depaudit collect --repos repos.toml [--jobs N]``.

cron, a systemd timer, a Kubernetes CronJob or a CI schedule runs this (DESIGN.md §2);
each run only walks the commits added since the last one (the store keeps each repo's
head). Repositories are collected ``--jobs`` at a time by as many long-lived collector
processes (:mod:`depaudit.app.worker_pool`), so one repository that crashes its process,
hangs on a lock or has a broken history is reported and the others are still collected.
URL repositories are kept as bare mirrors (:mod:`depaudit.collectors.mirror`) and fetched first.

A fleet too big for one machine runs N of these with ``--shard K/N`` (or as a Kubernetes
Indexed Job, ``JOB_COMPLETION_INDEX``): each collects only its share of the repos file
(:mod:`depaudit.app.shards`), every repository in exactly one share.

Output is one line per repository on stderr (``text`` or ``json``), written when that
repository is done, so cron mail and log collectors get a short, parseable summary.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import tomllib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from depaudit.app.collect_worker import CollectRequest
from depaudit.app.shards import ShardError, resolve_shard, select
from depaudit.app.worker_pool import CollectorPool
from depaudit.collectors.mirror import MirrorError, update_mirror
from depaudit.secrets import strip_url_credentials
from depaudit.store.engine import StoreError, open_engine
from depaudit.store.schema import SchemaError, migrate

REPO_KEYS = ("name", "path", "url", "branch", "config")
LOG_FORMATS = ("text", "json")
MAX_REPOS_FILE_BYTES = 1024 * 1024


class ReposFileError(Exception):
    """An invalid repos file; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class RepoSpec:
    name: str
    path: Path | None = None
    url: str = ""
    branch: str = ""
    config: Path | None = None

    @property
    def source(self) -> str:
        """Where it comes from, safe to print (URL credentials stripped)."""
        return strip_url_credentials(self.url) if self.url else str(self.path)


@dataclass(slots=True)
class RepoResult:
    name: str
    ok: bool
    seconds: float
    message: str  # the collector's summary line, or the one-line error
    source: str
    commits: int | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "repo": self.name,
                "status": "ok" if self.ok else "failed",
                "commits": self.commits,
                "seconds": round(self.seconds, 3),
                "source": self.source,
                "message": self.message,
            },
            ensure_ascii=False,
        )

    def to_text(self) -> str:
        state = "ok    " if self.ok else "FAILED"
        return f"{state} {self.name} ({self.seconds:.2f} s): {self.message}"


@dataclass(frozen=True, slots=True)
class JobOptions:
    db_url: str
    cache_dir: Path
    jobs: int = 1
    branch: str = ""  # default for repos without their own
    config: Path | None = None  # default for repos without their own
    all_commits: bool = False
    batch_size: int = 200
    lock_timeout: float = 0.0
    log_format: str = "text"
    extra_env: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------------- repos file


def parse_repos_file(path: Path) -> list[RepoSpec]:
    """The ``[[repos]]`` of a repos file; strict: unknown keys are errors."""
    try:
        if path.stat().st_size > MAX_REPOS_FILE_BYTES:
            raise ReposFileError(f"{path}: too large for a repos file")
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ReposFileError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise ReposFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return parse_repos_toml(text, path)


def parse_repos_toml(text: str, path: Path) -> list[RepoSpec]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ReposFileError(f"{path}: invalid TOML: {exc}") from None
    unknown = sorted(set(data) - {"repos"})
    if unknown:
        raise ReposFileError(
            f"{path}: unknown key {unknown[0]!r} (a repos file has only [[repos]])"
        )
    entries = data.get("repos")
    if not isinstance(entries, list) or not entries:
        raise ReposFileError(f"{path}: no [[repos]] tables")
    base = path.parent
    specs: list[RepoSpec] = []
    seen: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        where = f"[[repos]] #{number}"
        if not isinstance(entry, dict):
            raise ReposFileError(f"{path}: {where} is not a table")
        for key in entry:
            if key not in REPO_KEYS:
                raise ReposFileError(
                    f"{path}: unknown key {key!r} in {where} (allowed: {', '.join(REPO_KEYS)})"
                )
        for key, value in entry.items():
            if not isinstance(value, str) or not value.strip():
                raise ReposFileError(f"{path}: {where}.{key} must be a non-empty string")
        name = entry.get("name")
        if name is None:
            raise ReposFileError(f"{path}: {where} has no 'name'")
        label = f"[[repos]] {name!r}"
        if name in seen:
            raise ReposFileError(f"{path}: {label}: name used twice")
        seen.add(name)
        if ("path" in entry) == ("url" in entry):
            raise ReposFileError(f"{path}: {label}: give exactly one of 'path' or 'url'")
        config = (base / entry["config"]).expanduser() if "config" in entry else None
        if config is not None and not config.is_file():
            raise ReposFileError(f"{path}: {label}: config {config}: no such file")
        specs.append(
            RepoSpec(
                name=name,
                path=(base / entry["path"]).expanduser() if "path" in entry else None,
                url=entry.get("url", ""),
                branch=entry.get("branch", ""),
                config=config,
            )
        )
    return specs


# ---------------------------------------------------------------------------- run


def collect_request(spec: RepoSpec, path: Path, options: JobOptions) -> CollectRequest:
    """What a collector process is asked to do for one repository."""
    config = spec.config or options.config
    return CollectRequest(
        db_url=options.db_url,
        path=str(path),
        name=spec.name,
        branch=spec.branch or options.branch,
        config=str(config) if config is not None else "",
        all_commits=options.all_commits,
        batch_size=options.batch_size,
        lock_timeout=options.lock_timeout,
    )


def collect_one(spec: RepoSpec, options: JobOptions, pool: CollectorPool) -> RepoResult:
    """Mirror (for a URL) and collect one repository on the pool; never raises."""
    started = time.monotonic()

    def failed(message: str) -> RepoResult:
        return RepoResult(spec.name, False, time.monotonic() - started, message, spec.source)

    try:
        if spec.url:
            path = update_mirror(spec.url, options.cache_dir, spec.name)
        else:
            assert spec.path is not None
            path = spec.path
    except MirrorError as exc:
        return failed(str(exc))
    reply = pool.collect(collect_request(spec, path, options))
    if not reply.ok:
        return failed(strip_url_credentials(reply.message))
    return RepoResult(
        spec.name,
        True,
        time.monotonic() - started,
        reply.message,
        spec.source,
        commits=reply.commits,
    )


def collector_env(options: JobOptions) -> dict[str, str]:
    # the child must find this very depaudit, also when run from a source checkout
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, **options.extra_env}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env


def run_job(
    specs: Sequence[RepoSpec],
    options: JobOptions,
    *,
    out: TextIO | None = None,
    collect: Callable[[RepoSpec, JobOptions], RepoResult] | None = None,
) -> list[RepoResult]:
    """Collect every repository, ``options.jobs`` at a time; one log line each when done."""
    stream = out if out is not None else sys.stderr
    lock = threading.Lock()
    jobs = max(1, options.jobs)

    with CollectorPool(jobs, collector_env(options)) as pool:

        def work(spec: RepoSpec) -> RepoResult:
            if collect is not None:
                result = collect(spec, options)
            else:
                result = collect_one(spec, options, pool)
            with lock:  # whole lines only, in completion order
                line = result.to_json() if options.log_format == "json" else result.to_text()
                print(line, file=stream, flush=True)
            return result

        # threads only wait: the repositories are collected in the pool's processes
        threads = ThreadPoolExecutor(max_workers=jobs)
        try:
            return list(threads.map(work, specs))
        finally:
            # interrupted: start no other repository (the pool then stops the workers)
            threads.shutdown(wait=False, cancel_futures=True)


def summarize(results: Sequence[RepoResult]) -> dict[str, Any]:
    failed = [r.name for r in results if not r.ok]
    return {"repos": len(results), "failed": failed, "ok": len(results) - len(failed)}


def scheduled_collect(
    *,
    repos_file: Path | None,
    paths: Sequence[Path],
    db_url: str,
    cache_dir: Path,
    jobs: int = 1,
    log_format: str = "text",
    branch: str | None = None,
    config: Path | None = None,
    all_commits: bool = False,
    batch_size: int = 200,
    lock_timeout: float = 0.0,
    name: str | None = None,
    since: str | None = None,
    shard: str | None = None,
    shard_count: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    """``depaudit collect --repos FILE [--shard K/N]`` / ``PATH... --jobs N``; the exit code.

    0 when every repository (of this shard) was collected, 2 when the input is wrong or
    any repository failed (each failure already has its line). ``environ`` (default: the
    process's) is where ``JOB_COMPLETION_INDEX`` and ``DEPAUDIT_SHARD_COUNT`` are read.
    """

    def usage(message: str) -> int:
        print(f"depaudit: error: {message}", file=sys.stderr)
        return 2

    if jobs < 1:
        return usage("--jobs must be at least 1")
    if batch_size < 1:
        return usage("--batch-size must be at least 1")
    if lock_timeout < 0:
        return usage("--lock-timeout must be 0 or more")
    if log_format not in LOG_FORMATS:
        return usage(f"--log-format must be one of {', '.join(LOG_FORMATS)} (got {log_format!r})")
    if repos_file is not None and paths:
        return usage("give PATH... or --repos FILE, not both")
    if name is not None:
        return usage("--name names one repository; with --repos the file names them")
    if since is not None:
        return usage("--since is per repository; it does not go with --repos / --jobs")
    if config is not None and not config.is_file():
        return usage(f"{config}: no such config file")
    if repos_file is None and (shard is not None or shard_count is not None):
        option = "--shard" if shard is not None else "--shard-count"
        return usage(f"{option} splits a repos file between processes: give --repos FILE")
    try:
        # JOB_COMPLETION_INDEX shards only a repos file: `collect PATH` in a pod is one repo
        this_shard = (
            resolve_shard(shard, shard_count, os.environ if environ is None else environ)
            if repos_file is not None
            else None
        )
    except ShardError as exc:
        return usage(str(exc))
    try:
        specs = (
            parse_repos_file(repos_file)
            if repos_file is not None
            else [RepoSpec(name=p.resolve().name, path=p) for p in paths]
        )
    except ReposFileError as exc:
        return usage(str(exc))
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        return usage("two repositories have the same name; collect them with --repos and names")

    # migrate once here: collectors started together must not race to create tables
    try:
        engine = open_engine(db_url)
        migrate(engine)
        engine.dispose()
    except (StoreError, SchemaError) as exc:
        return usage(str(exc))
    except Exception as exc:  # an unreachable server
        return usage(f"cannot open the store: {' '.join(str(exc).split())[:200]}")

    options = JobOptions(
        db_url=db_url,
        cache_dir=cache_dir,
        jobs=jobs,
        branch=branch or "",
        config=config,
        all_commits=all_commits,
        batch_size=batch_size,
        lock_timeout=lock_timeout,
        log_format=log_format,
    )
    results = run_job(select(specs, this_shard, lambda spec: spec.name), options)
    return 0 if all(r.ok for r in results) else 2
