"""Idempotent, batched upserts of mirrored records keyed by (connection, external id).

Per batch of up to ``BATCH_SIZE`` records: one ``SELECT`` of the stored content hashes, then
one ``INSERT … ON CONFLICT DO UPDATE`` (executemany, which SQLAlchemy sends as multi-row
statements) for the new and changed records only. Unchanged records are not rewritten; the
``ON CONFLICT … WHERE content_hash <> excluded.content_hash`` guard keeps that true when a
concurrent writer got there first. Order lines of written orders are replaced as a whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Table, delete, select
from sqlalchemy.orm import Session

from shoploop.hooks import Customer, InstalledEquipment, Order, Product

from ._dialect import backend_of, upsert_insert
from ._rows import Row, customer_row, installed_row, order_line_rows, order_row, product_row
from ._schema import table
from ._types import utcnow

BATCH_SIZE = 1000
"""Records per round trip. Bounded by SQLite's 32766 bound parameters per statement
(SQLAlchemy splits larger executemany batches itself)."""

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


def _chunks(items: Sequence[M], size: int) -> Iterator[Sequence[M]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _upsert_rows(
    session: Session, target: Table, connection: str, rows: Iterable[Row], *,
    on_written: Callable[[dict[str, int]], None] | None = None,
) -> UpsertResult:
    """Upsert ``rows`` (all of ``connection``); ``on_written`` receives, per batch, the
    ``{external_id: id}`` of the rows that were inserted or updated."""
    by_external = {row["external_id"]: row for row in rows}  # a repeated id: the last wins
    update_columns = [c.name for c in target.columns if c.name not in (*_KEY, "id")]
    inserted = updated = unchanged = 0
    for batch in _chunks(list(by_external.values()), BATCH_SIZE):
        stored = {
            external: (row_id, digest)
            for external, row_id, digest in session.execute(
                select(target.c.external_id, target.c.id, target.c.content_hash).where(
                    target.c.connection == connection,
                    target.c.external_id.in_([row["external_id"] for row in batch]),
                )
            )
        }
        to_write: list[Row] = []
        for row in batch:
            known = stored.get(row["external_id"])
            if known is None:
                inserted += 1
            elif known[1] != row["content_hash"]:
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
            on_written(written)
    return UpsertResult(inserted, updated, unchanged)


def _write(
    session: Session, target: Table, rows: list[Row], update_columns: list[str], *,
    returning: bool,
) -> dict[str, int]:
    """Insert-or-update ``rows``; with ``returning``, ``{external_id: id}`` of those written."""
    if backend_of(session) == "postgresql":
        from ._pg_copy import copy_upsert  # psycopg is only installed with PostgreSQL

        return dict(copy_upsert(
            session, target, rows, key=_KEY, update_columns=update_columns, returning=returning
        ))
    statement = upsert_insert(session, target)
    statement = statement.on_conflict_do_update(
        index_elements=list(_KEY),
        set_={name: statement.excluded[name] for name in update_columns},
        where=target.c.content_hash != statement.excluded.content_hash,
    )
    if not returning:
        session.execute(statement, rows)
        return {}
    result = session.execute(statement.returning(target.c.external_id, target.c.id), rows)
    return {external: row_id for external, row_id in result}


def _insert(session: Session, target: Table, rows: list[Row]) -> None:
    if not rows:
        return
    if backend_of(session) == "postgresql":
        from ._pg_copy import copy_insert

        copy_insert(session, target, rows)
    else:
        session.execute(target.insert(), rows)


def upsert_customers(
    session: Session, connection: str, customers: Iterable[Customer], *,
    now: datetime | None = None,
) -> UpsertResult:
    """Mirror customers of ``connection``; see the module docs for the guarantees."""
    at = now or utcnow()
    rows = (customer_row(connection, customer, at) for customer in customers)
    return _upsert_rows(session, table("customers"), connection, rows)


def upsert_products(
    session: Session, connection: str, products: Iterable[Product], *,
    now: datetime | None = None,
) -> UpsertResult:
    at = now or utcnow()
    rows = (product_row(connection, product, at) for product in products)
    return _upsert_rows(session, table("products"), connection, rows)


def upsert_installed_base(
    session: Session, connection: str, items: Iterable[InstalledEquipment], *,
    now: datetime | None = None,
) -> UpsertResult:
    at = now or utcnow()
    rows = (installed_row(connection, item, at) for item in items)
    return _upsert_rows(session, table("installed_base"), connection, rows)


def upsert_orders(
    session: Session, connection: str, orders: Iterable[Order], *,
    now: datetime | None = None,
) -> UpsertResult:
    """Mirror orders; a new or changed order's lines replace its stored lines."""
    at = now or utcnow()
    by_external = {order.id: order for order in orders}
    lines_table = table("order_lines")

    def replace_lines(written: dict[str, int]) -> None:
        if not written:
            return
        session.execute(delete(lines_table).where(lines_table.c.order_id.in_(written.values())))
        lines = [
            line
            for external_id, order_id in written.items()
            for line in order_line_rows(order_id, by_external[external_id])
        ]
        _insert(session, lines_table, lines)

    rows = (order_row(connection, order, at) for order in by_external.values())
    return _upsert_rows(
        session, table("orders"), connection, rows, on_written=replace_lines
    )


def _records(session: Session, target: Table, connection: str | None) -> Iterator[Any]:
    query = select(target.c.data).order_by(target.c.id)
    if connection is not None:
        query = query.where(target.c.connection == connection)
    yield from session.scalars(query.execution_options(yield_per=BATCH_SIZE))


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
