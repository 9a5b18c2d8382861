"""Webhook deliveries: record once (dedupe), claim, settle, count (table ``webhook_deliveries``).

The receiver calls :func:`record_delivery` before it answers; a worker — the web app's
in-process one, ``shoploop webhooks process``, or a job-queue worker later — takes work with
:func:`claim_deliveries` and reports each outcome with :func:`settle_delivery`. Claiming is one
``UPDATE … WHERE status = 'pending'``: two workers (several ``serve --workers`` processes)
never both get a delivery, on either backend (PostgreSQL re-checks the ``WHERE`` on the locked
row; SQLite has one writer at a time).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from ._dialect import upsert_insert
from ._schema import WebhookDeliveryRecord, table
from ._types import utcnow

PENDING, PROCESSING, PROCESSED, FAILED = "pending", "processing", "processed", "failed"
DELIVERY_PENDING, DELIVERY_PROCESSING = PENDING, PROCESSING
DELIVERY_PROCESSED, DELIVERY_FAILED = PROCESSED, FAILED
DELIVERY_STATUSES = (PENDING, PROCESSING, PROCESSED, FAILED)


@dataclass(frozen=True)
class ClaimedDelivery:
    """A delivery a worker claimed: what it needs to process it."""

    id: int
    connection: str
    event: dict[str, Any]
    attempts: int
    received_at: datetime


def record_delivery(session: Session, *, connection: str, dedupe_key: str, topic: str,
                    event_type: str, event: Mapping[str, Any],
                    received_at: datetime | None = None) -> int | None:
    """Store a verified event as ``pending``; returns its id, or None when
    ``(connection, dedupe_key)`` is already stored (a repeated delivery: nothing is written)."""
    values = {"connection": connection, "dedupe_key": dedupe_key, "topic": topic[:255],
              "event_type": event_type[:100], "event": dict(event), "status": PENDING,
              "attempts": 0, "error": "", "received_at": received_at or utcnow()}
    statement = (upsert_insert(session, table("webhook_deliveries")).values(**values)
                 .on_conflict_do_nothing(index_elements=["connection", "dedupe_key"])
                 .returning(WebhookDeliveryRecord.id))
    found = session.execute(statement).scalar_one_or_none()
    return int(found) if found is not None else None


def record_deliveries(session: Session, rows: Sequence[Mapping[str, Any]]
                      ) -> dict[tuple[str, str], int]:
    """:func:`record_delivery` for many events in one statement (the receiver's group commit:
    the deliveries that arrive while one commit runs share the next). ``rows`` hold the
    keyword arguments of ``record_delivery``; returns ``(connection, dedupe_key)`` → id of
    those inserted — a key already stored, or repeated within ``rows``, is inserted once."""
    if not rows:
        return {}
    now = utcnow()
    values = [{"connection": row["connection"], "dedupe_key": row["dedupe_key"],
               "topic": str(row["topic"])[:255], "event_type": str(row["event_type"])[:100],
               "event": dict(row["event"]), "status": PENDING, "attempts": 0, "error": "",
               "received_at": row.get("received_at") or now} for row in rows]
    # One statement executed with many parameter sets (SQLAlchemy's "insertmanyvalues": still
    # one multi-row INSERT per 1,000 rows on the wire) instead of ``.values(rows)``: that
    # statement is compiled once and cached, where a VALUES list is a new statement for every
    # batch size — its compilation was a tenth of the receiver's CPU (bench_web_webhooks).
    statement = (upsert_insert(session, table("webhook_deliveries"))
                 .on_conflict_do_nothing(index_elements=["connection", "dedupe_key"])
                 .returning(WebhookDeliveryRecord.id, WebhookDeliveryRecord.connection,
                            WebhookDeliveryRecord.dedupe_key))
    return {(str(c), str(k)): int(i) for i, c, k in session.execute(statement, values)}


def claim_deliveries(session: Session, *, limit: int, stale_after: timedelta,
                     retry_failed: bool = False, now: datetime | None = None
                     ) -> list[ClaimedDelivery]:
    """Claim up to ``limit`` deliveries, oldest first: pending ones, ``processing`` ones whose
    claim is older than ``stale_after`` (their worker died), and with ``retry_failed`` the
    failed ones. Each claim counts an attempt."""
    now = now or utcnow()
    wanted = [WebhookDeliveryRecord.status == PENDING,
              (WebhookDeliveryRecord.status == PROCESSING)
              & (WebhookDeliveryRecord.claimed_at < now - stale_after)]
    if retry_failed:
        wanted.append(WebhookDeliveryRecord.status == FAILED)
    candidates = list(session.scalars(
        select(WebhookDeliveryRecord.id).where(or_(*wanted))
        .order_by(WebhookDeliveryRecord.id).limit(limit)))
    if not candidates:
        return []
    # The WHERE is repeated in the UPDATE: a row another worker claimed in between no longer
    # matches it and is skipped.
    rows = session.execute(
        update(WebhookDeliveryRecord)
        .where(WebhookDeliveryRecord.id.in_(candidates), or_(*wanted))
        .values(status=PROCESSING, claimed_at=now,
                attempts=WebhookDeliveryRecord.attempts + 1)
        .returning(WebhookDeliveryRecord.id, WebhookDeliveryRecord.connection,
                   WebhookDeliveryRecord.event, WebhookDeliveryRecord.attempts,
                   WebhookDeliveryRecord.received_at)
        .execution_options(synchronize_session=False)).all()
    claimed = [ClaimedDelivery(id=row[0], connection=row[1], event=dict(row[2]),
                               attempts=row[3], received_at=_aware(row[4])) for row in rows]
    return sorted(claimed, key=lambda delivery: delivery.id)


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    # RETURNING bypasses the ORM column type on some backends: naive means UTC (SQLite).
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def settle_delivery(session: Session, delivery_id: int, status: str, *, error: str = "",
                    now: datetime | None = None) -> None:
    """Record the outcome of a claimed delivery: ``processed``, ``pending`` (try again) or
    ``failed`` (attempts used up), with the error's text."""
    if status not in DELIVERY_STATUSES:
        raise ValueError(f"unknown delivery status {status!r}")
    session.execute(
        update(WebhookDeliveryRecord).where(WebhookDeliveryRecord.id == delivery_id)
        .values(status=status, error=error[:2000],
                processed_at=(now or utcnow()) if status == PROCESSED else None))


def prune_deliveries(session: Session, *, processed_before: datetime,
                     keep_types: Sequence[str] = (), batch: int = 500) -> int:
    """Delete processed deliveries whose processing finished before ``processed_before``
    (their payloads hold customers' data, and they are no longer needed: a platform repeats a
    delivery within hours, not days); ``keep_types``: event types kept regardless (the
    ``shop/redact`` record). Returns how many were deleted.

    Cheap enough for every processing round: it looks only at the oldest ``batch`` processed
    rows (the ``(status, id)`` index, ids growing with arrival) and deletes those old enough,
    repeating while a whole batch went. A row processed late (many retries) can hold back
    younger ones behind it until it ages out itself."""
    deleted = 0
    while True:
        query = (select(WebhookDeliveryRecord.id, WebhookDeliveryRecord.processed_at)
                 .where(WebhookDeliveryRecord.status == PROCESSED)
                 .order_by(WebhookDeliveryRecord.id).limit(batch))
        if keep_types:
            query = query.where(WebhookDeliveryRecord.event_type.not_in(list(keep_types)))
        rows = session.execute(query).all()
        old = [row_id for row_id, at in rows
               if at is not None and _aware(at) < processed_before]
        if old:
            session.execute(delete(WebhookDeliveryRecord).where(
                WebhookDeliveryRecord.id.in_(old)).execution_options(synchronize_session=False))
            deleted += len(old)
        if len(old) < batch:
            return deleted


def delivery_counts(session: Session, connection: str | None = None) -> dict[str, int]:
    """Deliveries per status (every status present, 0 when none)."""
    query = select(WebhookDeliveryRecord.status, func.count()).group_by(
        WebhookDeliveryRecord.status)
    if connection is not None:
        query = query.where(WebhookDeliveryRecord.connection == connection)
    found = {str(status): int(n) for status, n in session.execute(query)}
    return {status: found.get(status, 0) for status in DELIVERY_STATUSES}


def oldest_unprocessed_at(session: Session) -> datetime | None:
    """When the oldest delivery still waiting (pending or processing) arrived."""
    found = session.scalar(select(func.min(WebhookDeliveryRecord.received_at)).where(
        WebhookDeliveryRecord.status.in_((PENDING, PROCESSING))))
    return _aware(found) if found is not None else None


def recent_deliveries(session: Session, *, limit: int = 20, status: str | None = None,
                      connection: str | None = None) -> Sequence[WebhookDeliveryRecord]:
    """The newest deliveries first (``shoploop webhooks list``)."""
    query = select(WebhookDeliveryRecord).order_by(WebhookDeliveryRecord.id.desc()).limit(limit)
    if status is not None:
        query = query.where(WebhookDeliveryRecord.status == status)
    if connection is not None:
        query = query.where(WebhookDeliveryRecord.connection == connection)
    return list(session.scalars(query))
