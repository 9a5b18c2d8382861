"""Privacy erasure: forget one customer of one connection, and remember only that we did.

``erase_customer`` deletes what the store holds of that customer *in that connection* — the
mirrored customer row, its mirrored orders (with their lines) and installed base, its identity
binding(s), the sync job's target state and audit rows for it; the e-mails and the comment of
its referral-ledger rows are cleared (``_referral_pii``) — and records a tombstone in
``erased_customers``: the connection, the SHA-256 of the external id and of the e-mail, the
internal id it was bound to and the reason. Nothing else of the person is kept; the e-mail's
hash is a suppression entry (as marketing suppression lists keep), without which the sync's
``create_missing`` could create the person in that shop again from the ERP's record. Other
connections' records (the ERP's own customer, another shop) are left alone: the ERP keeps its
legal records.

The tombstone is what keeps the erasure in force: the mirror job drops records of erased
customers (:func:`erased_external_id_hashes`), and the sync job must neither create nor re-bind
a customer for an erased internal id (:func:`erased_internal_ids`) or e-mail
(:func:`erased_email_hashes`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Delete, delete, select
from sqlalchemy.orm import Session

from ._dialect import one_of, upsert_insert
from ._experiments import erase_experiment_unit
from ._referral_pii import scrub_referral_pii
from ._schema import (
    CustomerRecord,
    ErasedCustomer,
    IdentityBinding,
    InstalledBaseRecord,
    OrderLineRecord,
    OrderRecord,
    SyncChangeRecord,
    SyncTargetState,
    table,
)
from ._types import utcnow

CUSTOMER = "customer"
"""The identity bindings' entity type of customers."""


def external_id_hash(external_id: str) -> str:
    """The tombstone's key: SHA-256 (hex) of the external id as the connection spells it."""
    return hashlib.sha256(str(external_id).encode("utf-8")).hexdigest()


def email_hash(email: str) -> str:
    """SHA-256 (hex) of an e-mail trimmed and lower-cased, as the sync matches e-mails."""
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ErasureResult:
    """What one ``erase_customer`` call deleted (all zero when it was already erased)."""

    connection: str
    customers: int = 0
    orders: int = 0
    order_lines: int = 0
    installed_base: int = 0
    bindings: int = 0
    sync_state: int = 0
    audit_rows: int = 0
    referral_rows: int = 0
    """Referral-ledger rows whose e-mail and comment were cleared (the rows stay)."""
    experiment_rows: int = 0
    """Experiment assignments deleted and events untagged (``erase_experiment_unit``)."""
    internal_id: str | None = None
    """The internal id the customer was bound to (from the tombstone on a repeat erasure)."""

    @property
    def deleted(self) -> int:
        return (self.customers + self.orders + self.order_lines + self.installed_base
                + self.bindings + self.sync_state + self.audit_rows + self.referral_rows
                + self.experiment_rows)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def rows_deleted(session: Session, statement: Delete) -> int:
    return int(getattr(session.execute(statement), "rowcount", 0) or 0)


def erase_customer(
    session: Session, connection: str, external_id: str, *,
    reason: str = "customer_redact", order_ids: Iterable[str] = (), email: str | None = None,
) -> ErasureResult:
    """Erase customer ``external_id`` of ``connection`` from the store and record a tombstone.

    ``order_ids``: further orders of that connection to delete (a platform's list of the
    customer's orders, e.g. Shopify's ``orders_to_redact``), besides those whose
    ``customer_external_id`` is this customer. Idempotent: erasing again deletes nothing,
    returns zero counts and keeps the first tombstone (its reason and time).
    """
    external_id = str(external_id)
    digest = external_id_hash(external_id)
    internal_id = session.scalar(
        select(IdentityBinding.internal_id).where(
            IdentityBinding.connection == connection,
            IdentityBinding.entity_type == CUSTOMER,
            IdentityBinding.external_id == external_id,
        )
    )

    # ``email``: as the request names it; else the mirrored record's.
    email = email or session.scalar(select(CustomerRecord.email).where(
        CustomerRecord.connection == connection, CustomerRecord.external_id == external_id))
    hashed_email = email_hash(email) if email and email.strip() else None

    orders = table("orders")
    order_filter = (orders.c.customer_external_id == external_id)
    extra_orders = [str(order_id) for order_id in order_ids]
    if extra_orders:
        order_filter = order_filter | one_of(session, orders.c.external_id, extra_orders)
    order_keys = list(session.scalars(
        select(OrderRecord.id).where(OrderRecord.connection == connection, order_filter)))
    lines = deleted_orders = 0
    if order_keys:
        # Explicit, not only ON DELETE CASCADE: correct even where foreign keys are off.
        lines = rows_deleted(session, delete(OrderLineRecord).where(
            one_of(session, table("order_lines").c.order_id, order_keys)))
        deleted_orders = rows_deleted(session, delete(OrderRecord).where(
            one_of(session, orders.c.id, order_keys)))
    installed = rows_deleted(session, delete(InstalledBaseRecord).where(
        InstalledBaseRecord.connection == connection,
        InstalledBaseRecord.customer_external_id == external_id))
    customers = rows_deleted(session, delete(CustomerRecord).where(
        CustomerRecord.connection == connection, CustomerRecord.external_id == external_id))
    bindings = rows_deleted(session, delete(IdentityBinding).where(
        IdentityBinding.connection == connection,
        IdentityBinding.entity_type == CUSTOMER,
        IdentityBinding.external_id == external_id))
    sync_state = rows_deleted(session, delete(SyncTargetState).where(
        SyncTargetState.connection == connection, SyncTargetState.external_id == external_id))
    audit_rows = rows_deleted(session, delete(SyncChangeRecord).where(
        SyncChangeRecord.connection == connection,
        SyncChangeRecord.customer_external_id == external_id))
    referral_rows = scrub_referral_pii(session, connection, external_id)
    experiment_rows = erase_experiment_unit(session, connection, external_id)

    tombstone = session.get(ErasedCustomer, (connection, digest))
    if tombstone is None:
        session.execute(upsert_insert(session, table("erased_customers")).values(
            connection=connection, external_id_hash=digest, internal_id=internal_id,
            email_hash=hashed_email, reason=reason, erased_at=utcnow(),
        ).on_conflict_do_nothing())
    else:
        if tombstone.email_hash is None:
            tombstone.email_hash = hashed_email
        if tombstone.internal_id is None and internal_id is not None:
            tombstone.internal_id = internal_id  # bound again since (before the sync knew)
        elif internal_id is None:
            internal_id = tombstone.internal_id
    session.flush()
    return ErasureResult(
        connection=connection, customers=customers, orders=deleted_orders, order_lines=lines,
        installed_base=installed, bindings=bindings, sync_state=sync_state,
        audit_rows=audit_rows, referral_rows=referral_rows, experiment_rows=experiment_rows,
        internal_id=internal_id,
    )


def erased_external_id_hashes(session: Session, connection: str) -> set[str]:
    """The hashes (:func:`external_id_hash`) of every erased customer of ``connection``."""
    return set(session.scalars(
        select(ErasedCustomer.external_id_hash).where(ErasedCustomer.connection == connection)))


def erased_among(session: Session, connection: str, external_ids: Iterable[str]) -> set[str]:
    """The hashes of those of ``external_ids`` (customers of ``connection``) that were erased:
    the mirror asks per page, in the page's transaction, so a customer erased while an import
    runs is not re-imported by a later page of that run."""
    ids = list(external_ids)
    if not ids or session.scalar(select(ErasedCustomer.connection).where(
            ErasedCustomer.connection == connection).limit(1)) is None:
        # Nothing erased in this connection (the usual case): no hashing, no id list — a
        # fifth of a mirror page's store time on PostgreSQL went to this lookup.
        return set()
    hashes = list({external_id_hash(str(e)) for e in ids})
    return set(session.scalars(select(ErasedCustomer.external_id_hash).where(
        ErasedCustomer.connection == connection,
        one_of(session, table("erased_customers").c.external_id_hash, hashes))))


def is_erased(session: Session, connection: str, external_id: str) -> bool:
    """Whether customer ``external_id`` of ``connection`` was erased."""
    return session.get(ErasedCustomer, (connection, external_id_hash(external_id))) is not None


def erased_email_hashes(session: Session, connection: str) -> set[str]:
    """The e-mail hashes (:func:`email_hash`) of the erased customers of ``connection``."""
    return set(session.scalars(
        select(ErasedCustomer.email_hash).where(
            ErasedCustomer.connection == connection, ErasedCustomer.email_hash.is_not(None))))


def erased_internal_ids(session: Session, connection: str) -> set[str]:
    """Internal ids whose customer binding in ``connection`` was erased: the sync job must not
    create or bind a customer in that connection for them again."""
    return set(session.scalars(
        select(ErasedCustomer.internal_id).where(
            ErasedCustomer.connection == connection, ErasedCustomer.internal_id.is_not(None))))
