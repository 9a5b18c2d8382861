"""shop/redact erases one connection; customers/data_request exports one customer; a customer's
erasure clears the referral ledger's e-mails and comments."""

from __future__ import annotations

import json
import stat
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shoploop.hooks import Customer, Event, InstalledEquipment, LineItem, Order, Product
from shoploop.privacy import CUSTOMER_DATA_REQUEST, SHOP_REDACT, handle_privacy_event
from shoploop.store import (
    Store,
    add_code,
    add_invitation,
    add_referral,
    add_survey,
    bind_identity,
    customer_data,
    erase_connection,
    erase_customer,
    record_delivery,
    record_web_events,
    upsert_customers,
    upsert_installed_base,
    upsert_orders,
    upsert_products,
)
from shoploop.store._referral_schema import ReferralCodeRecord, ReferralSurveyRecord
from shoploop.store._schema import Base, SyncChangeRecord, SyncTargetState, table

T0 = datetime(2025, 3, 1, tzinfo=UTC)
MIRRORED = ("customers", "orders", "order_lines", "products", "installed_base",
            "identity_bindings", "sync_target_state", "sync_changes", "web_events",
            "webhook_deliveries")


def _order(order_id: str, customer_id: str | None) -> Order:
    return Order(id=order_id, customer_id=customer_id, placed_at=T0, lines=[
        LineItem(product_id="P1", quantity=2, unit_price=Decimal("9.90")),
        LineItem(product_id="P2", quantity=1, unit_price=Decimal("19.00"))])


def _seed(store: Store, connection: str) -> None:
    """Customer 4711 with two orders, a machine, a binding, sync state and audit, an event,
    a delivery, and a survey → invitation → code → a friend's referral."""
    with store.session() as session:
        upsert_customers(session, connection, [Customer(id="4711", email="jane@example.com"),
                                               Customer(id="4712", email="joe@example.com")])
        upsert_products(session, connection, [Product(id="P1", name="Beans", price=Decimal(9))])
        upsert_orders(session, connection, [_order("O1", "4711"), _order("O2", "4711"),
                                            _order("O3", "4712")])
        upsert_installed_base(session, connection, [InstalledEquipment(
            id="M1", customer_id="4711", product_id="P1", installed_at=date(2024, 5, 1))])
        bind_identity(session, connection, "customer", "4711")
        session.add(SyncTargetState(connection=connection, external_id="4711",
                                    sent={"tier": "gold"}, run_id="r1"))
        session.add(SyncChangeRecord(connection=connection, customer_external_id="4711",
                                     source="erp", attr_key="tier", new="gold",
                                     status="confirmed", run_id="r1"))
        record_web_events(session, [{"event_id": f"{connection}-e1", "type": "impression",
                                     "connection": connection, "placement": "cart",
                                     "product_external_id": "P1"}])
        record_delivery(session, connection=connection, dedupe_key="orders/paid:1",
                        topic="orders/paid", event_type="order.updated",
                        event={"payload": {"email": "jane@example.com"}})
        survey_id = add_survey(session, connection=connection, customer_id="4711",
                               email="jane@example.com", order_id="O1", period=1,
                               language="en", due_at=T0, now=T0, cause="test")
        assert survey_id is not None
        survey = session.get(ReferralSurveyRecord, survey_id)
        assert survey is not None
        survey.comment = "Jane here, call me on 0171 1234"
        invitation = add_invitation(session, survey=survey, now=T0, cause="test")
        add_code(session, code=f"JANE-{connection}", invitation=invitation, now=T0, cause="t")
        add_referral(session, code=f"JANE-{connection}", connection=connection,
                     order_id="O9", customer_id="4799", email="friend@example.com",
                     attributed_by="code", order_total=Decimal(50), currency="EUR",
                     placed_at=T0, now=T0, cause="test")


def _counts(store: Store, connection: str) -> dict[str, int]:
    with store.session() as session:
        found = {}
        for name in MIRRORED:
            rows = table(name)
            if name == "order_lines":
                orders = table("orders")
                query = select(func.count()).select_from(rows.join(orders)).where(
                    orders.c.connection == connection)
            else:
                query = select(func.count()).select_from(rows).where(
                    rows.c.connection == connection)
            found[name] = int(session.scalar(query) or 0)
        return found


def _ledger_emails(store: Store, connection: str) -> list[str | None]:
    with store.session() as session:
        found: list[str | None] = []
        for name in ("referral_surveys", "referral_invitations", "referral_codes", "referrals"):
            rows = table(name)
            found += list(session.scalars(select(rows.c.email).where(
                rows.c.connection == connection)))
        return found


@pytest.fixture
def seeded(store: Store) -> Store:
    _seed(store, "shop_a")
    _seed(store, "shop_b")
    return store


def test_erase_connection_deletes_that_connection_only_and_a_repeat_deletes_nothing(
        seeded: Store) -> None:
    before = _counts(seeded, "shop_b")
    assert all(before.values())  # the seed reached every table the check looks at
    with seeded.session() as session:
        first = erase_connection(session, "shop_a")
    assert _counts(seeded, "shop_a") == dict.fromkeys(MIRRORED, 0)
    assert _counts(seeded, "shop_b") == before
    assert first.deleted["customers"] == 2 and first.deleted["order_lines"] == 6
    assert first.referral_rows_scrubbed == 4
    assert _ledger_emails(seeded, "shop_a") == [None] * 4
    assert "friend@example.com" in _ledger_emails(seeded, "shop_b")
    with seeded.session() as session:
        # The ledger rows stay (exactly-once rewards, the merchant's accounting), unnamed.
        assert session.scalar(select(ReferralCodeRecord.code).where(
            ReferralCodeRecord.connection == "shop_a")) == "JANE-SHOP_A"
        again = erase_connection(session, "shop_a")
    assert again.total == 0


def test_shop_redact_keeps_the_delivery_being_processed(seeded: Store) -> None:
    with seeded.session() as session:
        own = record_delivery(session, connection="shop_a", dedupe_key="shop/redact:9",
                              topic="shop/redact", event_type=SHOP_REDACT, event={})
    assert own is not None
    event = Event(type=SHOP_REDACT, connection="shop_a", topic="shop/redact",
                  payload={"shop_id": 9, "shop_domain": "a.myshopify.com"}, dedupe_key="x")
    result = handle_privacy_event(seeded, event, keep_deliveries=[own])
    assert result is not None and not isinstance(result, Path)
    assert _counts(seeded, "shop_a")["webhook_deliveries"] == 1
    assert _counts(seeded, "shop_a")["customers"] == 0


def test_customer_erasure_clears_the_ledger_emails_and_comment_of_that_customer(
        seeded: Store) -> None:
    with seeded.session() as session:
        result = erase_customer(session, "shop_a", "4711")
        comment = session.scalar(select(ReferralSurveyRecord.comment).where(
            ReferralSurveyRecord.connection == "shop_a"))
    assert result.referral_rows == 3  # survey, invitation, code; the friend's referral stays
    assert comment is None
    assert sorted(e for e in _ledger_emails(seeded, "shop_a") if e) == ["friend@example.com"]
    with seeded.session() as session:
        friend = erase_customer(session, "shop_a", "4799")
    assert friend.referral_rows == 1
    assert _ledger_emails(seeded, "shop_a") == [None] * 4
    assert "jane@example.com" in _ledger_emails(seeded, "shop_b")


def test_customer_data_holds_what_the_store_has_of_that_customer_only(seeded: Store) -> None:
    with seeded.session() as session:
        data = customer_data(session, "shop_a", "4711")
        with_extra = customer_data(session, "shop_a", "4711", order_ids=["O3"])
        nobody = customer_data(session, "shop_a", "9999")
    assert [c["email"] for c in data["customer"]] == ["jane@example.com"]
    assert sorted(o["external_id"] for o in data["orders"]) == ["O1", "O2"]
    assert [len(o["lines"]) for o in data["orders"]] == [2, 2]
    assert Decimal(data["orders"][0]["lines"][0]["unit_price"]) == Decimal("9.90")
    assert [m["external_id"] for m in data["installed_base"]] == ["M1"]
    assert data["internal_id"] and data["sync_target_state"][0]["sent"] == {"tier": "gold"}
    assert [s["comment"] for s in data["referral"]["referral_surveys"]] == [
        "Jane here, call me on 0171 1234"]
    assert {row["connection"] for row in data["customer"] + data["orders"]} == {"shop_a"}
    assert sorted(o["external_id"] for o in with_extra["orders"]) == ["O1", "O2", "O3"]
    assert nobody["customer"] == [] and nobody["orders"] == [] and nobody["internal_id"] is None
    json.dumps(data)  # JSON-ready as it is


def test_a_data_request_writes_one_private_file_and_a_repeat_rewrites_it(
        seeded: Store, tmp_path: Path) -> None:
    event = Event(type=CUSTOMER_DATA_REQUEST, connection="shop_a",
                  topic="customers/data_request", dedupe_key="d",
                  payload={"shop_domain": "a.myshopify.com", "orders_requested": [],
                           "customer": {"id": 4711, "email": "jane@example.com"},
                           "data_request": {"id": 9999}})
    path = handle_privacy_event(seeded, event, export_dir=tmp_path / "exports")
    assert isinstance(path, Path) and path.name == "data-request-shop_a-9999.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["data_request_id"] == "9999" and document["customer_id"] == "4711"
    assert sorted(o["external_id"] for o in document["orders"]) == ["O1", "O2"]
    assert handle_privacy_event(seeded, event, export_dir=tmp_path / "exports") == path
    assert [p.name for p in (tmp_path / "exports").iterdir()] == [path.name]
    with pytest.raises(ValueError, match="export directory"):
        handle_privacy_event(seeded, event)


def test_every_table_with_a_connection_is_erased_or_deliberately_kept() -> None:
    """A new table with a ``connection`` column must be decided on: erased by shop/redact, or
    listed here with the reason it stays."""
    kept = {"erased_customers",  # hashes only: keep an erased customer erased on reinstall
            "referral_surveys", "referral_invitations", "referral_codes", "referrals",
            "referral_rewards"}  # kept unnamed (scrubbed): exactly-once and accounting
    from shoploop.store._shop_erasure import _BY_CONNECTION

    erased = {str(model.__tablename__) for model in _BY_CONNECTION} | {
        "orders", "webhook_deliveries"}
    with_connection = {name for name, rows in Base.metadata.tables.items()
                       if "connection" in rows.c}
    assert with_connection - kept == erased
