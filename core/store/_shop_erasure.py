"""Erasing everything the store holds of one connection: Shopify's ``shop/redact``.

Shopify sends ``shop/redact`` 48 hours after a store uninstalled the app: the app must then
erase that store's data (https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance).
``erase_connection`` deletes the connection's mirrored records (customers, products, orders
with their lines, installed base), its identity bindings, the sync's cursors, target state,
intent batches and audit rows, its record digests and published recommendation lists, the
storefront events and the webhook deliveries that arrived for it, and clears the e-mails and
comments of its referral-ledger rows (``_referral_pii``). Other connections — the ERP, other
shops — are not touched. The erased-customer tombstones stay: they hold hashes only and keep
an erased customer erased should the store install the app again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ._dialect import one_of
from ._erasure import rows_deleted
from ._referral_pii import scrub_referral_pii
from ._schema import (
    Base,
    CustomerRecord,
    IdentityBinding,
    InstalledBaseRecord,
    OrderLineRecord,
    OrderRecord,
    ProductRecord,
    RecoPublishedRecord,
    RecordDigestRecord,
    SyncBatch,
    SyncChangeRecord,
    SyncCursor,
    SyncTargetState,
    WebEventRecord,
    WebhookDeliveryRecord,
    table,
)

_BY_CONNECTION: tuple[type[Base], ...] = (
    InstalledBaseRecord, CustomerRecord, ProductRecord, IdentityBinding, SyncCursor,
    SyncTargetState, SyncBatch, SyncChangeRecord, RecordDigestRecord, RecoPublishedRecord,
    WebEventRecord)


@dataclass(frozen=True)
class ConnectionErasureResult:
    """Rows deleted per table by one ``erase_connection`` call (all zero on a repeat)."""

    connection: str
    deleted: dict[str, int] = field(default_factory=dict)
    referral_rows_scrubbed: int = 0

    @property
    def total(self) -> int:
        return sum(self.deleted.values()) + self.referral_rows_scrubbed

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def erase_connection(session: Session, connection: str, *,
                     keep_deliveries: Iterable[int] = ()) -> ConnectionErasureResult:
    """Erase ``connection``'s data from the store (see the module docs), in the caller's
    transaction. ``keep_deliveries``: webhook delivery ids to leave (the ``shop/redact``
    delivery being processed, which its worker still settles)."""
    deleted: dict[str, int] = {}
    order_keys = list(session.scalars(
        select(OrderRecord.id).where(OrderRecord.connection == connection)))
    # Lines explicitly, not only by ON DELETE CASCADE: correct where foreign keys are off.
    lines = 0
    for start in range(0, len(order_keys), 5_000):
        lines += rows_deleted(session, delete(OrderLineRecord).where(one_of(
            session, table("order_lines").c.order_id, order_keys[start:start + 5_000])))
    deleted["order_lines"] = lines
    deleted["orders"] = rows_deleted(session, delete(OrderRecord).where(
        OrderRecord.connection == connection))
    for record in _BY_CONNECTION:
        rows = table(str(record.__tablename__))
        deleted[rows.name] = rows_deleted(
            session, delete(rows).where(rows.c.connection == connection))
    deliveries = delete(WebhookDeliveryRecord).where(WebhookDeliveryRecord.connection == connection)
    kept = [int(delivery) for delivery in keep_deliveries]
    if kept:
        deliveries = deliveries.where(WebhookDeliveryRecord.id.not_in(kept))
    deleted["webhook_deliveries"] = rows_deleted(session, deliveries)
    scrubbed = scrub_referral_pii(session, connection)
    session.flush()
    return ConnectionErasureResult(connection=connection, deleted=deleted,
                                   referral_rows_scrubbed=scrubbed)
