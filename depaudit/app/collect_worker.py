"""A long-lived collector process: ``python -m depaudit.app.collect_worker``.

The scheduler (:mod:`depaudit.app.worker_pool`) starts ``--jobs`` of these and sends each
one repository at a time, so the interpreter start and the imports (about 0.6 s) are paid
once per worker instead of once per repository, and the store engine is opened once.
A repository that crashes its worker (a segfault, the kernel's OOM killer) still fails
alone: the pool reports it and starts a new worker.

Protocol, one JSON object per line: a :class:`CollectRequest` on stdin; on stdout first
``{"started": NAME}`` as soon as the request is read (a worker that dies before that
never started the repository, so the pool may send it to another worker), then a
:class:`CollectReply`; end of stdin ends the worker. The store URL travels in
the request, not on the command line, where ``ps`` would show its password. Anything a
library prints goes to stderr, never into the replies.

Each failure is the same one line ``depaudit collect PATH`` would print, without the
``depaudit: error:`` prefix. An unexpected exception is reported as an internal error and
ends the worker (its state is unknown); the pool starts a fresh one for the next repo.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from depaudit.config import AuditConfig


STARTED = "started"


@dataclass(frozen=True, slots=True)
class CollectRequest:
    db_url: str
    path: str
    name: str
    branch: str = ""
    config: str = ""  # a config file on disk, or "" for the repository's own
    all_commits: bool = False
    batch_size: int = 200
    lock_timeout: float = 0.0

    def to_line(self) -> str:
        return json.dumps(asdict(self)) + "\n"

    @classmethod
    def from_line(cls, line: str) -> CollectRequest:
        return cls(**json.loads(line))


@dataclass(frozen=True, slots=True)
class CollectReply:
    ok: bool
    message: str  # the collector's summary line, or the one-line error
    commits: int | None = None
    fatal: bool = False  # the worker exits after this reply

    def to_line(self) -> str:
        return json.dumps(asdict(self)) + "\n"

    @classmethod
    def from_line(cls, line: str) -> CollectReply:
        return cls(**json.loads(line))


class _Failure(Exception):
    """A one-line failure of one repository; the worker goes on."""


class Worker:
    """Collects the requested repositories, one engine per store URL, kept open."""

    def __init__(self) -> None:
        self._engines: dict[str, Engine] = {}

    def handle(self, request: CollectRequest) -> CollectReply:
        from depaudit.app.collect import CollectError, CollectOptions, collect_repository

        try:
            config, salt = _read_config(Path(request.config)) if request.config else (None, "")
            engine = self._engine(request.db_url)
            options = CollectOptions(
                branch=request.branch or None,
                config=config,
                config_salt=salt,
                all_commits=request.all_commits,
                batch_size=request.batch_size,
                lock_timeout=request.lock_timeout,
            )
            summary = collect_repository(engine, Path(request.path), request.name, options)
        except (_Failure, CollectError) as exc:
            return CollectReply(False, str(exc))
        except Exception as exc:
            if os.environ.get("DEPAUDIT_DEBUG"):
                traceback.print_exc()
            reason = " ".join(str(exc).split())[:300]
            return CollectReply(
                False,
                f"internal error: {type(exc).__name__}: {reason} (DEPAUDIT_DEBUG=1 shows details)",
                fatal=True,
            )
        return CollectReply(True, summary.line(), commits=summary.stats.commits)

    def _engine(self, url: str) -> Engine:
        if url not in self._engines:
            from depaudit.store.engine import StoreError, open_engine
            from depaudit.store.schema import SchemaError, migrate

            try:
                engine = open_engine(url)
                migrate(engine)
            except (StoreError, SchemaError) as exc:
                raise _Failure(str(exc)) from None
            except Exception as exc:  # a server that cannot be reached
                raise _Failure(
                    f"cannot open the store: {' '.join(str(exc).split())[:200]}"
                ) from None
            self._engines[url] = engine
        return self._engines[url]

    def close(self) -> None:
        for engine in self._engines.values():
            engine.dispose()


def _read_config(config: Path) -> tuple[AuditConfig, str]:
    """``--config FILE`` as ``depaudit collect`` reads it, with the same messages."""
    from depaudit.config import ConfigError, parse_config

    try:
        data = config.read_bytes()
        parsed = parse_config(
            data.decode("utf-8"), str(config), from_pyproject=config.name == "pyproject.toml"
        )
    except OSError as exc:
        raise _Failure(f"{config}: cannot read config file: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise _Failure(f"{config}: config file is not UTF-8 text") from None
    except ConfigError as exc:
        raise _Failure(str(exc)) from None
    if parsed is None:
        raise _Failure(f"{config}: no [tool.depaudit] table")
    return parsed, hashlib.sha256(data).hexdigest()


def serve(requests: IO[str], replies: IO[str]) -> None:
    """Answer each request line until end of input (or a fatal error)."""
    worker = Worker()
    try:
        for line in requests:
            if not line.strip():
                continue
            request = CollectRequest.from_line(line)
            replies.write(json.dumps({STARTED: request.name}) + "\n")
            replies.flush()
            reply = worker.handle(request)
            replies.write(reply.to_line())
            replies.flush()
            if reply.fatal:
                break
    finally:
        worker.close()


def main() -> None:
    # replies get their own copy of stdout; fd 1 then points at stderr, so a library
    # that prints cannot corrupt the protocol
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        serve(sys.stdin, replies)
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group; the parent reports
        sys.exit(130)


if __name__ == "__main__":
    main()
