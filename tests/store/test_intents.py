"""The intent batches are shared by the sync and ``reco publish``: each resumes its own kind."""

from __future__ import annotations

from shoploop.store import (
    INTENT_INTERRUPTED,
    INTENT_PENDING,
    Store,
    SyncBatch,
    interrupt_pending,
    record_intent,
)


def test_a_job_interrupts_only_the_pending_batches_of_its_kind(store: Store) -> None:
    with store.session() as session:
        sync = record_intent(session, "run-1", "shop", [{"customer": "1", "key": "k",
                                                         "new": "v"}])
        published = record_intent(session, "run-2", "shop", [{"product": "7", "lists": {}}],
                                  kind="reco_publish")
        other = record_intent(session, "run-2", "woo", [{"product": "8", "lists": {}}],
                              kind="reco_publish")
    with store.session() as session:
        assert [b.id for b in interrupt_pending(session, ["shop"])] == [sync]
    with store.session() as session:
        assert [b.id for b in interrupt_pending(session, ["shop"], kind="reco_publish")] == [
            published]
    with store.session() as session:
        status = {b.id: (b.kind, b.status) for b in session.query(SyncBatch)}
    assert status == {sync: ("sync", INTENT_INTERRUPTED),
                      published: ("reco_publish", INTENT_INTERRUPTED),
                      other: ("reco_publish", INTENT_PENDING)}
