"""Run liveness (issue 19): a run killed mid-way is seen dead and closed ``interrupted``; a live
one never is — on SQLite and PostgreSQL, across processes and within one.

The killed run is a real child process mirroring customers from a connector that prints a line
and then waits on its stdin for ever; the test reads that line (the run's row is committed by
then) and SIGKILLs the child.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from shoploop import load_plugins
from shoploop.cli._app import build_app
from shoploop.hooks import Cursor, Customer, Page
from shoploop.jobs import mirror_stream
from shoploop.store import (
    INTERRUPTED,
    RUNNING,
    SUCCEEDED,
    Store,
    close_stale_runs,
    get_run,
    recent_runs,
    stale_runs,
)

CHILD = textwrap.dedent("""
    import sys
    from shoploop.jobs import mirror_stream
    from shoploop.store import Store

    class Stuck:
        def read_customers(self, cursor):
            print("reading", flush=True)
            sys.stdin.readline()  # never answered: the parent kills us here
            raise SystemExit("unreachable")

    with Store(sys.argv[1]) as store:
        mirror_stream(Stuck(), store, connection="shop", stream="customers")
""")


class OnePage:
    """One customer, one page; ``entered`` is set when a read starts, which then waits for
    ``release``."""

    def __init__(self, hold: bool = False) -> None:
        self.entered, self.release = threading.Event(), threading.Event()
        if not hold:
            self.release.set()

    def read_customers(self, cursor: Cursor | None) -> Page[Customer]:
        self.entered.set()
        assert self.release.wait(60), "the test never released the read"
        return Page(items=[Customer(id="c1", email="a@example.com")],
                    cursor=Cursor(stream="customers", position={"done": True}), has_more=False)


@pytest.fixture
def killed_run(store: Store, store_url: str) -> Iterator[str]:
    """The id of a customers import of connection ``shop`` SIGKILLed mid-read."""
    child = subprocess.Popen([sys.executable, "-c", CHILD, store_url], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line == b"reading\n", child.stderr.read() if child.stderr else line
        child.send_signal(signal.SIGKILL)
        assert child.wait(60) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    with store.session() as session:
        runs = recent_runs(session, job="mirror.customers")
    assert [r.status for r in runs] == [RUNNING]
    yield runs[0].id


def test_a_killed_import_is_stale_and_the_next_import_closes_it(store: Store, killed_run: str):
    assert [r.id for r in stale_runs(store)] == [killed_run]
    result = mirror_stream(OnePage(), store, connection="shop", stream="customers")
    with store.session() as session:
        killed, new = get_run(session, killed_run), get_run(session, result.run_id)
    assert killed is not None and new is not None
    assert killed.status == INTERRUPTED and killed.finished_at is not None
    assert "process died" in killed.summary["interrupted"]
    assert "import of customers from shop" in killed.summary["interrupted"]
    assert killed.summary["connection"] == "shop"  # the summary it had is kept
    assert new.status == SUCCEEDED
    assert stale_runs(store) == []
    if store.backend == "sqlite":  # the dead run's lock file is gone, and the live one's
        assert list(Path(f"{store.engine.url.database}.runs").iterdir()) == []


def test_an_import_of_another_connection_leaves_it(store: Store, killed_run: str):
    mirror_stream(OnePage(), store, connection="erp", stream="customers")
    with store.session() as session:
        killed = get_run(session, killed_run)
    assert killed is not None and killed.status == RUNNING
    assert close_stale_runs(store, by="the test") == [killed_run]
    assert close_stale_runs(store, by="the test") == []  # once


def _in_thread(store: Store, connector: OnePage) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def run() -> None:
        out["result"] = mirror_stream(connector, store, connection="shop", stream="customers")
    thread = threading.Thread(target=run)
    thread.start()
    assert connector.entered.wait(60), "the import never started reading"
    return thread, out


def test_a_live_run_is_never_stale(store: Store, store_url: str):
    first, second = OnePage(hold=True), OnePage(hold=True)
    threads = [_in_thread(store, first), _in_thread(store, second)]  # two live, one process
    try:
        with store.session() as session:
            assert [r.status for r in recent_runs(session)] == [RUNNING, RUNNING]
        assert stale_runs(store) == []
        with Store(store_url) as other:  # another store (another pool, another connection)
            assert close_stale_runs(other, by="the test") == []
        first.release.set()
        threads[0][0].join(60)
        assert stale_runs(store) == []  # the second still holds its lock after the first ended
    finally:
        first.release.set()
        second.release.set()
        for thread, _out in threads:
            thread.join(60)
    with store.session() as session:
        assert [r.status for r in recent_runs(session)] == [SUCCEEDED, SUCCEEDED]


@pytest.mark.parametrize("store_url", [pytest.param("postgresql", marks=pytest.mark.postgres)],
                         indirect=True)  # the celery backend refuses a SQLite store
def test_jobs_status_shows_stale_runs_and_closes_them(store: Store, store_url: str,
                                                      killed_run: str, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TEST_BROKER", "redis://127.0.0.1:6379/0")
    path = tmp_path / "shoploop.toml"
    path.write_text(f'[store]\nurl = "{store_url}"\n\n[jobs]\nbackend = "celery"\n'
                    f'broker_url_env = "TEST_BROKER"\nqueue = "liveness-{tmp_path.name}"\n',
                    encoding="utf-8")
    app = build_app(load_plugins())

    def status(*extra: str) -> dict[str, Any]:
        result = CliRunner().invoke(app, ["-c", str(path), "jobs", "status", "--json",
                                          "--timeout", "0.2", *extra])
        assert result.exit_code == 0, result.output
        return dict(json.loads(result.output))

    seen = status()
    assert (seen["runs_running"], seen["runs_stale"]) == (1, 1)
    assert [r["run_id"] for r in seen["stale_runs"]] == [killed_run]
    closed = status("--close-stale")
    assert closed["closed_stale"] == [killed_run]
    assert (closed["runs_running"], closed["runs_stale"]) == (0, 0)
    with store.session() as session:
        run = get_run(session, killed_run)
    assert run is not None and run.status == INTERRUPTED
    assert "--close-stale" in run.summary["interrupted"]
