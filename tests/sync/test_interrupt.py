"""Ctrl-C and SIGTERM are honoured (issue 13, item 2), with real processes: ``shoploop sync
customers`` runs as a subprocess against the emulators; the WooCommerce emulator holds one
write batch in flight (applied once the test lets it go, as a slow server would), the test
signals the process while it is held — no sleeps: it waits for the held request and for the
CLI's notice on stderr — and checks the exit code, the notice, the recorded run and what the
emulators received, then that a re-run finishes the job without writing anything twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import IO, Any

import pytest

from shoploop.emulation import Request, Response

CUSTOMERS = 200
HOLD_SECONDS = 120.0
"""How long a held write waits at most for the test (a failing test must not hang)."""


class HeldWrite:
    """Wraps the WooCommerce emulator's handler: the ``nth`` attribute batch it receives waits
    until :meth:`release`, then is applied."""

    def __init__(self, emulator: Any, nth: int) -> None:
        self.inner: Callable[[Request], Response] = emulator.handler
        self.nth, self.seen = nth, 0
        self.arrived, self.released, self.applied = (threading.Event(), threading.Event(),
                                                     threading.Event())
        self._lock = threading.Lock()
        emulator.handler = self

    def __call__(self, request: Request) -> Response:
        held = False
        if request.method == "POST" and request.path.endswith("/customers/batch"):
            with self._lock:
                self.seen += 1
                held = self.seen == self.nth
        if not held:
            return self.inner(request)
        self.arrived.set()
        self.released.wait(HOLD_SECONDS)
        try:
            return self.inner(request)
        finally:
            self.applied.set()

    def release(self) -> None:
        self.released.set()


def _start(env: Any) -> subprocess.Popen[bytes]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SHOPLOOP_")}
    environment.update(env.env, NO_COLOR="1", COLUMNS="250", TERM="dumb")
    return subprocess.Popen(
        [sys.executable, "-m", "shoploop", "-c", str(env.config_path), "sync", "customers",
         "--json"], cwd=env.tmp_path, env=environment, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE)


def _read_until(stream: IO[bytes] | None, text: str) -> str:
    """stderr up to the first line holding ``text`` (it blocks on the pipe, no polling)."""
    assert stream is not None
    seen = []
    for raw in iter(stream.readline, b""):
        line = raw.decode(errors="replace")
        seen.append(line)
        if text in line:
            return "".join(seen)
    raise AssertionError(f"the process ended without saying {text!r}: {''.join(seen)}")


def _received(env: Any) -> dict[str, int]:
    """Values each shop emulator was sent (every write of a shoploop key counts)."""
    shop = sum(n for (_owner, ns, _key), n in env.shop.data.metafield_writes.items()
               if ns == "shoploop")
    return {"shop": shop, "woo": sum(env.woo.data.meta_sent.values())}


def _most_per_value(env: Any) -> int:
    """How often the value written most often was sent (1: nothing twice)."""
    counts = [n for (_o, ns, _k), n in env.shop.data.metafield_writes.items() if ns == "shoploop"]
    return max(counts + list(env.woo.data.meta_sent.values()))


def _last_run(env: Any) -> dict[str, Any]:
    done = env.cli("sync", "history", "--json")
    assert done.returncode == 0, done.stderr
    run: dict[str, Any] = json.loads(done.stdout)["runs"][0]
    return run


def _finish_and_check(env: Any, landed: dict[str, int]) -> None:
    """A re-run completes the job: exit 0, every shop customer linked to its ERP number,
    no value sent twice, and what the shops received since ``landed`` (per target, what they
    held from the first run) is what the re-run counts as written."""
    done = env.cli("sync", "customers", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    second = json.loads(done.stdout)
    numbers = {number: number for number in env.erp_rows()}
    assert env.woo_values("customer_number") == numbers
    assert env.shop_values("customer_number") == numbers
    assert _most_per_value(env) == 1
    received = _received(env)
    for target in ("shop", "woo"):
        assert landed[target] + second["targets"][target]["written"] == received[target], \
            target


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_after_the_batch_in_flight_records_true_counts_and_a_rerun_resumes(
        make_env: Callable[..., Any], wait_until: Callable[..., bool], signum: int,
        code: int) -> None:
    env = make_env(customers=CUSTOMERS)
    held = HeldWrite(env.woo, nth=2)
    process = _start(env)
    try:
        assert wait_until(held.arrived.is_set, process), process.communicate()[1].decode()
        process.send_signal(signum)
        notice = _read_until(process.stderr, "stopping after the batch in flight")
        assert "press Ctrl-C again to abort now" in notice
        assert signal.Signals(signum).name in notice
    finally:
        held.release()
    out, err = process.communicate(timeout=HOLD_SECONDS)

    assert process.returncode == code, err.decode()
    report = json.loads(out)
    assert report["interrupted"] == signal.Signals(signum).name
    assert report["exit_code"] == code and not report["ok"]
    received = _received(env)
    assert received["woo"] == 200  # the first batch and the one in flight, nothing after
    run = _last_run(env)
    assert run["status"] == "interrupted"
    written = {t: run["targets"][t]["written"] for t in ("shop", "woo")}
    assert written == received, (written, received)
    assert written == {t: report["targets"][t]["written"] for t in ("shop", "woo")}
    assert env.woo_values("customer_number") != {n: n for n in env.erp_rows()}, \
        "the stop must have left work for the re-run"

    _finish_and_check(env, written)


def test_a_second_signal_aborts_at_once_with_a_message_and_the_rerun_heals(
        make_env: Callable[..., Any], wait_until: Callable[..., bool]) -> None:
    env = make_env(customers=CUSTOMERS)
    held = HeldWrite(env.woo, nth=2)
    process = _start(env)
    try:
        assert wait_until(held.arrived.is_set, process), process.communicate()[1].decode()
        process.send_signal(signal.SIGINT)
        _read_until(process.stderr, "stopping after the batch in flight")
        process.send_signal(signal.SIGINT)
        # It leaves while the batch is still held: an abort waits for nothing.
        out, err = process.communicate(timeout=HOLD_SECONDS)
        received = _received(env)
    finally:
        held.release()
    assert held.applied.wait(HOLD_SECONDS)

    assert process.returncode == 130, err.decode()
    message = " ".join(err.decode().split())
    assert "SIGINT again: aborting now" in message
    assert "recorded as interrupted" in message and "resumes it" in message
    assert json.loads(out)["interrupted"] == "aborted by SIGINT"
    run = _last_run(env)
    assert run["status"] == "interrupted"
    written = {t: run["targets"][t]["written"] for t in ("shop", "woo")}
    # As far as known: the batches confirmed before the abort. The held one (and any other
    # in flight) is still pending: sent, maybe applied, not known to be.
    shown = json.loads(env.cli("sync", "show", run["run_id"], "--json").stdout)
    confirmed = {t: sum(b["size"] for b in shown["batches"]
                        if b["target"] == t and b["status"] == "confirmed")
                 for t in ("shop", "woo")}
    assert written == confirmed and written["woo"] == received["woo"] == 100
    assert written["shop"] <= received["shop"]
    assert any(b["status"] == "pending" and b["target"] == "woo" for b in shown["batches"])

    # The held batch landed after the process left: the re-run reconciles the pending
    # intents (the adapters find their values there) instead of sending them again.
    _finish_and_check(env, _received(env))


def test_a_stop_ends_an_import_after_the_page_in_flight_and_the_next_import_resumes(
        make_env: Callable[..., Any]) -> None:
    from sqlalchemy import func, select

    from shoploop._connections import Connections
    from shoploop._interrupt import StopToken
    from shoploop.jobs import mirror_stream
    from shoploop.store import Store
    from shoploop.store._schema import CustomerRecord, SyncRunRecord

    env = make_env(customers=CUSTOMERS)
    config = env.config()
    stop = StopToken()
    with Connections(config, env.host.connectors) as connections, \
            Store(config.store_url) as store:
        woo = connections["woo"]
        stopped = mirror_stream(woo, store, connection="woo", stream="customers", stop=stop,
                                on_page=lambda _n: stop.request())
        resumed = mirror_stream(woo, store, connection="woo", stream="customers")
        with store.session() as session:
            mirrored = session.scalar(select(func.count()).select_from(CustomerRecord).where(
                CustomerRecord.connection == "woo"))
            status = session.scalar(select(SyncRunRecord.status).where(
                SyncRunRecord.id == stopped.run_id))
    assert stopped.stopped and stopped.pages == 1 and status == "interrupted"
    assert not resumed.stopped and resumed.read == CUSTOMERS - stopped.read
    assert mirrored == CUSTOMERS


def test_the_stop_token_asks_first_aborts_second_and_restores_the_handlers() -> None:
    from shoploop._interrupt import Aborted, StopToken

    token, notices = StopToken(), []
    before = signal.getsignal(signal.SIGTERM)
    with token.installed(on_first=notices.append, on_second=notices.append):
        signal.raise_signal(signal.SIGTERM)
        assert token.requested and token.exit_code == 143 and token.reason == "SIGTERM"
        with pytest.raises(Aborted) as aborted:
            signal.raise_signal(signal.SIGINT)
        signal.raise_signal(signal.SIGINT)  # a third: ignored while the abort is under way
    assert notices == [signal.SIGTERM, signal.SIGINT]
    assert aborted.value.exit_code == 130
    assert signal.getsignal(signal.SIGTERM) is before

    elsewhere = StopToken()
    seen: list[Any] = []

    def install() -> None:  # signal handlers belong to the main thread: nothing installed
        with elsewhere.installed():
            seen.append(signal.getsignal(signal.SIGINT))

    thread = threading.Thread(target=install)
    thread.start()
    thread.join()
    assert seen == [signal.getsignal(signal.SIGINT)]
