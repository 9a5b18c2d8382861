"""The webhook deliveries table on both backends: dedupe on insert, claims that never hand one
delivery to two workers, stale claims taken again, retries and failure."""

from __future__ import annotations

import threading
from datetime import timedelta

from shoploop.store import (
    Store,
    claim_deliveries,
    delivery_counts,
    oldest_unprocessed_at,
    record_deliveries,
    record_delivery,
    settle_delivery,
    utcnow,
)


def _row(key: str) -> dict[str, object]:
    return {"connection": "shop", "dedupe_key": key, "topic": "orders/paid",
            "event_type": "order.paid", "event": {"dedupe_key": key}}


def test_dedupe_claims_retries_and_stale_claims(store: Store) -> None:
    with store.session() as session:
        first = record_delivery(session, **_row("a"))  # type: ignore[arg-type]
        assert first is not None
        assert record_delivery(session, **_row("a")) is None  # type: ignore[arg-type]
        inserted = record_deliveries(session, [_row("a"), _row("b"), _row("b"), _row("c")])
        assert sorted(key for _, key in inserted) == ["b", "c"]
        assert delivery_counts(session)["pending"] == 3

    # Two workers claiming at once never get the same delivery.
    claimed: list[list[int]] = []
    barrier = threading.Barrier(2)

    def claim() -> None:
        barrier.wait(30)
        with store.session() as session:
            claimed.append([d.id for d in claim_deliveries(
                session, limit=10, stale_after=timedelta(minutes=5))])

    workers = [threading.Thread(target=claim) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    ids = [i for batch in claimed for i in batch]
    assert len(ids) == len(set(ids)) == 3

    now = utcnow()
    with store.session() as session:
        assert delivery_counts(session)["processing"] == 3
        # A fresh claim is nobody else's; one older than stale_after is taken again.
        assert claim_deliveries(session, limit=10, stale_after=timedelta(minutes=5)) == []
        again = claim_deliveries(session, limit=10, stale_after=timedelta(minutes=5),
                                 now=now + timedelta(minutes=6))
        assert sorted(d.id for d in again) == sorted(ids)
        assert {d.attempts for d in again} == {2}
        settle_delivery(session, ids[0], "processed")
        settle_delivery(session, ids[1], "failed", error="boom")
        settle_delivery(session, ids[2], "pending", error="try again")
        assert delivery_counts(session) == {"pending": 1, "processing": 0, "processed": 1,
                                            "failed": 1}
        assert oldest_unprocessed_at(session) is not None
        retried = claim_deliveries(session, limit=10, stale_after=timedelta(minutes=5),
                                   retry_failed=True)
        assert sorted(d.id for d in retried) == sorted(ids[1:])
