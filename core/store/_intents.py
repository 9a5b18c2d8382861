"""Intent batches: every remote write that must not happen twice is recorded before it is sent.

A batch is ``pending`` from before it is sent until its outcome and its effects commit in one
transaction (``confirmed`` or ``failed``). A batch still pending when a job of its ``kind``
starts was in flight when a process died: the job marks it ``interrupted`` and plans its
items again; the adapters compare with what the platform holds before they write, so an item
that did land is not written twice. Shared by the sync (``kind="sync"``, customer attributes)
and ``reco publish`` (``kind="reco_publish"``, recommendation lists).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ._schema import SyncBatch
from ._types import utcnow

PENDING, CONFIRMED, INTERRUPTED, FAILED = "pending", "confirmed", "interrupted", "failed"
SYNC = "sync"


def batch_key(connection: str, changes: Sequence[Mapping[str, Any]]) -> str:
    raw = json.dumps([connection, list(changes)], sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def record_intent(session: Session, run_id: str, connection: str,
                  changes: Sequence[Mapping[str, Any]], *, kind: str = SYNC) -> int:
    """Record a batch of ``changes`` to ``connection`` as ``pending``; returns its id. Commit
    before sending it."""
    batch = SyncBatch(run_id=run_id, connection=connection, kind=kind,
                      batch_key=batch_key(connection, changes), status=PENDING,
                      size=len(changes), changes={"items": list(changes)}, created_at=utcnow())
    session.add(batch)
    session.flush()
    return batch.id


def settle_batch(session: Session, batch_id: int, status: str) -> None:
    session.execute(update(SyncBatch).where(SyncBatch.id == batch_id)
                    .values(status=status, settled_at=utcnow()))


def interrupt_pending(session: Session, connections: Iterable[str], *,
                      kind: str = SYNC) -> list[SyncBatch]:
    """Batches of ``kind`` left ``pending`` by a job that died: mark them interrupted, return
    them (another kind's pending batches belong to a job that may still be running)."""
    batches = list(session.scalars(select(SyncBatch).where(
        SyncBatch.connection.in_(list(connections)), SyncBatch.kind == kind,
        SyncBatch.status == PENDING)))
    for batch in batches:
        batch.status, batch.settled_at = INTERRUPTED, utcnow()
    return batches
