"""erase_customer: deletes one customer's data in one connection, keeps only a hash tombstone."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import func, select

from shoploop.hooks import Customer, InstalledEquipment, LineItem, Order
from shoploop.store import (
    CustomerRecord,
    ErasedCustomer,
    ErasureResult,
    IdentityBinding,
    InstalledBaseRecord,
    OrderLineRecord,
    OrderRecord,
    Store,
    bind_identity,
    erase_customer,
    erased_external_id_hashes,
    erased_internal_ids,
    external_id_hash,
    is_erased,
    resolve_internal_id,
    upsert_customers,
    upsert_installed_base,
    upsert_orders,
)
from shoploop.store._schema import SyncChangeRecord, SyncTargetState

T0 = datetime(2025, 3, 1, tzinfo=UTC)


def order(order_id: str, customer_id: str | None, lines: int = 2) -> Order:
    return Order(id=order_id, customer_id=customer_id, placed_at=T0,
                 lines=[LineItem(product_id=f"P{i}", quantity=1, unit_price=Decimal("9.90"))
                        for i in range(lines)])


def machine(item_id: str, customer_id: str) -> InstalledEquipment:
    return InstalledEquipment(id=item_id, customer_id=customer_id, product_id="P0",
                              installed_at=date(2024, 5, 1))


def seed(store: Store) -> str:
    """Customer "4711" in shop_a and shop_b (same number, different shops), a neighbour
    "4712" in shop_a, and the ERP's record of the same person; returns the internal id."""
    with store.session() as session:
        for connection in ("shop_a", "shop_b"):
            upsert_customers(session, connection, [
                Customer(id="4711", email="jane@example.com"),
                Customer(id="4712", email="joe@example.com"),
            ])
            upsert_orders(session, connection, [
                order("O1", "4711", lines=3), order("O2", "4711"), order("O3", "4712"),
                order("O4", None)])
            upsert_installed_base(session, connection, [machine("M1", "4711"),
                                                        machine("M2", "4712")])
        upsert_customers(session, "erp", [Customer(id="10001", email="jane@example.com")])
        person = bind_identity(session, "erp", "customer", "10001")
        bind_identity(session, "shop_a", "customer", "4711", person)
        bind_identity(session, "shop_b", "customer", "4711", person)
        bind_identity(session, "shop_a", "customer", "4712")
        session.add(SyncTargetState(connection="shop_a", external_id="4711",
                                    sent={"tier": "gold"}, run_id="r1"))
        session.add(SyncChangeRecord(connection="shop_a", customer_external_id="4711",
                                     source="erp", source_external_id="10001",
                                     attr_key="tier", old=None, new="gold", status="confirmed",
                                     run_id="r1"))
    return person


def snapshot(store: Store, connection: str) -> dict[str, object]:
    with store.session() as session:
        def ids(model: type[CustomerRecord] | type[OrderRecord] | type[InstalledBaseRecord]
                ) -> list[str]:
            return sorted(session.scalars(select(model.external_id).where(
                model.connection == connection)))

        lines = session.scalar(
            select(func.count()).select_from(OrderLineRecord).join(
                OrderRecord, OrderRecord.id == OrderLineRecord.order_id).where(
                OrderRecord.connection == connection))
        bindings = sorted(session.scalars(select(IdentityBinding.external_id).where(
            IdentityBinding.connection == connection)))
        return {"customers": ids(CustomerRecord), "orders": ids(OrderRecord),
                "installed": ids(InstalledBaseRecord), "lines": lines, "bindings": bindings}


def test_erase_deletes_the_customer_of_that_connection_only(store: Store) -> None:
    person = seed(store)
    before_b, before_erp = snapshot(store, "shop_b"), snapshot(store, "erp")
    with store.session() as session:
        result = erase_customer(session, "shop_a", "4711")
    assert result == ErasureResult(connection="shop_a", customers=1, orders=2, order_lines=5,
                                   installed_base=1, bindings=1, sync_state=1, audit_rows=1,
                                   internal_id=person)
    assert snapshot(store, "shop_a") == {
        "customers": ["4712"], "orders": ["O3", "O4"], "installed": ["M2"], "lines": 4,
        "bindings": ["4712"]}
    with store.session() as session:  # no orphaned lines anywhere (SQLite included)
        orphans = session.scalar(select(func.count()).select_from(OrderLineRecord).where(
            OrderLineRecord.order_id.not_in(select(OrderRecord.id))))
        assert orphans == 0
        assert session.scalar(select(func.count()).select_from(SyncTargetState)) == 0
        assert session.scalar(select(func.count()).select_from(SyncChangeRecord)) == 0
        # Other connections keep their rows and bindings, the ERP its record of the person.
        assert resolve_internal_id(session, "shop_b", "customer", "4711") == person
        assert resolve_internal_id(session, "erp", "customer", "10001") == person
    assert snapshot(store, "shop_b") == before_b
    assert snapshot(store, "erp") == before_erp


def test_tombstone_keeps_only_the_hash(store: Store) -> None:
    person = seed(store)
    with store.session() as session:
        erase_customer(session, "shop_a", "4711", reason="customer_redact")
    with store.session() as session:
        rows = session.scalars(select(ErasedCustomer)).all()
        assert len(rows) == 1
        row = rows[0]
        assert row.connection == "shop_a"
        assert row.external_id_hash == hashlib.sha256(b"4711").hexdigest() \
            == external_id_hash("4711")
        assert row.internal_id == person and row.reason == "customer_redact"
        assert row.erased_at is not None
        assert "4711" not in (row.external_id_hash, row.internal_id, row.reason)
        assert is_erased(session, "shop_a", "4711")
        assert not is_erased(session, "shop_b", "4711")
        assert not is_erased(session, "shop_a", "4712")
        assert erased_external_id_hashes(session, "shop_a") == {external_id_hash("4711")}
        assert erased_external_id_hashes(session, "shop_b") == set()
        assert erased_internal_ids(session, "shop_a") == {person}
        assert erased_internal_ids(session, "shop_b") == set()


def test_erasing_twice_is_harmless(store: Store) -> None:
    person = seed(store)
    with store.session() as session:
        first = erase_customer(session, "shop_a", "4711", reason="customer_redact")
    with store.session() as session:
        erased_at = session.scalars(select(ErasedCustomer.erased_at)).one()
    with store.session() as session:
        second = erase_customer(session, "shop_a", "4711", reason="operator_request")
    assert first.deleted > 0
    assert second == ErasureResult(connection="shop_a", internal_id=person)
    assert second.deleted == 0
    with store.session() as session:
        row = session.scalars(select(ErasedCustomer)).one()
        assert (row.reason, row.erased_at, row.internal_id) == (
            "customer_redact", erased_at, person)


def test_unknown_customer_still_gets_a_tombstone(store: Store) -> None:
    with store.session() as session:
        result = erase_customer(session, "shop_a", "999")
    assert result.deleted == 0 and result.internal_id is None
    with store.session() as session:
        assert is_erased(session, "shop_a", "999")
        assert erased_internal_ids(session, "shop_a") == set()


def test_listed_orders_are_erased_too(store: Store) -> None:
    seed(store)
    with store.session() as session:  # e.g. Shopify's orders_to_redact: a guest order
        result = erase_customer(session, "shop_a", "4711", order_ids=["O4"])
    assert result.orders == 3
    assert snapshot(store, "shop_a")["orders"] == ["O3"]


def test_the_tombstone_keeps_the_emails_hash_from_the_request_or_the_mirror(
        store: Store) -> None:
    from shoploop.store import email_hash, erased_email_hashes

    seed(store)
    with store.session() as session:
        erase_customer(session, "shop_a", "4711")  # by hand: the mirror knows the e-mail
        erase_customer(session, "shop_b", "4711", email=" Jane.Other@Example.com ")
        erase_customer(session, "shop_b", "9999")  # never mirrored, no e-mail given
    with store.session() as session:
        assert erased_email_hashes(session, "shop_a") == {email_hash("jane@example.com")}
        assert erased_email_hashes(session, "shop_b") == {email_hash("jane.other@example.com")}
        assert email_hash("jane@example.com") == hashlib.sha256(b"jane@example.com").hexdigest()
        # a repeated erasure that now knows the e-mail completes an older tombstone
        erase_customer(session, "shop_b", "9999", email="late@example.com")
    with store.session() as session:
        assert email_hash("late@example.com") in erased_email_hashes(session, "shop_b")
