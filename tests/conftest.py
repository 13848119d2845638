"""Shared fixtures: real virtualenvs for the live collector, and the store URL.

``store_url`` runs a test once on SQLite and once on PostgreSQL. PostgreSQL comes from
``DEPAUDIT_TEST_POSTGRES_URL`` (``.ci/run`` sets it); without it the postgres case is
skipped with a visible reason. Each postgres test gets its own fresh database, dropped
afterwards, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# pytest puts tests/ on sys.path for this conftest; tests/collectors and tests/depaudit
# (no __init__.py) would then shadow the real packages as namespace packages ahead of
# the editable install's finder. The repository root first keeps the real ones.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path[:1]:
    sys.path.insert(0, str(ROOT))

from depaudit.cli import load_commands  # noqa: E402 (after the path fix above)

# In-process CLI tests invoke ``app`` with CliRunner: register every command, as
# ``depaudit --help`` does (the console script registers only the command it runs).
load_commands()

POSTGRES_ENV = "DEPAUDIT_TEST_POSTGRES_URL"

VenvFactory = Callable[..., Path]


def make_venv(path: Path, *requirements: str) -> Path:
    """A venv with pip, with ``requirements`` installed ``--no-deps`` from PyPI.

    There is no offline wheel cache: when pip cannot install (no network), the test is
    skipped with pip's last words as the reason.
    """
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, capture_output=True)
    python = path / "bin" / "python"
    if requirements:
        done = subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                "--no-deps",
                *requirements,
            ],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "PIP_NO_INPUT": "1"},
            check=False,
        )
        if done.returncode != 0:
            tail = " ".join(done.stderr.split())[-200:]
            pytest.skip(f"pip install {' '.join(requirements)} failed (no PyPI access?): {tail}")
    return python


@pytest.fixture
def venv_factory(tmp_path: Path) -> VenvFactory:
    """``venv_factory("six==1.16.0", ...)`` -> the python of a fresh venv with them."""
    counter = iter(range(1000))

    def factory(*requirements: str) -> Path:
        return make_venv(tmp_path / f"venv{next(counter)}", *requirements)

    return factory


# ------------------------------------------------------------------------- stores


def _postgres_database(admin_url: str) -> Iterator[str]:
    """A fresh database on the server of ``admin_url``; dropped after the test."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"depaudit_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # server down, no CREATEDB right: say so, do not error
        admin.dispose()
        pytest.skip(
            f"{POSTGRES_ENV} set but cannot create a test database: {type(exc).__name__}: {exc}"
        )
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        # close the connections the test left open, then drop; an autovacuum worker on the
        # new database is the server's (terminating it needs a superuser): DROP DATABASE
        # cancels it itself
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :n AND pid <> pg_backend_pid() "
                    "AND backend_type = 'client backend' AND usename = current_user"
                ),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty store: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    admin_url = os.environ.get(POSTGRES_ENV)
    if not admin_url:
        pytest.skip(f"PostgreSQL store tests need {POSTGRES_ENV} (see .ci/run)")
    yield from _postgres_database(admin_url)
