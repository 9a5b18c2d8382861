"""Attribution and the report on SQLite and PostgreSQL: the window's edges, refunds, an order
with no exposure, an ERP order of a product shown in the shop, currencies kept apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from shoploop.experiments import ExperimentSettings, experiment_report, line_net
from shoploop.hooks import LineItem, Order, Product
from shoploop.store import (
    Store,
    bind_identity,
    record_assignment,
    record_web_events,
    upsert_orders,
    upsert_products,
)

T0 = datetime(2026, 12, 1, 12, tzinfo=UTC)
WEEK = timedelta(days=7)
SETTINGS = ExperimentSettings.model_validate({
    "unit": "customer", "placements": ["product_page"], "baseline_rate": 0.05,
    "variants": [{"name": "control", "share": 0.5}, {"name": "k8", "share": 0.5, "k": 8}]})


def _order(oid: str, customer: str, at: datetime, lines: list[tuple[str, str, int, str]], *,
           status: str = "paid", refunded: str = "0", currency: str = "EUR") -> Order:
    return Order(id=oid, customer_id=customer, placed_at=at, status=status,  # type: ignore[arg-type]
                 currency=currency, refunded_total=Decimal(refunded),
                 lines=[LineItem(product_id=pid, sku=sku, name=pid, quantity=qty,
                                 unit_price=Decimal(price)) for pid, sku, qty, price in lines])


def _shown(unit: str, variant: str, product: str, at: datetime, kind: str = "impression",
           connection: str = "shop") -> dict[str, object]:
    return {"event_id": f"{unit}-{product}-{kind}-{at:%d%H%M%S}", "type": kind,
            "connection": connection, "placement": "product_page",
            "product_external_id": product, "occurred_at": at, "experiment": "e",
            "variant": variant, "unit_key": unit}


def _seed(store: Store) -> str:
    with store.session() as session:
        person = bind_identity(session, "erp", "customer", "K-1")
        bind_identity(session, "shop", "customer", "d", person)
        upsert_products(session, "shop", [Product(id="p1", sku="SKU-1", name="P1",
                                                   price=Decimal(10))])
        for unit, variant in (("shop/a", "control"), ("shop/c", "control"),
                              ("shop/b", "k8"), (person, "k8"), ("shop/u", "k8")):
            record_assignment(session, experiment="e", unit_kind="customer", unit_key=unit,
                              variant=variant, customer_key=unit, at=T0 - timedelta(hours=2))
        record_web_events(session, [
            _shown("shop/a", "control", "p1", T0),
            _shown("shop/a", "control", "p1", T0 + timedelta(minutes=1), kind="click"),
            _shown("shop/b", "k8", "p1", T0),
            _shown(person, "k8", "p1", T0),
            _shown("shop/u", "k8", "p1", T0)])
        upsert_orders(session, "shop", [
            # a: before the impression, exactly at the window's end, one second after it,
            # and a product never shown
            _order("a-early", "a", T0 - timedelta(hours=1), [("p1", "SKU-1", 1, "10.00")]),
            _order("a-edge", "a", T0 + WEEK, [("p1", "SKU-1", 2, "10.00")]),
            _order("a-late", "a", T0 + WEEK + timedelta(seconds=1),
                   [("p1", "SKU-1", 1, "10.00")]),
            _order("a-other", "a", T0 + timedelta(days=1), [("p2", "SKU-2", 1, "99.00")]),
            # b: partly refunded (10 of 50: the line keeps 4/5), fully refunded, cancelled
            _order("b-part", "b", T0 + timedelta(days=1),
                   [("p1", "SKU-1", 1, "30.00"), ("p2", "SKU-2", 1, "20.00")],
                   status="partially_refunded", refunded="10.00"),
            _order("b-full", "b", T0 + timedelta(days=2), [("p1", "SKU-1", 1, "30.00")],
                   status="refunded", refunded="30.00"),
            _order("b-cancel", "b", T0 + timedelta(days=2), [("p1", "SKU-1", 1, "30.00")],
                   status="cancelled"),
            # c: bought p1 but was never shown it
            _order("c-1", "c", T0 + timedelta(days=1), [("p1", "SKU-1", 1, "10.00")]),
            # u: in another currency
            _order("u-1", "u", T0 + timedelta(days=1), [("p1", "SKU-1", 1, "12.00")],
                   currency="USD"),
        ])
        # the bound person ordered p1 through the ERP (its own product id, the same SKU)
        upsert_orders(session, "erp", [_order("E-1", "K-1", T0 + timedelta(days=3),
                                              [("ERP-0001", "SKU-1", 3, "9.00")])])
    return person


def test_attribution_window_refunds_and_no_exposure(store: Store) -> None:
    _seed(store)
    with store.session() as session:
        report = experiment_report(session, "e", SETTINGS, T0 + timedelta(days=30))
    control, treatment = report["arms"]
    assert (control["variant"], control["units"], treatment["units"]) == ("control", 2, 3)
    # a: only the order exactly 7 days after the impression; c: no exposure, nothing
    assert control["attributed_lines"] == 1 and control["converted_units"] == 1
    assert control["revenue"] == {"EUR": "20.00"}
    assert (control["impressions"], control["clicks"], control["clicked_units"]) == (1, 1, 1)
    assert control["ctr"] == control["conversion"] == pytest.approx(0.5)
    # b: 30 * 40/50 = 24 kept, the refunded order adds 0 and does not convert, the
    # cancelled one is not revenue; the ERP order 3 * 9 = 27 counts through the SKU
    assert treatment["revenue"] == {"EUR": "51.00", "USD": "12.00"}
    assert treatment["converted_units"] == 3
    assert treatment["revenue_per_exposure"]["EUR"] == pytest.approx(17.0)
    # Every purchase within 7 days of the first exposure (T0 - 2 h), shown or not: a's
    # early order and the product never shown count, its edge order (2 h late) does not; c's
    # counts; b keeps 4/5 of 50.00
    assert (control["ordering_units"], control["order_revenue"]) == (2, {"EUR": "119.00"})
    assert (treatment["ordering_units"], treatment["order_revenue"]) == (
        3, {"EUR": "67.00", "USD": "12.00"})
    metrics = {(m["metric"], m.get("currency")) for m in report["comparisons"][0]["metrics"]}
    assert metrics == {("ctr", None), ("conversion", None), ("order_conversion", None),
                       *((m, c) for m in ("revenue_per_exposure", "order_revenue_per_exposure")
                         for c in ("EUR", "USD"))}
    assert report["main_currency"] == "EUR"
    # 5 units against a plan of thousands: figures, no winner
    assert report["verdicts"] == [{"variant": "k8", "status": "not_yet_at_horizon",
                                   "winner": None, "message": report["verdicts"][0]["message"]}]
    assert "no winner" in report["verdicts"][0]["message"]


def test_the_window_is_configurable(store: Store) -> None:
    _seed(store)
    longer = SETTINGS.model_copy(update={"attribution_window_days": 8})
    with store.session() as session:
        report = experiment_report(session, "e", longer, T0 + timedelta(days=30))
    assert report["arms"][0]["revenue"] == {"EUR": "30.00"}  # a-late is inside 8 days


@pytest.mark.parametrize(("status", "refunded", "net"), [
    ("paid", "0", "30.00"), ("partially_refunded", "10", "24.00"),
    ("partially_refunded", "80", "0.00"), ("refunded", "50", "0"), ("pending", "0", "0"),
    ("cancelled", "0", "0")])
def test_line_net(status: str, refunded: str, net: str) -> None:
    assert line_net(Decimal(30), Decimal(50), Decimal(refunded), status) == Decimal(net)
