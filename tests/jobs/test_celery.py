"""Issue 19: the sync on real Celery worker processes (Redis and RabbitMQ brokers, the
PostgreSQL store).

- Three shops through one worker reach exactly the end state of the same sync run in process,
  with the same writes (each value once); a command job (``webhooks-process``) runs there too.
- Two workers and twenty shops: both workers run lanes (their node names are in the lanes'
  ``sync_runs`` rows), the end state and the writes are the in-process ones, no change is
  confirmed twice.
- A worker SIGKILLed at ten random points of one sync (the kill switch holds the chosen
  request, so each kill lands exactly there) and restarted each time: the in-process end state,
  every value written once.
"""

from __future__ import annotations

import json
import math
import random
from typing import Any

import pytest
from sqlalchemy import select

from shoploop.store import Store, SyncBatch, SyncRunRecord, WebhookDeliveryRecord, record_delivery

READ, WRITE, BEFORE, AFTER = "read", "write", "before", "after"  # the kill switch's words

pytestmark = [pytest.mark.postgres, pytest.mark.slow,
              pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)]


def lanes_succeeded(world: Any, url: str) -> set[str]:
    with Store(url) as store, store.session() as session:
        return {t for r in session.scalars(select(SyncRunRecord).where(
                    SyncRunRecord.status == "succeeded"))
                for t in (r.summary or {}).get("targets", [])}


def killed_imports(url: str) -> int:
    """Mirror runs still marked running: a worker killed in an import leaves its run so until
    the next import of that stream and connection closes it (run liveness)."""
    with Store(url) as store, store.session() as session:
        return sum(1 for r in session.scalars(select(SyncRunRecord).where(
            SyncRunRecord.status == "running")) if r.job.startswith("mirror."))


def settle(world: Any, url: str, expected: dict[str, Any], *, kills: bool = False) -> None:
    """Wait for the reference state, a succeeded run per lane and an empty queue, and for
    ``jobs status`` to show nothing queued or running (with ``kills``: but the runs of
    imports killed)."""
    world.wait(lambda: world.holdings() == expected, "the shops to hold the reference state")
    world.wait(lambda: lanes_succeeded(world, url) == set(world.shops),
               "a succeeded run of every lane")

    def idle() -> bool:
        status = world.cli("jobs", "status", "--json", "--timeout", "1")
        assert status.returncode == 0, status.stderr
        data = json.loads(status.stdout)
        return data["queued"] in (0, None) and not data["running"] \
            and data["runs_running"] == (killed_imports(url) if kills else 0)

    world.wait(lambda: world.queued() == 0, "the queue to drain")
    world.wait(idle, "`jobs status` to show nothing queued or running")


def batches_of(url: str) -> list[SyncBatch]:
    with Store(url) as store, store.session() as session:
        return list(session.scalars(select(SyncBatch)))


def reference_of(make_world: Any, **sizes: Any) -> Any:
    reference = make_world(None, home="reference", **sizes)
    done = reference.cli("jobs", "run", "sync", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["backend"] == "inprocess"
    return reference


def send_sync(world: Any) -> None:
    sent = world.cli("jobs", "run", "sync", "--json")
    assert sent.returncode == 0, sent.stderr
    assert json.loads(sent.stdout)["backend"] == "celery"


@pytest.mark.parametrize("broker", ["redis", "amqp"])
def test_sync_on_workers_reaches_the_in_process_end_state(make_world, store_url, broker,
                                                          confirmed_once):
    reference = reference_of(make_world)
    expected = reference.holdings()
    assert any(values for shop in expected.values() for values in shop.values()), \
        "the seed must leave something to write"
    world = make_world(broker)
    world.start_worker("w1", concurrency=2)
    send_sync(world)
    settle(world, store_url, expected)
    assert world.writes() == reference.writes()
    assert confirmed_once(batches_of(store_url)) >= len(world.shops)
    assert world.log("w1").count("Task shoploop.sync_lane[") >= len(world.shops)

    # A command job on the same worker: the engine's summary, the store's deliveries done.
    with Store(store_url) as store, store.session() as session:
        record_delivery(session, connection="shop0", dedupe_key="customers/update:1",
                        topic="customers/update", event_type="customer.updated",
                        event={"type": "customer.updated", "connection": "shop0",
                               "dedupe_key": "customers/update:1"})
    sent = world.cli("jobs", "run", "webhooks-process", "--json")
    assert sent.returncode == 0, sent.stderr
    world.wait(lambda: delivery_statuses(store_url) == ["processed"],
               "the worker to process the stored delivery")
    world.wait(lambda: "'processed': 1" in world.log("w1"),
               "the webhooks-process task's summary in the worker's log")


def delivery_statuses(url: str) -> list[str]:
    with Store(url) as store, store.session() as session:
        return list(session.scalars(select(WebhookDeliveryRecord.status)))


def lane_workers(url: str) -> dict[str, str]:
    """target → the worker whose run of it succeeded (the runs a lane did, not repeats)."""
    with Store(url) as store, store.session() as session:
        return {t: r.summary["worker"] for r in session.scalars(select(SyncRunRecord).where(
                    SyncRunRecord.status == "succeeded"))
                if (r.summary or {}).get("worker") for t in r.summary.get("targets", [])}


def test_two_workers_share_twenty_shops(make_world, store_url, confirmed_once):
    sizes = {"shops": 20, "customers": 30, "seed": 7}
    world = make_world("redis", **sizes)
    for name in ("w1", "w2"):
        world.start_worker(name, pool="solo")
    reference = reference_of(make_world, **sizes)  # while the workers start
    expected = reference.holdings()
    # Both consume before the lanes exist, so neither finds the queue already drained.
    world.wait(lambda: all(" ready." in world.log(n) for n in ("w1", "w2")),
               "both workers to be ready")
    send_sync(world)
    settle(world, store_url, expected)
    assert world.writes() == reference.writes()
    assert confirmed_once(batches_of(store_url)) >= len(world.shops)
    ran = lane_workers(store_url)
    assert set(ran) == set(world.shops)
    assert set(ran.values()) == {f"w1@{world.queue}", f"w2@{world.queue}"}, ran


def kill_points(rng: random.Random, values: int, count: int = 10) -> list[tuple[str, str, int,
                                                                                  str]]:
    """``count`` kill points of one sync, each reachable whatever happened before it: the
    first read of the ERP (the fan-out's import and every lane's) and of the shop (every
    lane's import, before it writes), the first write of a run held before it is applied
    (so it is still to do for the next run), and held after it is applied only while another
    25-metafield write call is left for later points (``values``: metafields the sync
    writes)."""
    applied_left = max(0, math.ceil(values / 25) - 1)
    points = [("shop", WRITE, 1, BEFORE), ("shop", WRITE, 1, AFTER)]
    applied_left -= 1
    while len(points) < count:
        options = [(connection, READ, 1, when) for connection in ("erp", "shop")
                   for when in (BEFORE, AFTER)] + [("shop", WRITE, 1, BEFORE)]
        if applied_left > 0:
            options.append(("shop", WRITE, 1, AFTER))
        point = rng.choice(options)
        applied_left -= point[1:] == (WRITE, 1, AFTER)
        points.append(point)
    rng.shuffle(points)
    return points


def test_a_worker_sigkilled_at_random_points_reaches_the_in_process_end_state(
        make_world, store_url, kill_switch, confirmed_once):
    sizes = {"shops": 1, "customers": 50, "seed": 11}
    reference = reference_of(make_world, **sizes)
    expected, wanted = reference.holdings(), reference.writes()
    values = sum(wanted["shop0"].values())
    assert values > 50, "the seed must leave several write calls to kill in"
    world = make_world("amqp", **sizes)
    # RabbitMQ puts a dead consumer's unacknowledged message back at once (Redis only after
    # the visibility timeout), and the solo pool runs the task in the worker process itself:
    # the SIGKILL takes down the worker with its task, as a machine's crash would.
    switch = kill_switch({"erp": world.erp, "shop": world.shops["shop0"]})
    points = kill_points(random.Random(19), values)
    send_sync(world)
    for connection, kind, nth, when in points:
        switch.arm(connection, kind, nth, when)
        worker = world.start_worker("k", pool="solo")
        assert switch.kill(worker, timeout=240), \
            f"the worker ended before {kind} {nth} to {connection}: {world.log('k')[-3000:]}"
    switch.resume()
    world.start_worker("k", pool="solo")
    settle(world, store_url, expected, kills=True)
    assert world.writes() == wanted, "a value was written twice (or never)"
    batches = batches_of(store_url)
    assert confirmed_once(batches) >= 1
    assert any(b.status == "interrupted" for b in batches), "no kill hit a batch in flight"
