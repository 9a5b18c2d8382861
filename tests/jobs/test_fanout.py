"""Issue 19, the fan-out's promises, with the job functions called in this process (what a
worker runs): the fan-out binds the masters' customers once, so the lanes bind only their own
target's customers and never race on a master's binding; a lane sent again by a redelivered
fan-out (the same fan-out id) finds its run done and writes nothing."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select

from shoploop.jobs import _functions as jobs
from shoploop.store import IdentityBinding, Store, SyncBatch, SyncRunRecord
from shoploop.sync._report import JOB


def bindings(url: str) -> Counter[str]:
    with Store(url) as store, store.session() as session:
        return Counter(session.scalars(select(IdentityBinding.connection)))


def runs(url: str) -> list[SyncRunRecord]:
    with Store(url) as store, store.session() as session:
        return list(session.scalars(select(SyncRunRecord).where(SyncRunRecord.job == JOB)))


def batches(url: str) -> list[SyncBatch]:
    with Store(url) as store, store.session() as session:
        return list(session.scalars(select(SyncBatch)))


@pytest.fixture
def world(make_world: Any, store_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Two shops of 40 customers on each store backend, the emulators' credentials in this
    process's environment (the functions run here, not on a worker)."""
    made = make_world(None if store_url.startswith("sqlite") else "redis", shops=2,
                      customers=40)
    for name, value in made.env.items():
        if name.startswith("SHOPLOOP_"):
            monkeypatch.setenv(name, value)
    return made


def test_the_fanout_binds_masters_once_and_a_resent_lane_writes_nothing(world, confirmed_once):
    path = str(world.config_path)
    with Store(jobs.config_of(path).store_url) as store:
        url = store.url
    imports, lanes = jobs.sync_steps(jobs.config_of(path), path)
    assert [step.kwargs["connection"] for step in imports] == ["erp"]
    assert [step.kwargs["targets"] for step in lanes] == [["shop0"], ["shop1"]]
    for step in imports:
        jobs.import_stream(**step.kwargs)

    assert jobs.bind_masters(path) == {"erp": 40}
    assert jobs.bind_masters(path) == {"erp": 0}  # a redelivered fan-out binds nothing new
    assert bindings(url) == {"erp": 40}

    first = jobs.sync_lane(path, ["shop0"], fanout="F1", worker="w1@test")
    assert first["exit_code"] == 0 and first["written"] > 0
    assert first["worker"] == "w1@test" and "repeated" not in first
    after_first = bindings(url)
    assert after_first["erp"] == 40, "a lane bound a master customer"
    assert after_first["shop0"] > 0
    writes = world.writes()

    again = jobs.sync_lane(path, ["shop0"], fanout="F1", worker="w2@test")
    assert again["repeated"] is True and again["run_id"] == first["run_id"]
    assert world.writes() == writes, "the repeated lane wrote to the shop"
    assert len(runs(url)) == 1 and bindings(url) == after_first

    other = jobs.sync_lane(path, ["shop1"], fanout="F1", worker="w2@test")
    assert "repeated" not in other and other["written"] > 0
    recorded = {r.id: r.summary for r in runs(url)}
    assert {(s["fanout"], s["worker"]) for s in recorded.values()} == \
        {("F1", "w1@test"), ("F1", "w2@test")}
    assert bindings(url)["erp"] == 40
    assert confirmed_once(batches(url)) >= 2
