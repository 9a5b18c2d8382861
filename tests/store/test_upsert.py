"""Mirrored records: idempotent batched upserts keyed by (connection, external id)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

import shoploop.store._upsert as upsert_module
from shoploop.hooks import Address, Customer, InstalledEquipment, LineItem, Order, Product
from shoploop.store import (
    CustomerRecord,
    InstalledBaseRecord,
    OrderLineRecord,
    OrderRecord,
    ProductRecord,
    Store,
    UpsertResult,
    counts,
    mirrored_customers,
    mirrored_installed_base,
    mirrored_orders,
    mirrored_products,
    upsert_customers,
    upsert_installed_base,
    upsert_orders,
    upsert_products,
)

T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def customers(n: int, *, start: int = 0) -> list[Customer]:
    return [
        Customer(
            id=f"C{i}", email=f"Person{i}@Example.com", first_name="Ada", last_name=f"L{i}",
            kind="b2b" if i % 2 else "b2c", customer_number=f"K{i:05}", vat_id=f"DE{i:09}",
            addresses=[Address(city="Köln", country="DE")], tags=["vip"] if i % 3 == 0 else [],
            attributes={"industry": "metal", "group": "A", "score": i},
            updated_at=T0 + timedelta(minutes=i),
        )
        for i in range(start, start + n)
    ]


def orders(n: int, lines: int = 3) -> list[Order]:
    return [
        Order(
            id=f"O{i}", number=f"10{i}", customer_id=f"C{i % 7}", email="a@b.de",
            placed_at=T0 + timedelta(hours=i), status="paid", channel="erp",
            lines=[LineItem(product_id=f"P{j}", sku=f"S{j}", name=f"Part {j}", quantity=j + 1,
                            unit_price=Decimal("19.99")) for j in range(lines)],
        )
        for i in range(n)
    ]


def test_inserting_then_upserting_the_same_data_changes_nothing(store: Store):
    data = customers(25)
    with store.session() as session:
        assert upsert_customers(session, "erp", data) == UpsertResult(inserted=25)
    with store.session() as session:
        before = {r.external_id: (r.id, r.mirrored_at) for r in session.scalars(
            select(CustomerRecord))}
        assert upsert_customers(session, "erp", customers(25)) == UpsertResult(unchanged=25)
    with store.session() as session:
        after = {r.external_id: (r.id, r.mirrored_at) for r in session.scalars(
            select(CustomerRecord))}
        assert after == before  # not rewritten: same ids, same mirrored_at
        assert counts(session)["customers"] == 25


def test_changed_records_are_updated_in_place(store: Store):
    with store.session() as session:
        upsert_customers(session, "erp", customers(10))
    changed = customers(10)
    changed[3].email = "new@example.com"
    changed[7].attributes["group"] = "B"
    with store.session() as session:
        result = upsert_customers(session, "erp", [*changed, *customers(2, start=10)])
        assert result == UpsertResult(inserted=2, updated=2, unchanged=8)
    with store.session() as session:
        row = session.scalars(select(CustomerRecord).where(
            CustomerRecord.external_id == "C3")).one()
        assert row.email == "new@example.com" and row.data["email"] == "new@example.com"
        assert counts(session)["customers"] == 12
        assert {c.id: c for c in mirrored_customers(session, "erp")}["C7"] == changed[7]


def test_columns_hold_the_query_helpers(store: Store):
    with store.session() as session:
        upsert_customers(session, "erp", customers(2))
        row = session.scalars(select(CustomerRecord).where(
            CustomerRecord.external_id == "C1")).one()
    assert (row.connection, row.email, row.kind, row.customer_number, row.vat_id) == (
        "erp", "person1@example.com", "b2b", "K00001", "DE000000001")
    assert row.source_updated_at == T0 + timedelta(minutes=1)
    assert row.mirrored_at.tzinfo is not None


def test_connections_are_separate_namespaces(store: Store):
    with store.session() as session:
        assert upsert_customers(session, "erp", customers(3)).inserted == 3
        assert upsert_customers(session, "shop", customers(3)).inserted == 3
        assert len(list(mirrored_customers(session, "shop"))) == 3
        assert len(list(mirrored_customers(session))) == 6


def test_a_repeated_id_in_one_call_keeps_the_last(store: Store):
    first, second = customers(1), customers(1)
    second[0].email = "later@example.com"
    with store.session() as session:
        assert upsert_customers(session, "erp", [*first, *second]) == UpsertResult(inserted=1)
        assert next(mirrored_customers(session)).email == "later@example.com"


def test_attribute_order_does_not_count_as_a_change(store: Store):
    with store.session() as session:
        upsert_customers(session, "erp", customers(1))
    reordered = customers(1)
    reordered[0].attributes = dict(reversed(list(reordered[0].attributes.items())))
    with store.session() as session:
        assert upsert_customers(session, "erp", reordered) == UpsertResult(unchanged=1)


def test_batches_larger_than_one_round_trip(store: Store, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(upsert_module, "BATCH_SIZE", 7)
    with store.session() as session:
        assert upsert_orders(session, "erp", orders(30)) == UpsertResult(inserted=30)
    changed = orders(30)
    for order in changed[::4]:
        order.status = "refunded"
    with store.session() as session:
        assert upsert_orders(session, "erp", changed) == UpsertResult(updated=8, unchanged=22)
        assert counts(session)["order_lines"] == 90


def test_a_generator_is_consumed_batch_by_batch(store: Store, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(upsert_module, "BATCH_SIZE", 4)
    consumed: list[str] = []

    def stream():
        for customer in [*customers(6), *customers(3)]:  # C0..C2 come again in batch 3
            consumed.append(customer.id)
            yield customer

    with store.session() as session:
        assert upsert_customers(session, "erp", stream()) == UpsertResult(
            inserted=6, unchanged=3)
        assert counts(session)["customers"] == 6
    assert len(consumed) == 9


def test_order_lines_are_replaced_not_duplicated(store: Store):
    with store.session() as session:
        assert upsert_orders(session, "erp", orders(4, lines=3)).inserted == 4
    fewer, more = orders(4, lines=3), orders(4, lines=3)
    fewer[1].lines = fewer[1].lines[:1]
    more[2].lines.append(LineItem(product_id="P9", quantity=5, unit_price=Decimal("0.01")))
    with store.session() as session:
        assert upsert_orders(session, "erp", [fewer[1], more[2]]) == UpsertResult(updated=2)
        assert upsert_orders(session, "erp", orders(4)[:1]) == UpsertResult(unchanged=1)
    with store.session() as session:
        lines = session.execute(
            select(OrderRecord.external_id, OrderLineRecord.position,
                   OrderLineRecord.product_external_id, OrderLineRecord.quantity,
                   OrderLineRecord.unit_price)
            .join(OrderRecord, OrderRecord.id == OrderLineRecord.order_id)
            .order_by(OrderRecord.external_id, OrderLineRecord.position)).all()
        by_order: dict[str, list[tuple[int, str | None, int, Decimal]]] = {}
        for external_id, *line in lines:
            by_order.setdefault(external_id, []).append(tuple(line))
        assert [len(by_order[o]) for o in ("O0", "O1", "O2", "O3")] == [3, 1, 4, 3]
        assert by_order["O2"][-1] == (3, "P9", 5, Decimal("0.0100"))
        assert {o.id: o for o in mirrored_orders(session)}["O2"] == more[2]
        assert counts(session)["order_lines"] == 11


def test_order_totals_and_prices_are_exact(store: Store):
    order = Order(id="O1", placed_at=T0, lines=[
        LineItem(product_id="P1", quantity=3, unit_price=Decimal("0.10")),
        LineItem(product_id="P2", quantity=1, unit_price=Decimal("1234567.89")),
    ])
    with store.session() as session:
        upsert_orders(session, "shop", [order])
    with store.session() as session:
        row = session.scalars(select(OrderRecord)).one()
        assert row.total == Decimal("1234568.19")
        assert next(mirrored_orders(session)).total == order.total


def test_times_are_stored_in_utc(store: Store):
    berlin = timezone(timedelta(hours=2))
    order = Order(id="O1", placed_at=datetime(2025, 6, 1, 12, 0, tzinfo=berlin))
    with store.session() as session:
        upsert_orders(session, "shop", [order])
    with store.session() as session:
        placed = session.scalars(select(OrderRecord.placed_at)).one()
    assert placed == datetime(2025, 6, 1, 10, 0, tzinfo=UTC)
    assert placed.utcoffset() == timedelta(0)


def test_products_and_installed_base(store: Store):
    products = [Product(id=f"P{i}", sku=f"S{i}", name=f"Pump {i}", price=Decimal("249.90"),
                        stock=i, category="pumps", tags=["x"]) for i in range(5)]
    installed = [InstalledEquipment(id=f"E{i}", customer_id="C1", product_id=f"P{i}",
                                    serial_number=f"SN{i}", installed_at=date(2023, 1, i + 1),
                                    service_interval_days=365) for i in range(3)]
    with store.session() as session:
        assert upsert_products(session, "erp", products) == UpsertResult(inserted=5)
        assert upsert_installed_base(session, "erp", installed) == UpsertResult(inserted=3)
    products[0].price = Decimal("199.00")
    installed[2].last_service_at = date(2024, 1, 3)
    with store.session() as session:
        assert upsert_products(session, "erp", products) == UpsertResult(updated=1, unchanged=4)
        assert upsert_installed_base(session, "erp", installed) == UpsertResult(
            updated=1, unchanged=2)
    with store.session() as session:
        row = session.scalars(select(ProductRecord).where(ProductRecord.sku == "S0")).one()
        assert (row.price, row.category, row.status, row.stock) == (
            Decimal("199.00"), "pumps", "active", 0)
        equipment = session.scalars(select(InstalledBaseRecord).where(
            InstalledBaseRecord.external_id == "E2")).one()
        assert equipment.last_service_at == date(2024, 1, 3)
        assert equipment.installed_at == date(2023, 1, 3)
        assert list(mirrored_products(session, "erp")) == products
        assert list(mirrored_installed_base(session, "erp")) == installed


def test_an_empty_list_is_a_no_op(store: Store):
    with store.session() as session:
        for upsert in (upsert_customers, upsert_orders, upsert_products, upsert_installed_base):
            assert upsert(session, "erp", []) == UpsertResult()
        assert sum(counts(session).values()) == 0


def test_a_failed_transaction_leaves_nothing_behind(store: Store):
    with pytest.raises(RuntimeError), store.session() as session:
        upsert_orders(session, "erp", orders(5))
        raise RuntimeError("crash before commit")
    with store.session() as session:
        assert counts(session)["orders"] == counts(session)["order_lines"] == 0


def test_an_older_version_of_an_order_does_not_replace_a_newer_one(store: Store) -> None:
    """Webhooks arrive in any order (and retried): an orders/paid delivered after the
    orders/updated of the refund must leave the order refunded — the source's updated_at
    decides; an equal or newer one is written, one without a time always."""
    def version(status: str, minutes: int | None, total: str = "19.99") -> Order:
        return Order(id="O1", customer_id="C1", placed_at=T0, status=status,  # type: ignore[arg-type]
                     updated_at=None if minutes is None else T0 + timedelta(minutes=minutes),
                     lines=[LineItem(name="Part", quantity=1, unit_price=Decimal(total))])

    def mirrored() -> tuple[str, Decimal | None]:
        with store.session() as session:
            [order] = mirrored_orders(session, "shop")
            return order.status, order.lines[0].unit_price

    with store.session() as session:
        upsert_orders(session, "shop", [version("refunded", 30)])
        assert upsert_orders(session, "shop", [version("paid", 10)]) == UpsertResult(0, 0, 1)
    assert mirrored() == ("refunded", Decimal("19.99"))
    with store.session() as session:
        assert upsert_orders(session, "shop", [version("refunded", 30, "9.99")]).updated == 1
    assert mirrored() == ("refunded", Decimal("9.99"))
    with store.session() as session:
        upsert_orders(session, "shop", [version("cancelled", None)])  # no time: written
    assert mirrored()[0] == "cancelled"
