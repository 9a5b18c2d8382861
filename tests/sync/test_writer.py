"""The target writer on its own: a target that stops answering never blocks its planner."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from shoploop.hooks import AttributeChange, UnreachableError, WriteResult, WriteStatus
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


def changes(count: int) -> list[Change]:
    return [Change("shop", f"c{i}", "segment", f"v{i}", None, "erp", f"E{i}")
            for i in range(count)]


def test_an_unreachable_target_stops_the_writer_and_the_planner_runs_to_the_end(
        store: Store) -> None:
    with store.session() as session:
        run_id = start_run(session, "sync.customers")
    target = FlakyTarget(good=2)
    writer = TargetWriter(store, threading.Lock(), target, run_id, "shop", None)
    writer.start()
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
