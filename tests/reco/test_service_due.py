"""*Spare parts and services due*: the ERP's installed base drives what a business customer is
offered in the shop — over real store data (SQLite and PostgreSQL), for any day (hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shoploop import load_plugins
from shoploop._plugins import PluginHost
from shoploop.hooks import HookContext, InstalledEquipment, Product, RecommendationRequest
from shoploop.reco import RecoSettings, build_model, load_model, rank
from shoploop.store import Store, bind_identity, upsert_installed_base, upsert_products

STRATEGIES = "bought_together,buy_again,upsell,popular_in_segment,service_due"


@pytest.fixture
def strategies() -> PluginHost:
    host = load_plugins(strict=True, environ={"SHOPLOOP_LOAD_PLUGINS": STRATEGIES})
    assert "service_due" in host.plugin_names()
    return host


def equipment(id: str, customer: str, product: str, installed_days_ago: int, *,
              interval: int | None, serviced_days_ago: int | None = None,
              today: date) -> InstalledEquipment:
    return InstalledEquipment(
        id=id, customer_id=customer, product_id=product, serial_number=f"SN-{id}",
        installed_at=today - timedelta(days=installed_days_ago), service_interval_days=interval,
        last_service_at=None if serviced_days_ago is None else
        today - timedelta(days=serviced_days_ago))


def machine_shop(store: Store, kit: Any) -> None:
    """The B2B merchant; the shop sells a pump and a maintenance service that fit the espresso
    machine (by its SKU and by its shop id) and a gasket for the grinder; the ERP's installed
    base: K-1001 (shop 9001) installed a machine 335 days ago (interval 365 days, never
    serviced) and a grinder 100 days ago; K-9000, a new customer with a shop account 9100,
    had their machine serviced 200 days ago (interval 180); K-2000's machine names no interval
    (the machine product's attribute gives one) and K-2001's is long gone (1200 days)."""
    kit.b2b_merchant(store)
    today = kit.now.date()
    machine = kit.shop_ids["ESP-PRO-2"]
    with store.session() as session:
        upsert_products(session, "shop", [
            Product(id="300", sku="PUMP-EP2", name="Pump for Espresso machine Pro 2",
                    price=Decimal("89.00"), category="spare_parts",
                    attributes={"fits": ["ESP-PRO-2"]}),
            Product(id="301", sku="SRV-MAINT", name="Maintenance service",
                    price=Decimal("149.00"), category="services",
                    attributes={"fits": [machine]}),
            Product(id="302", sku="GASKET-G", name="Gasket for Grinder S",
                    price=Decimal("4.90"), category="spare_parts",
                    attributes={"fits": ["GRINDER-S"]}),
        ])
        upsert_products(session, "erp", [
            p.model_copy(update={"attributes": {"service_interval_days": 90}})
            for p in kit.erp_products(["ESP-PRO-2"])])
        upsert_installed_base(session, "erp", [
            equipment("E1", "K-1001", "ESP-PRO-2", 335, interval=365, today=today),
            equipment("E2", "K-1001", "GRINDER-S", 100, interval=365, today=today),
            equipment("E3", "K-9000", "ESP-PRO-2", 700, interval=180, serviced_days_ago=200,
                      today=today),
            equipment("E4", "K-2000", "ESP-PRO-2", 95, interval=None, today=today),
            equipment("E5", "K-2001", "ESP-PRO-2", 1200, interval=365, today=today),
        ])
        bind_identity(session, "erp", "customer", "K-9000", "person-9")
        bind_identity(session, "shop", "customer", "9100", "person-9")
        bind_identity(session, "shop", "customer", "9200", "person-2000")
        bind_identity(session, "erp", "customer", "K-2000", "person-2000")


def due(host: PluginHost, model: Any, customer: str, context: HookContext) -> list[Any]:
    ranked = rank(host, model, RecommendationRequest(connection="shop", customer_id=customer),
                  context=context)
    return [r for r in ranked.recommendations if r.strategy == "service_due"]


def test_the_installed_base_brings_the_parts_and_services_due(store: Store, kit: Any,
                                                              strategies: PluginHost) -> None:
    machine_shop(store, kit)
    build_model(strategies, store, RecoSettings(), lambda: kit.now)
    model = load_model(store)
    now = HookContext(now=kit.now)
    found = due(strategies, model, "9001", now)
    # The machine is due (335 of 365 days ≥ 90 %); the grinder (100 of 365) is not.
    assert [(r.product_id, r.kind) for r in found] == [("300", "spare_part"),
                                                       ("301", "service")]
    for r in found:
        assert r.reason == "Espresso machine Pro 2 installed 11 months ago, service interval " \
                           "12 months"
        assert r.reason_in("de") == ("Espresso machine Pro 2 vor 11 Monaten installiert, "
                                     "Wartungsintervall 12 Monate")
        assert r.score == pytest.approx(0.9 * 335 / 365)
        assert r.evidence["days_since"] == 335 and r.evidence["since"] == "install"
    # A new customer: the shop account without orders has the ERP customer's equipment.
    [pump, service] = due(strategies, model, "9100", now)
    assert pump.reason == ("Espresso machine Pro 2 last serviced 7 months ago, service "
                           "interval 6 months")
    assert pump.reason_in("de") == ("Espresso machine Pro 2 vor 7 Monaten zuletzt gewartet, "
                                    "Wartungsintervall 6 Monate")
    assert pump.score == service.score == pytest.approx(0.9)
    # No interval in the ERP: the machine product's own (90 days; 95 passed).
    assert [r.product_id for r in due(strategies, model, "9200", now)] == ["300", "301"]
    assert due(strategies, model, "9200", now)[0].evidence["service_interval_days"] == 90
    # A machine 1200 days without service is gone; an unknown customer has nothing.
    summary = model.summary["installed_base"]
    assert summary == {"equipment": 5, "with_interval": 5, "machines_with_parts": 2}
    assert due(strategies, model, "K-2001", now) == []
    assert due(strategies, model, "nobody", now) == []


def test_a_part_is_offered_exactly_while_its_equipment_is_due(store: Store, kit: Any,
                                                              strategies: PluginHost) -> None:
    machine_shop(store, kit)
    build_model(strategies, store, RecoSettings(), lambda: kit.now)
    model = load_model(store)

    @settings(deadline=None)  # no timing: the machine is shared
    @given(st.integers(-400, 1500))
    def offered_while_due(days: int) -> None:
        context = HookContext(now=kit.now + timedelta(days=days))
        since = 335 + days  # E1: installed 335 days before the build, interval 365
        found = {r.product_id: r for r in due(strategies, model, "9001", context)}
        grinder_since = 100 + days
        assert ("302" in found) == (0.9 * 365 <= grinder_since <= 3 * 365)
        if 0.9 * 365 <= since <= 3 * 365:
            assert found["300"].score == pytest.approx(0.9 * min(since / 365, 1.0))
            assert found["300"].evidence["days_since"] == since
        else:
            assert "300" not in found and "301" not in found

    offered_while_due()
