"""``depaudit dashboard``: serve the Streamlit dashboard on the local machine.

The dashboard has no login, and it shows what depaudit found in your repositories
(file names, hosts, package versions). So it binds 127.0.0.1 unless told otherwise:
``--host`` picks another address (with a warning), and an address that reaches other
machines (a wildcard such as 0.0.0.0 / ::, or any non-loopback address) also needs
``--allow-remote`` — put it behind an authenticating proxy if you do that.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
import sys
from pathlib import Path
from typing import Annotated

import typer

from depaudit.cli.app import app, fail, log, normalize_db_url
from depaudit.cli.extras import require_dashboard_extra

DEFAULT_HOST = "127.0.0.1"
# depaudit/dashboard (a symlink to the root dashboard/ in a checkout)
APP_PATH = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"


def bare_host(host: str) -> str:
    """``[::1]`` (an IPv6 address as written in a URL) -> ``::1``, what a socket binds."""
    text = host.strip()
    return text[1:-1] if text.startswith("[") and text.endswith("]") else text


def bind_problem(host: str, port: int) -> str | None:
    """Why the server could not listen on ``host:port``, or None when it can.

    Checked before Streamlit starts: Streamlit reports a bad address with a traceback.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        return f"--host {host}: not an address or a known host name ({getattr(exc, 'strerror', None) or exc})"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"port {port} is already in use on {host}"
            return f"--host {host}: cannot listen there ({exc.strerror})"
    return None


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything, treat it as remote


def streamlit_command(app_path: Path, *, db_url: str, host: str, port: int) -> list[str]:
    """The ``python -m streamlit run`` command line (headless, no telemetry, no file watcher)."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app_path),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        # a served dashboard does not reload on source edits: no watcher threads
        "--server.fileWatcherType",
        "none",
        "--server.runOnSave",
        "false",
        # no "Deploy" / developer menu for the people reading the audit
        "--client.toolbarMode",
        "viewer",
        "--",
        "--db",
        db_url,
    ]


def store_problem(url: str) -> str | None:
    """Why the dashboard could not read the store at ``url`` (one line), or None.

    The same read-only open the dashboard makes, done before the server starts: an
    unsupported URL, a file that is not a database, a server that does not answer or a
    database that is not a depaudit store is refused here rather than in the browser.
    """
    from depaudit.store.engine import StoreError
    from depaudit.store.reader import StoreReader

    try:
        StoreReader(url).close()
    except StoreError as exc:
        return " ".join(str(exc).split())
    except Exception as exc:  # a driver error SQLAlchemy does not wrap
        return f"cannot open the store: {' '.join(str(exc).split())[:200]}"
    return None


@app.command()
def dashboard(
    db: Annotated[
        str | None,
        typer.Option(help="Store URL (default: $DEPAUDIT_DB, else the embedded SQLite file)."),
    ] = None,
    port: Annotated[int, typer.Option(help="TCP port to listen on.", min=1, max=65535)] = 8501,
    host: Annotated[
        str,
        typer.Option(
            help="Address to bind. Default 127.0.0.1 (this machine only). Any other address prints a "
            "warning; a wildcard (0.0.0.0, ::) or non-loopback address also needs --allow-remote.",
        ),
    ] = DEFAULT_HOST,
    allow_remote: Annotated[
        bool,
        typer.Option(
            "--allow-remote",
            help="Allow --host to bind an address other machines can reach. The dashboard has no login.",
        ),
    ] = False,
) -> None:
    """Open the web dashboard on a store (read-only): leftovers, drift, shared, history."""
    require_dashboard_extra("dashboard")
    url = normalize_db_url(db)
    host = bare_host(host)
    from depaudit.store.engine import StoreError, sqlite_path

    try:
        path = sqlite_path(url)
    except StoreError as exc:
        fail(str(exc))
    if path is not None and not path.is_file():
        fail(f"no depaudit store at {path} (run `depaudit collect PATH --db {url}` first)")
    if path is not None and not os.access(path, os.R_OK):
        fail(f"{path}: the store is not readable")
    problem = store_problem(url)
    if problem is not None:
        fail(problem)
    if host != DEFAULT_HOST and not is_loopback(host) and not allow_remote:
        fail(
            f"--host {host} lets other machines reach the dashboard, which has no login; "
            "add --allow-remote if that is what you want"
        )
    problem = bind_problem(host, port)
    if problem is not None:
        fail(problem)
    if host != DEFAULT_HOST:
        log(
            f"depaudit: warning: binding {host}:{port}"
            + (
                ""
                if is_loopback(host)
                else " (reachable from other machines; the dashboard has no login)"
            )
        )
    if not APP_PATH.is_file():
        fail(f"the dashboard is not installed ({APP_PATH} is missing)")
    command = streamlit_command(APP_PATH, db_url=url, host=host, port=port)
    env = {**os.environ, "DEPAUDIT_DASHBOARD_DB": url}
    log(
        f"depaudit: dashboard on http://{host if ':' not in host else f'[{host}]'}:{port} (Ctrl-C stops it)"
    )
    sys.stderr.flush()
    sys.stdout.flush()
    # exec: the server replaces this process, so a signal to our pid reaches Streamlit.
    os.execve(sys.executable, command, env)
