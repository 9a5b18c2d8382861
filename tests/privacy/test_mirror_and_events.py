"""The mirror never re-imports an erased customer; redact webhooks erase through the store."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from shoploop.hooks import (
    Cursor,
    Customer,
    Event,
    InstalledEquipment,
    LineItem,
    Order,
    Page,
    WebhookPayloadError,
)
from shoploop.jobs import mirror_stream
from shoploop.plugins.shopify._webhooks import parse, sign
from shoploop.privacy import handle_privacy_event
from shoploop.store import (
    CustomerRecord,
    InstalledBaseRecord,
    OrderRecord,
    Store,
    bind_identity,
    erase_customer,
    is_erased,
    load_cursor,
    resolve_internal_id,
)

T0 = datetime(2025, 3, 1, tzinfo=UTC)


class FakeConnector:
    """Serves fixed lists, two items per page, with an offset cursor."""

    def __init__(self, **streams: list[Any]) -> None:
        self.streams = streams

    def _read(self, stream: str, cursor: Cursor | None) -> Page[Any]:
        offset = int(cursor.position["offset"]) if cursor else 0
        items = self.streams[stream][offset:offset + 2]
        end = offset + len(items)
        return Page(items=items, cursor=Cursor(stream=stream, position={"offset": end}),
                    has_more=end < len(self.streams[stream]))

    def read_customers(self, cursor: Cursor | None = None) -> Page[Customer]:
        return self._read("customers", cursor)

    def read_orders(self, cursor: Cursor | None = None) -> Page[Order]:
        return self._read("orders", cursor)

    def read_installed_base(self, cursor: Cursor | None = None) -> Page[InstalledEquipment]:
        return self._read("installed_base", cursor)


def shop() -> FakeConnector:
    return FakeConnector(
        customers=[Customer(id=str(i), email=f"c{i}@example.com") for i in (1, 2, 3)],
        orders=[Order(id=f"O{i}", customer_id=customer, placed_at=T0,
                      lines=[LineItem(product_id="P", quantity=1, unit_price=Decimal(5))])
                for i, customer in enumerate(["1", "2", None, "2", "3"])],
        installed_base=[InstalledEquipment(id=f"M{c}", customer_id=c, product_id="P",
                                           installed_at=date(2024, 1, 1)) for c in "123"],
    )


def mirrored(store: Store, connection: str) -> dict[str, list[str]]:
    with store.session() as session:
        return {
            "customers": sorted(session.scalars(select(CustomerRecord.external_id).where(
                CustomerRecord.connection == connection))),
            "orders": sorted(session.scalars(select(OrderRecord.external_id).where(
                OrderRecord.connection == connection))),
            "installed_base": sorted(session.scalars(select(InstalledBaseRecord.external_id)
                                     .where(InstalledBaseRecord.connection == connection))),
        }


def mirror_all(store: Store, connection: str, *, full: bool = False) -> dict[str, int]:
    erased = {}
    for stream in ("customers", "orders", "installed_base"):
        result = mirror_stream(shop(), store, connection=connection, stream=stream, full=full)
        erased[stream] = result.erased
    return erased


def test_mirror_skips_erased_customers_of_that_connection(store: Store) -> None:
    mirror_all(store, "shop")
    with store.session() as session:
        erase_customer(session, "shop", "2")
    assert mirrored(store, "shop") == {
        "customers": ["1", "3"], "orders": ["O0", "O2", "O4"], "installed_base": ["M1", "M3"]}

    # A full re-read delivers customer 2 again: it stays erased; others are unaffected.
    assert mirror_all(store, "shop", full=True) == {
        "customers": 1, "orders": 2, "installed_base": 1}
    assert mirror_all(store, "other") == {"customers": 0, "orders": 0, "installed_base": 0}
    assert mirrored(store, "shop") == {
        "customers": ["1", "3"], "orders": ["O0", "O2", "O4"], "installed_base": ["M1", "M3"]}
    assert mirrored(store, "other")["customers"] == ["1", "2", "3"]
    with store.session() as session:  # the cursor still advanced past the dropped items
        assert load_cursor(session, "shop", "customers") == Cursor(
            stream="customers", position={"offset": 3})


def test_a_customer_erased_while_an_import_runs_is_not_imported_by_a_later_page(
        store: Store) -> None:
    """The redact webhook arrives between two pages of a running import: the later page that
    still carries the customer (and its orders) drops them."""
    connector = shop()
    read = connector._read

    def read_then_erase(stream: str, cursor: Cursor | None) -> Page[Any]:
        page = read(stream, cursor)
        if cursor is None:  # after the first page was served
            with store.session() as session:
                erase_customer(session, "shop", "3")
        return page

    connector._read = read_then_erase  # type: ignore[method-assign]
    customers = mirror_stream(connector, store, connection="shop", stream="customers")
    orders = mirror_stream(connector, store, connection="shop", stream="orders")
    assert (customers.erased, orders.erased) == (1, 1)
    assert mirrored(store, "shop")["customers"] == ["1", "2"]
    assert mirrored(store, "shop")["orders"] == ["O0", "O1", "O2", "O3"]


def redact_event(connection: str, payload: dict[str, Any]) -> Event:
    """A customers/redact delivery as Shopify sends it, through the adapter's parser."""
    body = json.dumps(payload).encode()
    headers = {"X-Shopify-Topic": "customers/redact",
               "X-Shopify-Hmac-Sha256": sign(body, "secret"),
               "X-Shopify-Shop-Domain": "shop-a.myshopify.com"}
    return parse(headers, body, "secret", connection=connection)


def test_shopify_redact_event_erases_the_customer(store: Store) -> None:
    mirror_all(store, "shop")
    mirror_all(store, "other")
    with store.session() as session:
        person = bind_identity(session, "shop", "customer", "2")
    event = redact_event("shop", {
        "shop_id": 954889, "shop_domain": "shop-a.myshopify.com",
        "customer": {"id": 2, "email": "c2@example.com", "phone": "555-625-1199"},
        "orders_to_redact": [1, 3],
    })
    assert event.type == "privacy.customer_redact"
    result = handle_privacy_event(store, event)
    assert result is not None
    assert (result.customers, result.orders, result.installed_base, result.bindings,
            result.internal_id) == (1, 2, 1, 1, person)
    assert mirrored(store, "shop") == {
        "customers": ["1", "3"], "orders": ["O0", "O2", "O4"], "installed_base": ["M1", "M3"]}
    assert mirrored(store, "other")["customers"] == ["1", "2", "3"]
    with store.session() as session:
        assert is_erased(session, "shop", "2")
        assert resolve_internal_id(session, "shop", "customer", "2") is None
    again = handle_privacy_event(store, event)  # a repeated delivery
    assert again is not None and again.deleted == 0


def test_other_events_are_not_handled(store: Store) -> None:
    event = Event(type="order.paid", connection="shop", dedupe_key="k",
                  payload={"customer": {"id": 2}})
    assert handle_privacy_event(store, event) is None
    with store.session() as session:
        assert not is_erased(session, "shop", "2")


def test_redact_without_customer_id_is_a_payload_error(store: Store) -> None:
    event = Event(type="privacy.customer_redact", connection="shop", dedupe_key="k",
                  payload={"customer": {"email": "x@example.com"}})
    with pytest.raises(WebhookPayloadError, match="no customer id"):
        handle_privacy_event(store, event)
