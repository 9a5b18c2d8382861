"""Issue 19: the sync on real Celery worker processes (Redis and RabbitMQ brokers, the
PostgreSQL store) reaches exactly the end state of the same sync run in process, writing each
value as often as the in-process run does (once)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from shoploop.store import Store, SyncRunRecord

pytestmark = [pytest.mark.postgres, pytest.mark.slow,
              pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)]


def quiet(world: Any) -> bool:
    """Nothing queued or running, and every lane's last run in the store succeeded."""
    status = world.cli("jobs", "status", "--json", "--timeout", "1")
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    return data["queued"] in (0, None) and not data["running"] and data["runs_running"] == 0


def lanes_succeeded(world: Any, url: str) -> set[str]:
    with Store(url) as store, store.session() as session:
        return {t for r in session.scalars(select(SyncRunRecord).where(
                    SyncRunRecord.status == "succeeded"))
                for t in (r.summary or {}).get("targets", [])}


@pytest.mark.parametrize("broker", ["redis", "amqp"])
def test_sync_on_workers_reaches_the_in_process_end_state(make_world, store_url, broker):
    reference = make_world(None, home="reference")
    done = reference.cli("jobs", "run", "sync", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["backend"] == "inprocess"
    expected = reference.holdings()
    assert any(values for shop in expected.values() for values in shop.values()), \
        "the seed must leave something to write"

    world = make_world(broker)
    world.start_worker("w1", concurrency=2)
    sent = world.cli("jobs", "run", "sync", "--json")
    assert sent.returncode == 0, sent.stderr
    assert json.loads(sent.stdout)["backend"] == "celery"
    world.wait(lambda: world.holdings() == expected, "the shops to hold the reference state")
    world.wait(lambda: lanes_succeeded(world, store_url) == set(world.shops),
             "a succeeded run of every lane")
    world.wait(lambda: quiet(world), "the queue to drain")
    assert world.writes() == reference.writes()
    log = world.log("w1")
    assert log.count("Task shoploop.sync_lane[") >= len(world.shops), log[-3000:]
