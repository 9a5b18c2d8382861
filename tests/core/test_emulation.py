"""The emulator plumbing: keep-alive and connection counting, faults, stats, `shoploop emulate`."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import urllib.request

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shoploop import new_host
from shoploop.emulation import EmulatorServer, FaultPlan, Request, Response


def echo(request: Request) -> Response:
    return Response.json({"path": request.path, "q": request.arg("q"), "len": len(request.body)})


def test_keep_alive_requests_share_one_connection():
    with EmulatorServer(echo) as server:
        conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
        for i in range(10):
            conn.request("POST", f"/items?q={i}", body=b"x" * i)
            reply = conn.getresponse()
            assert json.loads(reply.read()) == {"path": "/items", "q": str(i), "len": i}
        conn.close()
        stats = json.loads(urllib.request.urlopen(server.url + "/_emulator/stats").read())
    assert stats["requests"] == 10  # the stats request itself is not counted
    assert stats["connections"] == 2  # one keep-alive connection + the stats request's


def test_forced_faults_behave_like_platforms():
    faults = FaultPlan(slow_seconds=1.0, retry_after=1.5)
    with EmulatorServer(echo, faults=faults) as server:
        faults.force("429")
        faults.force("503")
        conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
        conn.request("GET", "/a")
        throttled = conn.getresponse()
        throttled.read()
        assert (throttled.status, throttled.getheader("Retry-After")) == (429, "1.5")
        conn.request("GET", "/a")
        unavailable = conn.getresponse()
        unavailable.read()
        assert unavailable.status == 503
        faults.force("drop")
        conn.request("GET", "/a")
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            conn.getresponse()
        faults.force("slow")
        slow = http.client.HTTPConnection(server.host, server.port, timeout=0.2)
        slow.request("GET", "/a")
        with pytest.raises(socket.timeout):
            slow.getresponse()
        stats = server.stats.snapshot()
    assert stats["throttled"] == 1 and stats["faulted"] == 3


def test_a_lost_answer_applies_the_write_and_answers_502():
    applied: list[str] = []

    def record(request: Request) -> Response:
        if request.method != "GET":
            applied.append(request.path)
        return Response.json({"ok": True})

    faults = FaultPlan()
    with EmulatorServer(record, faults=faults) as server:
        faults.lose(1)
        conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
        statuses = []
        for method, path in (("GET", "/read"), ("POST", "/first"), ("POST", "/second")):
            conn.request(method, path, body=b"{}" if method == "POST" else None)
            reply = conn.getresponse()
            reply.read()
            statuses.append(reply.status)
        assert statuses == [200, 502, 200]  # reads are never lost; the first write is
        assert applied == ["/first", "/second"]  # …and was applied all the same
        assert server.stats.get("lost_answers") == 1 and faults.lose_pending == 0
    with pytest.raises(ValueError, match="lost-answer rate"):
        FaultPlan(lost_rate=2.0)


def test_handler_errors_become_500():
    def broken(_request: Request) -> Response:
        raise KeyError("customer")

    with EmulatorServer(broken) as server:
        conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
        conn.request("GET", "/")
        reply = conn.getresponse()
        assert reply.status == 500 and b"KeyError" in reply.read()


@given(seed=st.integers(0, 10**6), rate=st.floats(0, 1))
def test_fault_plan_is_deterministic_per_seed(seed, rate):
    first, second = FaultPlan(rate=rate, seed=seed), FaultPlan(rate=rate, seed=seed)
    draws = [first.draw() for _ in range(50)]
    assert draws == [second.draw() for _ in range(50)]
    if rate == 0:
        assert set(draws) == {None}


def test_fault_rate_is_respected_on_average():
    plan = FaultPlan(rate=0.05, seed=3)
    faulted = sum(plan.draw() is not None for _ in range(20_000))
    assert 800 <= faulted <= 1200


def test_fault_rate_out_of_range_is_rejected():
    with pytest.raises(ValueError, match="between 0 and 1"):
        FaultPlan(rate=1.5)


def test_emulators_register_through_the_hook(fake_site, monkeypatch):
    monkeypatch.syspath_prepend(str(fake_site(echo="shoploop_fixture_echo_emulator")))
    import shoploop_fixture_echo_emulator as plugin

    host = new_host(strict=True)
    host.register(plugin, name="echo")
    assert host.emulators.emulators["echo"].plugin == "echo"


def test_shoploop_emulate_serves_and_writes_its_config(fake_site, tmp_path):
    site = fake_site(echo="shoploop_fixture_echo_emulator")
    env = {**os.environ, "PYTHONPATH": str(site)}
    out = tmp_path / "echo.toml"
    proc = subprocess.Popen(
        [sys.executable, "-m", "shoploop", "emulate", "echo", "--option", "greeting=hi",
         "--config-out", str(out), "--connection", "demo_echo"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # blocks until the server is up and has printed
        url = first.split(" at ")[1].split()[0]
        assert json.loads(urllib.request.urlopen(url + "/x").read())["greeting"] == "hi"
        stats = json.loads(urllib.request.urlopen(url + "/_emulator/stats").read())
        assert stats["requests"] == 1
        assert out.read_text().startswith("[connections.demo_echo]")
        assert (tmp_path / "echo.toml.env").read_text() == "ECHO_TOKEN=echo-secret\n"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""


def test_unknown_emulator_exits_2(run_cli):
    done = run_cli("emulate", "nope")
    assert done.returncode == 2 and "no emulator named 'nope'" in done.stderr


def test_unknown_fault_kinds_are_rejected_by_name():
    with pytest.raises(ValueError, match="unknown fault kind '5OO'"):
        FaultPlan(kinds=("500", "5OO"))
    with pytest.raises(ValueError, match="choose from"):
        FaultPlan().force("teapot")
