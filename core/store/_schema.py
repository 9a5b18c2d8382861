"""The store's tables (SQLAlchemy 2 typed declarative). Changes here need a new migration in
``migrations/versions`` — ``tests/store`` checks that migrations and this metadata agree.

Mirrored records (customers, products, orders, installed base) are keyed by
``(connection, external_id)``: the id the record has in the connection it was read from.
``data`` holds the full model dump (``model_dump(mode="json")``), ``content_hash`` a hash of it
so unchanged records are never rewritten; the other columns are query helpers.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ._types import JSONType, Money, UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

CONNECTION = String(100)
EXTERNAL_ID = String(255)
HASH = String(32)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
        Decimal: Money,
    }


class IdentityBinding(Base):
    """One external id in one connection ↔ one internal id, per entity type."""

    __tablename__ = "identity_bindings"
    __table_args__ = (
        UniqueConstraint("connection", "entity_type", "external_id"),
        UniqueConstraint("connection", "entity_type", "internal_id"),
        Index(None, "entity_type", "internal_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    connection: Mapped[str] = mapped_column(CONNECTION)
    entity_type: Mapped[str] = mapped_column(String(50))
    external_id: Mapped[str] = mapped_column(EXTERNAL_ID)
    internal_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SyncCursor(Base):
    __tablename__ = "sync_cursors"

    connection: Mapped[str] = mapped_column(CONNECTION, primary_key=True)
    stream: Mapped[str] = mapped_column(String(100), primary_key=True)
    # Plain JSON (text), not JSONB, on PostgreSQL: a cursor is the connector's opaque state and
    # must come back exactly as saved (JSONB would turn 1e16 into an integer, reorder keys).
    position: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SyncRunRecord(Base):
    __tablename__ = "sync_runs"
    __table_args__ = (Index(None, "job", "started_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    job: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20))
    summary: Mapped[dict[str, Any]]


class _Mirrored:
    """Columns every mirrored record has."""

    # sort_order: the key columns come first and the bookkeeping last in CREATE TABLE.
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True, sort_order=-3)
    connection: Mapped[str] = mapped_column(CONNECTION, sort_order=-2)
    external_id: Mapped[str] = mapped_column(EXTERNAL_ID, sort_order=-1)
    data: Mapped[dict[str, Any]] = mapped_column(sort_order=1)
    content_hash: Mapped[str] = mapped_column(HASH, sort_order=2)
    source_updated_at: Mapped[datetime | None] = mapped_column(sort_order=3)
    mirrored_at: Mapped[datetime] = mapped_column(sort_order=4)


class CustomerRecord(_Mirrored, Base):
    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("connection", "external_id"),
        Index(None, "email"),
        Index(None, "customer_number"),
    )

    email: Mapped[str | None] = mapped_column(String(320))
    kind: Mapped[str | None] = mapped_column(String(10))
    customer_number: Mapped[str | None] = mapped_column(String(100))
    vat_id: Mapped[str | None] = mapped_column(String(64))


class ProductRecord(_Mirrored, Base):
    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("connection", "external_id"), Index(None, "sku"))

    sku: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(Text)
    price: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    stock: Mapped[int | None]
    category: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20))


class OrderRecord(_Mirrored, Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("connection", "external_id"),
        Index(None, "connection", "customer_external_id"),
        Index(None, "email"),
        Index(None, "placed_at"),
    )

    number: Mapped[str | None] = mapped_column(String(100))
    customer_external_id: Mapped[str | None] = mapped_column(EXTERNAL_ID)
    email: Mapped[str | None] = mapped_column(String(320))
    placed_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(30))
    channel: Mapped[str] = mapped_column(String(50))
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[Decimal]


class OrderLineRecord(Base):
    """A line of a mirrored order; replaced as a whole when the order changes."""

    __tablename__ = "order_lines"

    order_id: Mapped[int] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_external_id: Mapped[str | None] = mapped_column(EXTERNAL_ID)
    sku: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(Text)
    quantity: Mapped[int]
    unit_price: Mapped[Decimal]


class InstalledBaseRecord(_Mirrored, Base):
    __tablename__ = "installed_base"
    __table_args__ = (
        UniqueConstraint("connection", "external_id"),
        Index(None, "connection", "customer_external_id"),
    )

    customer_external_id: Mapped[str] = mapped_column(EXTERNAL_ID)
    product_external_id: Mapped[str] = mapped_column(EXTERNAL_ID)
    serial_number: Mapped[str | None] = mapped_column(String(255))
    installed_at: Mapped[date] = mapped_column(Date)
    service_interval_days: Mapped[int | None]
    last_service_at: Mapped[date | None] = mapped_column(Date)


def table(name: str) -> Table:
    """The ``Table`` of a mapped class by table name (typed, unlike ``Cls.__table__``)."""
    return Base.metadata.tables[name]


# -- the sync job's state and audit trail (migration 0002) -------------------------------------

class SyncTargetState(Base):
    """What one target connection last *confirmed* for one customer: attribute → value as
    sent. Change detection compares against it, so only real changes are written."""

    __tablename__ = "sync_target_state"

    connection: Mapped[str] = mapped_column(CONNECTION, primary_key=True)
    external_id: Mapped[str] = mapped_column(EXTERNAL_ID, primary_key=True)
    sent: Mapped[dict[str, Any]]
    run_id: Mapped[str] = mapped_column(String(36))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SyncBatch(Base):
    """An intent record: one batch of writes to one target, recorded *before* it is sent.

    ``pending`` until the target's answer and its effects (target state, audit rows) are
    committed together (``confirmed``). A batch still pending when a run starts was in flight
    when a job died: it is marked ``interrupted`` and its changes are planned again (the
    adapters compare before they write, so a batch that did land is not applied twice)."""

    __tablename__ = "sync_batches"
    __table_args__ = (Index(None, "connection", "status"), Index(None, "run_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(36))
    connection: Mapped[str] = mapped_column(CONNECTION)
    kind: Mapped[str] = mapped_column(String(20), default="sync", server_default="sync")
    """What the batch writes: ``sync`` (customer attributes) or ``reco_publish``
    (recommendation lists); each job resumes only its own kind (migration 0005)."""
    batch_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    size: Mapped[int]
    changes: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    settled_at: Mapped[datetime | None]


class SyncChangeRecord(Base):
    """The audit trail: one row per attribute change (or identity finding) per run."""

    __tablename__ = "sync_changes"
    __table_args__ = (
        Index(None, "run_id", "id"),
        Index(None, "connection", "customer_external_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(36))
    connection: Mapped[str] = mapped_column(CONNECTION)
    customer_external_id: Mapped[str | None] = mapped_column(EXTERNAL_ID)
    source: Mapped[str] = mapped_column(String(255))
    source_external_id: Mapped[str | None] = mapped_column(EXTERNAL_ID)
    attr_key: Mapped[str | None] = mapped_column(String(255))
    old: Mapped[Any | None] = mapped_column(JSON)
    new: Mapped[Any | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text, default="")
    batch_id: Mapped[int | None]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class ErasedCustomer(Base):
    """A customer erased on request (privacy): never mirrored, matched or created again.

    The external id and the e-mail are kept only as SHA-256 hashes: enough to recognise the
    record if the platform sends it again, or the person if a sync would create them again."""

    __tablename__ = "erased_customers"
    __table_args__ = (Index(None, "internal_id"), Index(None, "connection", "email_hash"))

    connection: Mapped[str] = mapped_column(CONNECTION, primary_key=True)
    external_id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    internal_id: Mapped[str | None] = mapped_column(String(64))
    email_hash: Mapped[str | None] = mapped_column(String(64))
    """SHA-256 of the normalised e-mail: a suppression entry, so ``create_missing`` never
    creates the person in this connection again (even one never bound to a master)."""
    reason: Mapped[str] = mapped_column(String(100))
    erased_at: Mapped[datetime] = mapped_column(default=utcnow)


# -- recommendation models (migration 0004) ------------------------------------------------------

class RecoModelRecord(Base):
    """One built recommendation model: its version, when and from what it was built, and the
    model itself as one compact blob (``shoploop.reco``'s format). A blob, not tables: the
    model is always read whole into memory for in-process lookups, written once per build in
    one transaction (a reader sees the old version or the new one, never half of it), and a
    50k-product model would otherwise be millions of rows to insert per build."""

    __tablename__ = "reco_models"
    __table_args__ = (Index(None, "built_at"),)

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    built_at: Mapped[datetime]
    format: Mapped[int]
    summary: Mapped[dict[str, Any]]
    payload: Mapped[bytes] = mapped_column(LargeBinary)


class RecoPublishedRecord(Base):
    """What ``reco publish`` last had confirmed for one product of one connection: native
    field → product ids, as written. Publishing compares against it, so only changed lists are
    written and a re-run writes nothing (migration 0005)."""

    __tablename__ = "reco_published"

    connection: Mapped[str] = mapped_column(CONNECTION, primary_key=True)
    product_external_id: Mapped[str] = mapped_column(EXTERNAL_ID, primary_key=True)
    lists: Mapped[dict[str, Any]]
    run_id: Mapped[str] = mapped_column(String(36))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)


class RecordDigestRecord(Base):
    """The digest of what a connector last delivered of one record, for streams the platform
    cannot filter by change (WooCommerce customers: every read is a full scan). Kept here
    rather than in the stream's cursor, so a page costs a lookup of its own records and the
    cursor stays a scan position (migration ``0006_record_digests``)."""

    __tablename__ = "record_digests"

    connection: Mapped[str] = mapped_column(CONNECTION, primary_key=True)
    stream: Mapped[str] = mapped_column(String(100), primary_key=True)
    external_id: Mapped[str] = mapped_column(EXTERNAL_ID, primary_key=True)
    digest: Mapped[str] = mapped_column(HASH)


class WebEventRecord(Base):
    """One storefront event the widget reported (``POST /api/v1/events``): an impression, a
    click or an add-to-cart of one recommended product in one placement. ``event_id`` is the
    reporter's id of the event, unique, so a resent report is stored once (migration
    ``0008_web_events``)."""

    __tablename__ = "web_events"
    __table_args__ = (Index(None, "occurred_at"),
                      Index(None, "connection", "placement", "type"),
                      Index(None, "experiment", "unit_key"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    type: Mapped[str] = mapped_column(String(20))
    connection: Mapped[str] = mapped_column(CONNECTION)
    placement: Mapped[str] = mapped_column(String(50))
    product_external_id: Mapped[str] = mapped_column(EXTERNAL_ID)
    model_version: Mapped[int | None]
    position: Mapped[int | None]
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The experiment arm the answer came from (migration 0011): null outside experiments.
    experiment: Mapped[str | None] = mapped_column(String(63))
    variant: Mapped[str | None] = mapped_column(String(63))
    unit_key: Mapped[str | None] = mapped_column(String(255))


class ExperimentAssignmentRecord(Base):
    """A unit's variant in an experiment, stored at its first exposure (migration 0011).
    ``(experiment, unit_key)`` is unique: the first insert wins, so a unit stays in its arm
    even when the shares change later. ``customer_key`` is the identity-bound person the
    unit's orders are attributed through (the unit itself for ``unit = "customer"``; null
    for a visitor who never named a customer)."""

    __tablename__ = "experiment_assignments"
    __table_args__ = (UniqueConstraint("experiment", "unit_key"),
                      Index(None, "experiment", "variant"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    experiment: Mapped[str] = mapped_column(String(63))
    unit_kind: Mapped[str] = mapped_column(String(20))
    unit_key: Mapped[str] = mapped_column(String(255))
    variant: Mapped[str] = mapped_column(String(63))
    customer_key: Mapped[str | None] = mapped_column(String(255))
    first_exposed_at: Mapped[datetime] = mapped_column(default=utcnow)
# -- webhook deliveries (migration 0007) ---------------------------------------------------------

class WebhookDeliveryRecord(Base):
    """One verified webhook event, persisted before the receiver answers 200 and processed
    after it. ``(connection, dedupe_key)`` is unique: the platforms deliver one change several
    times (Shopify retries, concurrent repeats), and only the first insert wins — the others
    are answered 200 and stored nowhere. ``status``: ``pending`` → ``processing`` (claimed by a
    worker, ``attempts`` counted) → ``processed`` or back to ``pending`` after a failure, and
    ``failed`` once the attempts are used up (``shoploop webhooks process`` retries those)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("connection", "dedupe_key"),
                      Index(None, "status", "id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    connection: Mapped[str] = mapped_column(CONNECTION)
    dedupe_key: Mapped[str] = mapped_column(String(512))
    topic: Mapped[str] = mapped_column(String(255))
    event_type: Mapped[str] = mapped_column(String(100))
    event: Mapped[dict[str, Any]]
    """The parsed event (``Event.model_dump(mode="json")``), what processing replays."""
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    processed_at: Mapped[datetime | None]
