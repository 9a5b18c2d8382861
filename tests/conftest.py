"""Fixtures shared by the whole suite.

Store backends
--------------
A test that takes ``store_url`` (an empty database) or ``store`` (a migrated ``Store``) runs
once per backend: ``sqlite`` (a file in ``tmp_path``) and ``postgresql`` (the server at
``SHOPLOOP_TEST_POSTGRES_URL``, default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``).

Isolation on PostgreSQL: every test gets a freshly created schema, dropped afterwards. The URL
handed to the test carries ``options=-csearch_path=<schema>``, so everything the test and
Alembic create — ``alembic_version`` included — lands in that schema, and no test ever sees
another's data.

PostgreSQL unreachable: with ``CI`` set (``CI=true``) the tests *fail* with the reason; outside
CI they are skipped with a reason naming the URL. The terminal summary lists the backends that
really ran (``shoploop store backends exercised: postgresql, sqlite``), so a CI log shows it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from shoploop.store import Store, redact_url

POSTGRES_URL = (
    os.environ.get("SHOPLOOP_TEST_POSTGRES_URL")
    or "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
STORE_BACKENDS = ("sqlite", "postgresql")

_exercised: set[str] = set()
_unavailable: dict[str, str] = {}
_admin: dict[str, Engine] = {}


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _postgres_admin() -> Engine:
    """One AUTOCOMMIT engine per session for creating and dropping test schemas; fails (CI)
    or skips (elsewhere) when the server cannot be reached."""
    if "postgresql" not in _admin and "postgresql" not in _unavailable:
        url = make_url(POSTGRES_URL)
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        engine = create_engine(url, isolation_level="AUTOCOMMIT",
                               connect_args={"connect_timeout": 5})
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:
            engine.dispose()
            _unavailable["postgresql"] = (
                f"PostgreSQL at {redact_url(POSTGRES_URL)} (SHOPLOOP_TEST_POSTGRES_URL) is "
                f"unreachable: {str(exc).splitlines()[0]}"
            )
        else:
            _admin["postgresql"] = engine
    if "postgresql" in _unavailable:
        _give_up(_unavailable["postgresql"])
    return _admin["postgresql"]


def _give_up(reason: str) -> None:
    if in_ci():
        pytest.fail(f"{reason} — CI is set, so the store tests must run against PostgreSQL",
                    pytrace=False)
    pytest.skip(reason)


@pytest.fixture(params=[
    pytest.param("sqlite"),
    pytest.param("postgresql", marks=pytest.mark.postgres),
])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database on each backend (see the module docs)."""
    backend: str = request.param
    if backend == "sqlite":
        _exercised.add(backend)
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    admin = _postgres_admin()
    schema = f"shoploop_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(admin.url)
    options = " ".join(filter(None, [url.query.get("options"), f"-csearch_path={schema}"]))
    _exercised.add(backend)
    try:
        yield url.update_query_dict({"options": options}).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            # A test that leaked an open transaction makes this fail loudly, not hang.
            connection.execute(text("SET lock_timeout = '10s'"))
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A ``Store`` migrated to the newest revision, on each backend."""
    with Store(store_url) as migrated:
        migrated.upgrade()
        yield migrated


@pytest.fixture(scope="session")
def demo_once(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], str]:
    """``shoploop demo --customers 300 --dir d --json``, run once for the session (the demo
    tests and the attributes tests read the same demo): its folder, its report and everything
    it printed. Read it only; a test that changes the folder works on a copy of it."""
    work = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPLOOP_")}
    done = subprocess.run([sys.executable, "-m", "shoploop", "demo", "--customers", "300",
                           "--dir", "d", "--json"], cwd=work, env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return work / "d", json.loads(done.stdout), done.stdout + done.stderr


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for engine in _admin.values():
        engine.dispose()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _exercised and not _unavailable:
        return  # no store test in this run
    line = f"shoploop store backends exercised: {', '.join(sorted(_exercised)) or 'none'}"
    for backend, reason in sorted(_unavailable.items()):
        line += f" ({backend} not exercised: {reason})"
    terminalreporter.write_line(line)
