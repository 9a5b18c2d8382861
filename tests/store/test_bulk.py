"""Page-at-a-time mirror writes (``_bulk``, ``_pg_copy``) on both backends: random pages with
repeats and updates give exactly the row-by-row result, and the stored values are exactly what
an ordinary SQLAlchemy ``INSERT`` stores."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic_core import TzInfo
from sqlalchemy import text
from sqlalchemy.dialects.sqlite import pysqlite
from sqlalchemy.orm import Session

import shoploop.store._upsert as upsert_module
from shoploop.hooks import LineItem, Order
from shoploop.store import Store, UpsertResult, mirrored_orders, table, upsert_orders
from shoploop.store._bulk import sqlite_utc_text
from shoploop.store._rows import order_line_rows, order_row
from shoploop.store._types import UTCDateTime

T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
_run = itertools.count()


def order(order_id: int, version: int) -> Order:
    """Order ``order_id`` as of ``version``: every version has different content."""
    zone = timezone(timedelta(hours=version % 5 - 2))
    return Order(
        id=f"O{order_id}", number=f"{order_id}-{version}", customer_id=f"C{order_id % 3}",
        email=None if version % 4 == 0 else f"o{order_id}@example.com",
        placed_at=(T0 + timedelta(hours=order_id, microseconds=version)).astimezone(zone),
        updated_at=None if version % 3 == 0 else T0 + timedelta(days=version),
        status="refunded" if version % 2 else "paid",
        lines=[LineItem(product_id=f"P{j}", sku=None if j % 2 else f"S{j}", quantity=j + 1,
                        unit_price=Decimal(version) / 100 + j)
               for j in range(version % 4)],
        attributes={"v": version, "z": "x", "a": None},
    )


pages = st.lists(  # (order id, version): few ids, so pages repeat and update each other
    st.lists(st.tuples(st.integers(0, 7), st.integers(0, 5)), max_size=12),
    min_size=1, max_size=5)


@contextmanager
def sqlite_parameter_limit(session: Session, limit: int | None) -> Iterator[None]:
    """Force ``_bulk.sqlite_insert`` to split a page over several statements."""
    raw = session.connection().connection.dbapi_connection
    if limit is None or not isinstance(raw, sqlite3.Connection):
        yield
        return
    before = raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, limit)
    try:
        yield
    finally:
        raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, before)


def stored_text(session: Session, connection: str) -> list[tuple[Any, ...]]:
    """Every stored column of ``connection``'s orders and their lines as the database's own
    text (not SQLAlchemy's result processing), ``id``/``connection`` left out."""
    orders, lines = table("orders"), table("order_lines")
    order_columns = [c.name for c in orders.columns if c.name not in ("id", "connection")]
    line_columns = [c.name for c in lines.columns if c.name not in ("id", "order_id")]
    as_text = ", ".join(f"CAST(o.{c} AS TEXT)" for c in order_columns)
    line_text = ", ".join(f"CAST(l.{c} AS TEXT)" for c in line_columns)
    return [tuple(row) for row in session.execute(text(
        f"SELECT {as_text}, {line_text} FROM orders o LEFT JOIN order_lines l "
        f"ON l.order_id = o.id WHERE o.connection = :c ORDER BY o.external_id, l.position"),
        {"c": connection})]


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pages=pages, batch_size=st.integers(1, 6), limit=st.sampled_from([None, 20, 40, 99]))
def test_random_pages_equal_the_row_by_row_result(
    store: Store, pages: list[list[tuple[int, int]]], batch_size: int, limit: int | None,
) -> None:
    run = next(_run)
    bulk, reference = f"bulk-{run}", f"ref-{run}"
    now = T0 + timedelta(days=run)
    expected: dict[str, Order] = {}
    with patch.object(upsert_module, "BATCH_SIZE", batch_size):
        for page in pages:
            models = [order(i, v) for i, v in page]
            # Row by row, from the models alone: per batch the last of a repeated id counts,
            # and a version older than the stored one (updated_at) is stale, not written.
            counts = UpsertResult()
            for start in range(0, len(models), batch_size):
                batch = {m.id: m for m in models[start:start + batch_size]}
                for order_id, model in batch.items():
                    old = expected.get(order_id)
                    stale = bool(old is not None and old.updated_at and model.updated_at
                                 and model.updated_at < old.updated_at)
                    counts += UpsertResult(inserted=old is None,
                                           updated=old is not None and not stale
                                           and old != model,
                                           unchanged=stale or old == model)
                    if not stale:
                        expected[order_id] = model
            with store.session() as session, sqlite_parameter_limit(session, limit):
                assert upsert_orders(session, bulk, models, now=now) == counts
    with store.session() as session:
        # The reference: the final state through SQLAlchemy's ordinary INSERT, one per row.
        orders, lines = table("orders"), table("order_lines")
        for model in expected.values():
            order_id = session.execute(orders.insert().returning(orders.c.id),
                                       order_row(reference, model, now)).scalar_one()
            for line in order_line_rows(order_id, model):
                session.execute(lines.insert(), line)
    with store.session() as session:
        mirrored = list(mirrored_orders(session, bulk))
        assert len(mirrored) == len(expected)
        assert {m.id: m for m in mirrored} == expected
        assert stored_text(session, bulk) == stored_text(session, reference)


zones = st.builds(lambda minutes: timezone(timedelta(minutes=minutes)),
                  st.integers(-14 * 60 + 1, 14 * 60 - 1))
pydantic_zones = st.builds(lambda minutes: TzInfo(minutes * 60), st.integers(-1439, 1439))
"""What pydantic parses ``Z`` / ``+02:00`` into: the fast path's usual input."""


@settings(max_examples=300)
@given(moment=st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                           timezones=st.none() | zones | st.just(UTC) | pydantic_zones
                           | st.timezones()))
def test_the_sqlite_time_encoder_equals_sqlalchemys_two_processors(moment: datetime) -> None:
    dialect = pysqlite.dialect()
    generic = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert generic is not None
    assert sqlite_utc_text(moment) == generic(moment)
    assert sqlite_utc_text(moment) == generic(moment)  # again: the zone's offset is cached


def test_the_sqlite_time_encoder_handles_parsed_times_like_the_generic_one() -> None:
    dialect = pysqlite.dialect()
    generic = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert generic is not None
    for stamp in ("2025-01-02T03:04:05.123456Z", "2025-01-02T03:04:05+02:00",
                  "2025-01-02T00:30:00-05:30", "0001-01-01T23:00:00+01:00", "2025-01-02"):
        moment = Order.model_validate({"id": "O", "placed_at": stamp}).placed_at
        assert sqlite_utc_text(moment) == generic(moment), stamp
    # Out of datetime's range once in UTC: the same error both ways.
    for stamp in ("0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00"):
        moment = Order.model_validate({"id": "O", "placed_at": stamp}).placed_at
        with pytest.raises(OverflowError):
            generic(moment)
        with pytest.raises(OverflowError):
            sqlite_utc_text(moment)


def test_the_sqlite_time_encoder_refuses_what_the_column_type_refuses() -> None:
    assert sqlite_utc_text(None) is None
    with pytest.raises(TypeError, match="expected a datetime, got str"):
        sqlite_utc_text("2025-01-01")
