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

Web apps
--------
``served(app)`` (and ``served_module`` for module-scoped fixtures) serves an ASGI app on a
real uvicorn: it binds a socket on port 0 *before* uvicorn starts and hands that socket to it,
so a client that connects early waits in the listen backlog until uvicorn accepts and no test
waits (or sleeps) for the server to come up. The server stops when the block ends.

PostgreSQL unreachable: with ``CI`` set (``CI=true``) the tests *fail* with the reason; outside
CI they are skipped with a reason naming the URL. The terminal summary lists the backends that
really ran (``shoploop store backends exercised: postgresql, sqlite``), so a CI log shows it.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
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


# -- deterministic kill points (the crash tests of sync and reco publish) -----------------------

READ, CREATE, WRITE = "read", "create", "write"
BEFORE, AFTER = "before", "after"


def request_kind(connection: str, request: Any) -> str | None:
    """What a request does, as the emulator of ``connection`` sees it: ``read``, ``create``
    (customers; referral codes and rewards: discount codes, gift cards, coupons, ERP documents) or
    ``write`` (attribute values, recommendation lists, a reward revoked); None for anything
    else."""
    if connection == "shop":  # GraphQL: the operation's fields name it
        if request.method != "POST" or not request.path.endswith("graphql.json"):
            return None
        query = str(request.json().get("query", ""))
        creates = ("customerCreate", "discountCodeBasicCreate", "giftCardCreate")
        if any(c in query for c in creates):
            return CREATE
        writes = ("metafieldsSet", "tagsAdd", "discountCodeDeactivate", "giftCardDeactivate")
        return WRITE if any(w in query for w in writes) else READ
    if connection == "woo":
        if request.method == "GET":
            return READ
        if request.path.endswith("/customers/batch"):
            body = request.json()
            return CREATE if body.get("create") else WRITE if body.get("update") else None
        if request.path.endswith("/products/batch"):  # reco publish
            return WRITE if request.json().get("update") else None
        if request.method == "POST" and request.path.endswith("/coupons"):  # rewards
            return CREATE
        if re.search(r"/coupons/\d+$", request.path):  # a reward revoked
            return WRITE
        return None
    if request.method != "POST":
        return None
    if b"ReadMultiple" in request.body:
        return READ
    # A reward document (gift order, credit note) created or, revoked, deleted.
    if re.search(rb"<(\w+:)?Create[\s>]", request.body):
        return CREATE
    return WRITE if re.search(rb"<(\w+:)?Delete[\s>]", request.body) else None


@dataclass(frozen=True)
class KillPoint:
    """The ``nth`` request of ``kind`` to ``connection`` in the next run, held ``before`` it
    is applied or ``after`` it was applied (its answer never leaves)."""

    connection: str
    kind: str
    nth: int
    when: str = AFTER


class KillSwitch:
    """Kills ``shoploop sync`` runs at exact points of their conversation with the emulators.

    Each emulator's handler is wrapped: the test arms a :class:`KillPoint`, and the request
    that reaches it is held there — applied or not, as asked — while every later request of
    the run, to any emulator, is parked and then dropped unapplied. ``kill(process)`` waits
    for the hold, SIGKILLs the run and lets the parked requests go once nothing is being
    applied any more. So a kill lands exactly at the point the test chose, however fast or
    loaded the machine is, and ``applied`` counts what each emulator really did.
    """

    def __init__(self, emulators: dict[str, Any]) -> None:
        self._cond = threading.Condition()
        self._point: KillPoint | None = None
        self._seen = 0
        self._held = False
        self._frozen = False
        self._applying = 0
        self._round = 0
        self.applied: Counter[tuple[str, str]] = Counter()
        for name, emulator in emulators.items():
            emulator.handler = self._wrap(name, emulator.handler)

    def arm(self, connection: str, kind: str, nth: int, when: str = AFTER) -> None:
        """Kill the next run at its ``nth`` request of ``kind`` to ``connection``, held
        ``before`` it is applied or ``after``."""
        assert kind in (READ, CREATE, WRITE) and when in (BEFORE, AFTER) and nth >= 1
        self.resume()
        with self._cond:
            self._point, self._seen = KillPoint(connection, kind, nth, when), 0

    def resume(self) -> None:
        """Let the next run's requests through (a run that is not to be killed)."""
        with self._cond:
            # Anything that arrived since the kill came from the dead run: dropped.
            self._round += 1
            self._point, self._frozen, self._held = None, False, False
            self._cond.notify_all()

    def _wrap(self, name: str, handler: Callable[[Any], Any]) -> Callable[[Any], Any]:
        from shoploop.emulation import Response

        def held(request: Any) -> Any:
            return self.through(name, request_kind(name, request), lambda: handler(request),
                                lambda: Response.text("the run was killed", 503))

        return held

    def through(self, name: str, kind: str | None, apply: Callable[[], Any],
                refused: Callable[[], Any]) -> Any:
        """One request of ``kind`` to ``name``: ``apply()`` it and answer what it gives, or
        hold it at the armed point, or park it (the run is being killed) and answer
        ``refused()``. The emulators' handlers go through here; so can another server's (the
        referral tests' SMTP server: ``name`` "smtp", kind ``write``)."""
        with self._cond:
            if self._frozen:  # the run is being killed: this request never applies
                parked = self._round
                self._cond.wait_for(lambda: self._round != parked)
                return refused()
            hold = None
            point = self._point
            if point is not None and (point.connection, point.kind) == (name, kind):
                self._seen += 1
                if self._seen == point.nth:
                    hold, self._frozen = point.when, True
            if hold != BEFORE:
                self._applying += 1
        if hold == BEFORE:
            return self._hold(refused())
        try:
            response = apply()
        finally:
            with self._cond:
                self._applying -= 1
                if kind is not None:
                    self.applied[(name, kind)] += 1
                self._cond.notify_all()
        return self._hold(response) if hold == AFTER else response

    def _hold(self, response: Any) -> Any:
        with self._cond:
            self._held = True
            self._cond.notify_all()
            parked = self._round
            self._cond.wait_for(lambda: self._round != parked)
        return response  # to a client that is dead by now

    def kill(self, process: subprocess.Popen[bytes], timeout: float = 600) -> bool:
        """Wait until the armed point holds, then SIGKILL the run; False if it ended first.
        (``timeout`` only turns a hang — a run that neither gets there nor ends — into a
        failure; it plays no part in where the kill lands.)"""
        ended: list[bool] = []

        def wait_for_exit() -> None:
            process.wait()
            with self._cond:
                ended.append(True)
                self._cond.notify_all()

        threading.Thread(target=wait_for_exit, daemon=True).start()
        with self._cond:
            settled = self._cond.wait_for(lambda: self._held or bool(ended), timeout=timeout)
            held = self._held
        if held or not settled:
            os.kill(process.pid, signal.SIGKILL)
        process.wait()
        with self._cond:
            # Requests already being applied finish before the next run starts; the parked
            # ones are dropped, and so is any late one of the dead run until the next
            # arm() or resume().
            self._cond.wait_for(lambda: self._applying == 0)
            self._point, self._frozen = None, True
            self._round += 1
            self._cond.notify_all()
        assert settled, f"the run neither reached the kill point nor ended in {timeout} s"
        return held


def _confirmed_once(batches: list[Any]) -> int:
    """Every change is confirmed by one batch at most (the intent batches' promise); returns
    the number of confirmed batches. A change is a sync's (customer, key, new value) or a
    referral reward's (reward, key)."""
    confirmed: dict[tuple[str, ...], int] = {}
    for batch in batches:
        if batch.status != "confirmed":
            continue
        for item in batch.changes["items"]:
            change = (batch.connection, *(json.dumps(item.get(field), sort_keys=True)
                                          for field in ("customer", "reward", "key", "new")))
            assert change not in confirmed, f"{change} confirmed by batches " \
                                            f"{confirmed[change]} and {batch.id}"
            confirmed[change] = batch.id
    return sum(1 for batch in batches if batch.status == "confirmed")


@pytest.fixture
def confirmed_once() -> Callable[[list[Any]], int]:
    """``confirmed_once(batches)``: fails when a change was confirmed by two ``SyncBatch``
    rows; the number of confirmed batches."""
    return _confirmed_once


@pytest.fixture
def kill_switch() -> type[KillSwitch]:
    """``kill_switch(emulators)`` → a :class:`KillSwitch` on those (started) emulators."""
    return KillSwitch


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for engine in _admin.values():
        engine.dispose()
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # a pytest-xdist worker: the controller prints the summary
        workeroutput["shoploop_exercised"] = sorted(_exercised)
        workeroutput["shoploop_unavailable"] = dict(_unavailable)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """Collect what each xdist worker exercised, so the summary line covers the whole run."""
    output = getattr(node, "workeroutput", {})
    _exercised.update(output.get("shoploop_exercised", ()))
    _unavailable.update(output.get("shoploop_unavailable", {}))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _exercised and not _unavailable:
        return  # no store test in this run
    line = f"shoploop store backends exercised: {', '.join(sorted(_exercised)) or 'none'}"
    for backend, reason in sorted(_unavailable.items()):
        line += f" ({backend} not exercised: {reason})"
    terminalreporter.write_line(line)


# -- web apps on a real socket (tests/web, tests/referral) -------------------------------

def _served(app: Any) -> AbstractContextManager[str]:
    from shoploop.web import serving

    return serving(app)


@pytest.fixture
def served() -> Callable[[Any], AbstractContextManager[str]]:
    """``with served(app) as base_url: ...`` — the app on a real loopback socket."""
    return _served


@pytest.fixture(scope="module")
def served_module() -> Callable[[Any], AbstractContextManager[str]]:
    """``served`` for a module-scoped fixture (one server for a module's tests)."""
    return _served


def _post_concurrently(url: str, requests: list[tuple[bytes, dict[str, str]]],
                       timeout: float = 60.0) -> list[httpx.Response]:
    barrier = threading.Barrier(len(requests))  # all connected, then all sent at once

    def post(request: tuple[bytes, dict[str, str]]) -> httpx.Response:
        with httpx.Client(timeout=timeout) as client:
            barrier.wait(timeout)
            return client.post(url, content=request[0], headers=request[1])

    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(post, requests))


@pytest.fixture
def post_concurrently() -> Callable[..., list[httpx.Response]]:
    """``post_concurrently(url, [(body, headers), …])``: each request from its own thread,
    all released by one barrier (duplicate webhook deliveries: ``[(body, headers)] * 3``);
    their ``httpx`` responses, in order."""
    return _post_concurrently
