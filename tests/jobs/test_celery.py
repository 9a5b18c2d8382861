"""Issue 19: the sync on real Celery worker processes (Redis and RabbitMQ brokers, the
PostgreSQL store).

- Three shops through one worker reach exactly the end state of the same sync run in process,
  with the same writes (each value once).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from shoploop.store import Store, SyncBatch, SyncRunRecord

pytestmark = [pytest.mark.postgres, pytest.mark.slow,
              pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)]


def lanes_succeeded(world: Any, url: str) -> set[str]:
    with Store(url) as store, store.session() as session:
        return {t for r in session.scalars(select(SyncRunRecord).where(
                    SyncRunRecord.status == "succeeded"))
                for t in (r.summary or {}).get("targets", [])}


def settle(world: Any, url: str, expected: dict[str, Any]) -> None:
    """Wait for the reference state, a succeeded run per lane and an empty queue, and for
    ``jobs status`` to show nothing queued or running."""
    world.wait(lambda: world.holdings() == expected, "the shops to hold the reference state")
    world.wait(lambda: lanes_succeeded(world, url) == set(world.shops),
               "a succeeded run of every lane")

    def idle() -> bool:
        status = world.cli("jobs", "status", "--json", "--timeout", "1")
        assert status.returncode == 0, status.stderr
        data = json.loads(status.stdout)
        return data["queued"] in (0, None) and not data["running"] \
            and data["runs_running"] == 0

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
