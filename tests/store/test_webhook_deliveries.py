"""The webhook deliveries table on both backends: dedupe on insert, claims that never hand one
delivery to two workers, stale claims taken again, retries and failure, retention."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select

from shoploop.store import (
    Store,
    claim_deliveries,
    delivery_counts,
    oldest_unprocessed_at,
    prune_deliveries,
    record_deliveries,
    record_delivery,
    settle_delivery,
    utcnow,
)
from shoploop.store._schema import WebhookDeliveryRecord


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


def test_retention_deletes_old_processed_deliveries_only(store: Store) -> None:
    """Processed deliveries older than the cut are deleted in batches; pending, failed,
    younger ones and the kept types stay."""
    start = utcnow()
    with store.session() as session:
        ids = record_deliveries(session, [_row(f"k{n}") for n in range(9)]
                                + [{**_row("redact"), "event_type": "privacy.shop_redact"}])
        by_key = {key: i for (_, key), i in ids.items()}
        for n in range(7):  # k0..k6 processed at start + n hours
            settle_delivery(session, by_key[f"k{n}"], "processed",
                            now=start + timedelta(hours=n))
        settle_delivery(session, by_key["k7"], "failed", error="boom", now=start)
        settle_delivery(session, by_key["redact"], "processed", now=start)
    with store.session() as session:
        # batch=2 forces the repeat: k0..k3 go in two full batches and a short one.
        assert prune_deliveries(session, processed_before=start + timedelta(hours=3, minutes=1),
                                keep_types=("privacy.shop_redact",), batch=2) == 4
        assert prune_deliveries(session, processed_before=start + timedelta(hours=3, minutes=1),
                                keep_types=("privacy.shop_redact",)) == 0
        assert delivery_counts(session) == {"pending": 1, "processing": 0, "processed": 4,
                                            "failed": 1}
        left = session.scalars(select(WebhookDeliveryRecord.dedupe_key)).all()
    assert sorted(left) == ["k4", "k5", "k6", "k7", "k8", "redact"]
