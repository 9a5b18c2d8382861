"""Idempotent, batched upserts of mirrored records keyed by (connection, external id).

Per batch of up to ``BATCH_SIZE`` records: one ``SELECT`` of the stored content hashes, then
one multi-row ``INSERT … ON CONFLICT DO UPDATE`` on SQLite (``COPY`` into a staging table and
one ``INSERT … SELECT … ON CONFLICT`` on PostgreSQL), rows encoded once (``_bulk``), for the
new and changed records only. Input is consumed batch by batch, so a generator of any length works
in bounded memory; an id repeated within a batch counts once (the last wins), an id repeated
across batches is simply upserted again. Unchanged records are not rewritten; the
``ON CONFLICT … WHERE content_hash <> excluded.content_hash`` guard keeps that true when a
concurrent writer got there first. Order lines of written orders are replaced as a whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import Table, delete, func, select
from sqlalchemy.orm import Session

from shoploop.hooks import Customer, InstalledEquipment, Order, Product

from ._bulk import encode_rows, sqlite_insert
from ._dialect import backend_of, one_of
from ._rows import Row, customer_row, installed_row, order_line_rows, order_row, product_row
from ._schema import table
from ._types import utcnow

BATCH_SIZE = 1000
"""Records per round trip (one hash lookup, one write statement). SQLite's bound-parameter
limit splits a write only when a batch would exceed it (``_bulk.sqlite_insert``)."""

_KEY = ("connection", "external_id")
M = TypeVar("M")


@dataclass(frozen=True)
class UpsertResult:
    """How many distinct records were inserted, updated (content changed) or left unchanged."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def written(self) -> int:
        return self.inserted + self.updated

    @property
    def total(self) -> int:
        return self.inserted + self.updated + self.unchanged

    def __add__(self, other: UpsertResult) -> UpsertResult:
        return UpsertResult(
            self.inserted + other.inserted, self.updated + other.updated,
            self.unchanged + other.unchanged,
        )


def _batches(items: Iterable[M], size: int) -> Iterator[list[M]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _upsert(
    session: Session, target: Table, connection: str, items: Iterable[M],
    to_row: Callable[[M], Row], *,
    on_written: Callable[[dict[str, int], dict[str, M]], None] | None = None,
    newer_only: bool = False,
) -> UpsertResult:
    """Upsert ``items`` (all of ``connection``) batch by batch, so memory stays bounded
    whatever the input's length. ``on_written(ids, items)`` receives, per batch, the
    ``{external_id: id}`` of the rows inserted or updated and the batch's items by id.
    ``newer_only``: a record whose source ``updated_at`` is older than the stored one's is
    stale and left out (counted unchanged)."""
    update_columns = [c.name for c in target.columns if c.name not in (*_KEY, "id")]
    inserted = updated = unchanged = 0
    for batch in _batches(items, BATCH_SIZE):
        rows: dict[str, Row] = {}
        by_external: dict[str, M] = {}
        for item in batch:  # an id repeated within a batch: the last one wins
            row = to_row(item)
            rows[row["external_id"]] = row
            by_external[row["external_id"]] = item
        found = session.execute(
            select(target.c.external_id, target.c.content_hash,
                   target.c.source_updated_at).where(
                target.c.connection == connection,
                one_of(session, target.c.external_id, list(rows)),
            )
        ).all()
        stored = {external_id: digest for external_id, digest, _ in found}
        stamps = {external_id: stamp for external_id, _, stamp in found} if newer_only else {}
        to_write: list[Row] = []
        for external_id, row in rows.items():
            digest = stored.get(external_id)
            if newer_only and _older(row["source_updated_at"], stamps.get(external_id)):
                unchanged += 1
                continue
            if digest is None:
                inserted += 1
            elif digest != row["content_hash"]:
                updated += 1
            else:
                unchanged += 1
                continue
            to_write.append(row)
        if not to_write:
            continue
        written = _write(
            session, target, to_write, update_columns, returning=on_written is not None
        )
        if on_written is not None:
            on_written(written, by_external)
    return UpsertResult(inserted, updated, unchanged)


def _utc(moment: datetime) -> datetime:  # SQLite hands a stored time back without its zone
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _older(incoming: datetime | None, stored: datetime | None) -> bool:
    return incoming is not None and stored is not None and _utc(incoming) < _utc(stored)


def _write(
    session: Session, target: Table, rows: list[Row], update_columns: list[str], *,
    returning: bool,
) -> dict[str, int]:
    """Insert-or-update ``rows`` in one statement per page (see ``_bulk``); with
    ``returning``, ``{external_id: id}`` of those written."""
    columns = list(rows[0])
    values = encode_rows(session, target, columns, rows)
    if backend_of(session) == "postgresql":
        from ._pg_copy import copy_upsert  # psycopg is only installed with PostgreSQL

        return dict(copy_upsert(session, target, columns, values, key=_KEY,
                                update_columns=update_columns, returning=returning))
    written = sqlite_insert(session, target, columns, values, key=_KEY,
                            update_columns=update_columns,
                            returning=("external_id", "id") if returning else ())
    return {str(external): int(row_id) for external, row_id in written}


def _insert(session: Session, target: Table, rows: list[Row]) -> None:
    if not rows:
        return
    columns = list(rows[0])
    values = encode_rows(session, target, columns, rows)
    if backend_of(session) == "postgresql":
        from ._pg_copy import copy_insert

        copy_insert(session, target, columns, values)
    else:
        sqlite_insert(session, target, columns, values)


def upsert_customers(
    session: Session, connection: str, customers: Iterable[Customer], *,
    now: datetime | None = None,
) -> UpsertResult:
    """Mirror customers of ``connection``; see the module docs for the guarantees."""
    at = now or utcnow()
    return _upsert(session, table("customers"), connection, customers,
                   lambda customer: customer_row(connection, customer, at))


def upsert_products(
    session: Session, connection: str, products: Iterable[Product], *,
    now: datetime | None = None,
) -> UpsertResult:
    at = now or utcnow()
    return _upsert(session, table("products"), connection, products,
                   lambda product: product_row(connection, product, at))


def upsert_installed_base(
    session: Session, connection: str, items: Iterable[InstalledEquipment], *,
    now: datetime | None = None,
) -> UpsertResult:
    at = now or utcnow()
    return _upsert(session, table("installed_base"), connection, items,
                   lambda item: installed_row(connection, item, at))


def upsert_orders(
    session: Session, connection: str, orders: Iterable[Order], *,
    now: datetime | None = None,
) -> UpsertResult:
    """Mirror orders; a new or changed order's lines replace its stored lines."""
    at = now or utcnow()
    lines_table = table("order_lines")

    def replace_lines(written: dict[str, int], by_external: dict[str, Order]) -> None:
        if not written:
            return
        session.execute(delete(lines_table).where(
            one_of(session, lines_table.c.order_id, list(written.values()))))
        lines = [
            line
            for external_id, order_id in written.items()
            for line in order_line_rows(order_id, by_external[external_id])
        ]
        _insert(session, lines_table, lines)

    # newer_only: webhooks come in any order and are retried (Shopify guarantees no order),
    # so an orders/paid delivered after the orders/updated of its refund must not make the
    # refunded order paid again: the platform's updated_at decides.
    return _upsert(session, table("orders"), connection, orders,
                   lambda order: order_row(connection, order, at), on_written=replace_lines,
                   newer_only=True)


def _records(session: Session, target: Table, connection: str | None) -> Iterator[Any]:
    query = select(target.c.data).order_by(target.c.id)
    if connection is not None:
        query = query.where(target.c.connection == connection)
    yield from session.scalars(query.execution_options(yield_per=BATCH_SIZE))


def count_mirrored(session: Session, stream: str, connections: Iterable[str]) -> int:
    """How many records of ``stream`` (customers, orders, products, installed_base) the
    mirror holds for these connections (for progress totals)."""
    records = table(stream)
    return int(session.scalar(select(func.count()).select_from(records).where(
        records.c.connection.in_(list(connections)))) or 0)


def mirrored_customers(session: Session, connection: str | None = None) -> Iterator[Customer]:
    """The mirrored customers (of one connection, or all) as models, streamed."""
    for data in _records(session, table("customers"), connection):
        yield Customer.model_validate(data)


def mirrored_orders(session: Session, connection: str | None = None) -> Iterator[Order]:
    for data in _records(session, table("orders"), connection):
        yield Order.model_validate(data)


def mirrored_products(session: Session, connection: str | None = None) -> Iterator[Product]:
    for data in _records(session, table("products"), connection):
        yield Product.model_validate(data)


def mirrored_installed_base(
    session: Session, connection: str | None = None
) -> Iterator[InstalledEquipment]:
    for data in _records(session, table("installed_base"), connection):
        yield InstalledEquipment.model_validate(data)
