"""The per-repository collect lease: one collector writes a repository at a time.

A lease is a row of ``locks`` naming its holder (``host:pid:token``). The holder renews
its heartbeat in every batch transaction it commits; another collector waits up to its
``--lock-timeout``, and takes the lease over when it is stale: its process is gone
(same host, pid not alive: killed) or its heartbeat is older than ``stale_seconds``
(another host, or a hung process). Collectors of other repositories never wait.
"""

from __future__ import annotations

import os
import socket
import time
import uuid

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from depaudit.store import schema as s
from depaudit.store.engine import StoreError

DEFAULT_STALE_LOCK_SECONDS = 600


class LockTimeout(StoreError):
    """Another collector holds the repo's lock for longer than ``--lock-timeout``."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RepoLock:
    """The lease on one repository name in one store."""

    def __init__(
        self,
        engine: Engine,
        name: str,
        *,
        timeout: float = 0.0,
        stale_seconds: float = DEFAULT_STALE_LOCK_SECONDS,
    ) -> None:
        self.engine = engine
        self.name = name
        self.timeout = timeout
        self.stale_seconds = stale_seconds
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.held = False

    def acquire(self) -> None:
        """Take the lease, waiting up to ``timeout`` seconds; :class:`LockTimeout` after."""
        deadline = time.monotonic() + self.timeout
        while True:
            holder = self._try()
            if holder is None:
                self.held = True
                return
            if time.monotonic() >= deadline:
                raise LockTimeout(
                    f"repo {self.name!r} is being collected by another collector ({holder}); "
                    f"waited {self.timeout:g} s (--lock-timeout)"
                )
            time.sleep(min(0.5, max(0.05, deadline - time.monotonic())))

    def _try(self) -> str | None:
        """None when acquired, else the holder that keeps it."""
        lk = s.locks.c
        now = int(time.time())
        try:
            with self.engine.begin() as conn:
                row = conn.execute(select(s.locks).where(lk.repo_name == self.name)).first()
                if row is None:
                    conn.execute(
                        insert(s.locks).values(
                            repo_name=self.name,
                            holder=self.holder,
                            acquired_at=now,
                            heartbeat_at=now,
                        )
                    )
                    return None
                if row.holder == self.holder or self._is_stale(row.holder, row.heartbeat_at, now):
                    # conditional on the holder we saw: of two collectors taking over
                    # the same stale lease, one updates a row and the other none
                    taken = conn.execute(
                        update(s.locks)
                        .where(lk.repo_name == self.name, lk.holder == row.holder)
                        .values(holder=self.holder, acquired_at=now, heartbeat_at=now)
                    ).rowcount
                    return None if taken == 1 else str(row.holder)
                return str(row.holder)
        except IntegrityError:
            return "a collector that started at the same moment"

    def _is_stale(self, holder: str, heartbeat_at: int, now: int) -> bool:
        host, _, rest = holder.partition(":")
        pid = rest.partition(":")[0]
        if host == socket.gethostname() and pid.isdigit() and not _pid_alive(int(pid)):
            return True  # its process is gone (killed): take over at once
        return now - heartbeat_at > self.stale_seconds

    def heartbeat(self, conn: Connection) -> None:
        """Renew the lease inside the caller's transaction (committed with its batch)."""
        lk = s.locks.c
        conn.execute(
            update(s.locks)
            .where(lk.repo_name == self.name, lk.holder == self.holder)
            .values(heartbeat_at=int(time.time()))
        )

    def release(self) -> None:
        if not self.held:
            return
        lk = s.locks.c
        with self.engine.begin() as conn:
            conn.execute(
                s.locks.delete().where(lk.repo_name == self.name, lk.holder == self.holder)
            )
        self.held = False
