"""The target writer on its own: a target that stops answering never blocks its planner."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from shoploop.hooks import (
    AttributeChange,
    CustomerDraft,
    UnreachableError,
    WriteResult,
    WriteStatus,
)
from shoploop.store import Store, start_run
from shoploop.sync._plan import Change
from shoploop.sync._state import PENDING, batches_of_run, sent_of
from shoploop.sync._writer import QUEUED_BATCHES, TargetWriter


class FlakyTarget:
    """Confirms ``good`` batches, then answers nothing (unreachable)."""

    attribute_batch_size = 3

    def __init__(self, good: int) -> None:
        self.good = good
        self.calls = 0

    def write_customer_attributes(self, changes: Sequence[AttributeChange]) -> list[WriteResult]:
        self.calls += 1
        if self.calls > self.good:
            raise UnreachableError("connection refused", connection="shop",
                                   operation="write_customer_attributes")
        return [WriteResult(customer_id=c.customer_id, key=c.key, status=WriteStatus.WRITTEN)
                for c in changes]


def started_writer(store: Store, target: object) -> tuple[TargetWriter, str]:
    """A running writer for ``target`` (connection "shop") in a new run; and the run's id."""
    with store.session() as session:
        run_id = start_run(session, "sync.customers")
    writer = TargetWriter(store, threading.Lock(), target, run_id, "shop", None)
    writer.start()
    return writer, run_id


def changes(count: int) -> list[Change]:
    return [Change("shop", f"c{i}", "segment", f"v{i}", None, "erp", f"E{i}")
            for i in range(count)]


def test_an_unreachable_target_stops_the_writer_and_the_planner_runs_to_the_end(
        store: Store) -> None:
    target = FlakyTarget(good=2)
    writer, run_id = started_writer(store, target)
    # Far more batches than the queue holds: the planner would block for good if the stopped
    # writer did not keep draining.
    planned = changes(3 * (QUEUED_BATCHES * 5) + 1)

    def plan() -> None:
        for start in range(0, len(planned), 5):
            writer.add(planned[start:start + 5])
        writer.finish()

    planner = threading.Thread(target=plan, daemon=True)
    planner.start()
    planner.join(timeout=60)  # a guard against a hang, not a synchronisation
    assert not planner.is_alive(), "the planner blocked on a writer that stopped"
    assert isinstance(writer.error, UnreachableError)
    assert target.calls == 3 and writer.counts["written"] == 6
    with store.session() as session:
        batches = batches_of_run(session, run_id)
        # two confirmed; the one in flight stays pending for the next run; none sent after
        assert [b.status for b in batches] == ["confirmed", "confirmed", PENDING]
        assert set(sent_of(session, "shop", [f"c{i}" for i in range(len(planned))])) == {
            f"c{i}" for i in range(6)}


class CreatingTarget(FlakyTarget):
    """Creates customers (two per call) until ``good`` create calls, then is unreachable;
    an e-mail ending in ``.invalid`` is refused per draft."""

    customer_batch_size = 2

    def __init__(self, good: int) -> None:
        super().__init__(good=10)
        self.good_creates = good
        self.created: list[str] = []

    def create_customers(self, drafts: Sequence[CustomerDraft]) -> list[WriteResult]:
        assert len(drafts) <= self.customer_batch_size
        if len(self.created) // 2 >= self.good_creates:
            raise UnreachableError("connection refused", connection="shop",
                                   operation="create_customers")
        results = []
        for draft in drafts:
            if draft.email.endswith(".invalid"):
                results.append(WriteResult(customer_id="", status=WriteStatus.FAILED,
                                           message="Email is invalid"))
                continue
            self.created.append(draft.email)
            results.append(WriteResult(customer_id=f"n{len(self.created)}",
                                       status=WriteStatus.WRITTEN))
        return results


def drafts(*emails: str) -> list[CustomerDraft]:
    return [CustomerDraft(email=email) for email in emails]


def test_creation_goes_through_the_writer_in_the_connectors_batches(store: Store) -> None:
    target = CreatingTarget(good=5)
    writer, _run_id = started_writer(store, target)
    writer.add(changes(4))  # a batch and a partial one; creation does not wait for them
    results = writer.create(drafts("a@x.example", "b@x.example", "c@bad.invalid",
                                   "d@x.example", "e@x.example"))
    writer.finish()
    assert [(r.customer_id, r.status) for r in results] == [
        ("n1", WriteStatus.WRITTEN), ("n2", WriteStatus.WRITTEN),
        ("", WriteStatus.FAILED), ("n3", WriteStatus.WRITTEN), ("n4", WriteStatus.WRITTEN)]
    assert results[2].message == "Email is invalid"
    assert writer.counts["create_requests"] == 3 and writer.counts["written"] == 4
    assert writer.error is None


def test_a_target_unreachable_while_creating_answers_every_draft_and_stops_the_writer(
        store: Store) -> None:
    target = CreatingTarget(good=1)
    writer, _run_id = started_writer(store, target)
    answers: list[list[WriteResult]] = []

    def plan() -> None:
        answers.append(writer.create(drafts(*(f"p{i}@x.example" for i in range(5)))))
        answers.append(writer.create(drafts("late@x.example")))
        writer.add(changes(3))
        writer.finish()

    planner = threading.Thread(target=plan, daemon=True)
    planner.start()
    planner.join(timeout=60)  # a guard against a hang, not a synchronisation
    assert not planner.is_alive(), "the planner blocked on a creation that never answered"
    assert isinstance(writer.error, UnreachableError)
    first, second = answers
    assert [r.status for r in first] == [WriteStatus.WRITTEN] * 2 + [WriteStatus.FAILED] * 3
    assert all("stopped" in r.message and r.customer_id == "" for r in first[2:] + second)
    assert target.created == ["p0@x.example", "p1@x.example"] and target.calls == 0


def test_each_target_commits_the_master_binding_it_relies_on(store: Store) -> None:
    """Two targets' planners bind one new master customer: the first makes its internal id.
    If the job dies after the *second* planner committed its chunk and before the first did,
    the store must still bind the master customer to the id the second target's customer
    got — else the next run gives the master customer a new id and the target's customer,
    bound to the stranded one, is never matched again."""
    from shoploop.sync import SyncMapping
    from shoploop.sync._plan import Chunk, MasterBindings, Planner, TargetIndex
    from shoploop.sync._state import bind_many, bindings_of

    mapping = SyncMapping(rules=[], match_keys=["email"], link_master=None,
                          link_attribute=None)
    erp = MasterBindings("erp")
    planners = {t: Planner(mapping, TargetIndex(t)) for t in ("shop", "woo")}
    for target, planner in planners.items():  # shop first: it makes the internal id
        planner.created(erp, "E1", None, f"{target}-1", "e1@x.example", Chunk({}, {}, {}))
    with store.session() as session:  # woo's chunk is committed; then the job is killed
        bind_many(session, planners["woo"].new_bindings)
    with store.session() as session:
        woo = bindings_of(session, "woo", ["woo-1"])
        assert bindings_of(session, "erp", ["E1"]) == {"E1": woo["woo-1"]}
    with store.session() as session:  # had it lived: shop's commit clashes with nothing
        bind_many(session, planners["shop"].new_bindings)
    with store.session() as session:
        internal = bindings_of(session, "erp", ["E1"])["E1"]
        assert bindings_of(session, "shop", ["shop-1"]) == {"shop-1": internal}
        assert bindings_of(session, "woo", ["woo-1"]) == {"woo-1": internal}


class CountingTarget(FlakyTarget):
    """Confirms everything; ``second`` is set once a second batch reaches the target."""

    def __init__(self) -> None:
        super().__init__(good=1_000)
        self.second = threading.Event()

    def write_customer_attributes(self, changes: Sequence[AttributeChange]) -> list[WriteResult]:
        results = super().write_customer_attributes(changes)
        if self.calls >= 2:
            self.second.set()
        return results


def test_the_next_batch_is_sent_while_the_last_one_is_recorded(store: Store) -> None:
    """Sending and recording are split: a slow settle (held here until the target has the
    next batch) never holds back the next send, and everything is still settled at the end."""
    target = CountingTarget()
    writer, run_id = started_writer(store, target)
    release = threading.Event()
    settle = writer._settle
    settled_batches: list[int] = []

    def slow_settle(answered: Sequence[tuple[int, list[Change], Any]]) -> None:
        if not settled_batches:  # the first settle waits for the second send (bounded)
            release.wait(timeout=60)
        settled_batches.extend(batch_id for batch_id, _batch, _statuses in answered)
        settle(answered)

    writer._settle = slow_settle  # type: ignore[method-assign]
    writer.add(changes(9))  # three batches of three
    assert target.second.wait(timeout=60), "the second batch waited for the first's settle"
    assert not settled_batches  # the first batch was still being recorded
    release.set()
    writer.finish()
    assert writer.error is None and target.calls == 3
    assert writer.counts["written"] == 9 and writer.done == 9
    with store.session() as session:
        batches = batches_of_run(session, run_id)
        assert [b.status for b in batches] == ["confirmed"] * 3
        assert sorted(settled_batches) == [b.id for b in batches]
        assert set(sent_of(session, "shop", [f"c{i}" for i in range(9)])) == {
            f"c{i}" for i in range(9)}
