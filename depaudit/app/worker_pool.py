"""Long-lived collector processes for ``collect --repos FILE --jobs N``.

Starting ``depaudit collect`` once per repository costs about 0.6 s of interpreter start
and imports per repository, which dominates a nightly run where most repositories have
a handful of new commits. The pool keeps at most ``size`` worker processes
(:mod:`depaudit.app.collect_worker`) and sends each one repository at a time.

Crash isolation stays per repository: a worker that dies while collecting (a segfault,
the OOM killer, ``kill -9``) fails that repository only, with how it died and its last
line on stderr, and the next repository gets a new worker. A worker found dead before it
started the repository (it died idle) is replaced and the request sent again.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from queue import Empty, SimpleQueue
from types import TracebackType

from depaudit.app.collect_worker import STARTED, CollectReply, CollectRequest

WORKER_COMMAND = (sys.executable, "-m", "depaudit.app.collect_worker")
STDERR_TAIL = 20


class WorkerStartError(Exception):
    """A worker process could not be started; one line."""


class _WorkerProcess:
    def __init__(self, command: Sequence[str], env: Mapping[str, str]) -> None:
        try:
            self.proc = subprocess.Popen(
                list(command),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                encoding="utf-8",
                env=dict(env),
            )
        except OSError as exc:
            raise WorkerStartError(f"cannot start the collector: {exc.strerror or exc}") from None
        self.tail: deque[str] = deque(maxlen=STDERR_TAIL)
        self._echo = bool(env.get("DEPAUDIT_DEBUG"))
        self._drain = threading.Thread(target=self._read_stderr, daemon=True)
        self._drain.start()

    def _read_stderr(self) -> None:
        # keep the last lines (the reason of a crash); a full pipe would block the worker
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            if line.strip():
                self.tail.append(line.strip())
                if self._echo:
                    print(line, end="", file=sys.stderr, flush=True)

    def send(self, request: CollectRequest) -> bool:
        """False when the worker is already gone (it never got the request)."""
        assert self.proc.stdin is not None
        if self.proc.poll() is not None:
            return False
        try:
            self.proc.stdin.write(request.to_line())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            return False
        return True

    def started(self, name: str) -> bool:
        """Whether the worker took the request (False: it died before reading it)."""
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        try:
            return bool(line) and json.loads(line) == {STARTED: name}
        except ValueError:
            return False

    def receive(self) -> CollectReply | None:
        """The reply, or None when the worker died before answering."""
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            return None
        try:
            return CollectReply.from_line(line)
        except (ValueError, TypeError):
            return None  # not our protocol: treat as a crash

    def crash_message(self) -> str:
        """How it died, and its last words on stderr."""
        try:
            code = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.proc.wait()
        self._drain.join(timeout=5)
        if code < 0:
            try:
                how = f"killed by {signal.Signals(-code).name}"
            except ValueError:
                how = f"killed by signal {-code}"
        else:
            how = f"exited with code {code}"
        errors = [ln for ln in self.tail if ln.startswith("depaudit:")]
        last = (errors or list(self.tail) or [""])[-1]
        return f"the collector crashed ({how})" + (f": {last}" if last else "")

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self, timeout: float) -> None:
        """End of input ends the worker; kill it if it does not go."""
        with contextlib.suppress(OSError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._drain.join(timeout=5)

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.kill()


class CollectorPool:
    """At most ``size`` worker processes; :meth:`collect` may be called from ``size`` threads."""

    def __init__(
        self,
        size: int,
        env: Mapping[str, str],
        *,
        command: Sequence[str] = WORKER_COMMAND,
    ) -> None:
        self.size = size
        self._env = dict(env)
        self._command = tuple(command)
        self._idle: SimpleQueue[_WorkerProcess] = SimpleQueue()
        self._all: list[_WorkerProcess] = []
        self._lock = threading.Lock()
        self.started = 0  # worker processes started, replacements included

    def _take(self) -> _WorkerProcess:
        try:
            return self._idle.get_nowait()
        except Empty:
            worker = _WorkerProcess(self._command, self._env)
            with self._lock:
                self._all.append(worker)
                self.started += 1
            return worker

    def collect(self, request: CollectRequest) -> CollectReply:
        """Collect one repository on a worker; a crash is a failed reply, never an exception."""
        for attempt in (1, 2):
            try:
                worker = self._take()
            except WorkerStartError as exc:
                return CollectReply(False, str(exc))
            if worker.send(request) and worker.started(request.name):
                break
            # it died before taking the request (idle, or while starting): one more worker
            message = self._discard(worker)
            if attempt == 2:
                return CollectReply(False, message)
        reply = worker.receive()
        if reply is None:
            return CollectReply(False, self._discard(worker))
        if reply.fatal or not worker.alive:
            self._discard(worker)
        else:
            self._idle.put(worker)
        return reply

    def _discard(self, worker: _WorkerProcess) -> str:
        """Reap a dead (or finished) worker; how it died."""
        message = worker.crash_message()
        worker.close(timeout=1)
        with self._lock:
            if worker in self._all:
                self._all.remove(worker)
        return message

    def close(self, timeout: float = 30.0) -> None:
        with self._lock:
            workers, self._all = self._all, []
        for worker in workers:
            worker.close(timeout)

    def __enter__(self) -> CollectorPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:  # interrupted: do not wait for the workers' repositories
            with self._lock:
                for worker in self._all:
                    worker.kill()
        self.close()
