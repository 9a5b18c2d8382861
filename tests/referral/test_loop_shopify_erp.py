"""The loop with the seed's setup over real sockets: the friend's code created as a Shopify
discount code (GraphQL emulator), the advocate's gift booked in the ERP as a free-of-charge
order (SOAP emulator) for the advocate's ERP customer found through the identity bindings."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

import shoploop
from shoploop.hooks import Customer, EmulatorOptions, HookContext, LineItem, Order
from shoploop.plugins.erp_soap import ErpSoapConfig, connector
from shoploop.plugins.erp_soap.emulator import ErpEmulator
from shoploop.plugins.shopify import ShopifyConfig, ShopifyConnector
from shoploop.plugins.shopify.emulator import SECRET, TOKEN, ShopifyEmulator
from shoploop.referral import ReferralSettings, builtin, record_answer, run_referrals, smtp
from shoploop.store import Store, bind_identity, upsert_customers, upsert_orders

LINK_SECRET = {"SHOPLOOP_REFERRAL_SECRET": "another-secret-for-links-0123456789"}
T0 = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
ANNA = Customer(id="gid-anna", email="anna@example.org", first_name="Anna")
ANNA_ERP = Customer(id="K-1001", email="anna@example.org", first_name="Anna",
                    customer_number="K-1001")
BEN = Customer(id="gid-ben", email="ben@example.net", first_name="Ben")


def _order(id_: str, customer: Customer, placed: datetime, codes: tuple[str, ...] = ()
           ) -> Order:
    return Order(id=id_, customer_id=customer.id, email=customer.email, placed_at=placed,
                 discount_codes=list(codes),
                 lines=[LineItem(name="Kaffeemühle", quantity=1, unit_price=Decimal("89"))])


@pytest.fixture
def systems(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("T_SHOPIFY_TOKEN", TOKEN)
    monkeypatch.setenv("T_SHOPIFY_SECRET", SECRET)
    shop_emulator = ShopifyEmulator(EmulatorOptions(customers=0)).start()
    erp_emulator = ErpEmulator(EmulatorOptions(customers=0)).start()
    erp_emulator.load(customers=[ANNA_ERP])
    monkeypatch.setenv("T_ERP_PASSWORD", erp_emulator.password)
    shop = ShopifyConnector("shop", ShopifyConfig.model_validate({
        "type": "shopify", "shop": f"127.0.0.1:{shop_emulator.port}", "scheme": "http",
        "access_token_env": "T_SHOPIFY_TOKEN", "client_secret_env": "T_SHOPIFY_SECRET",
        "timeout": 10.0}))
    erp = connector("erp", ErpSoapConfig.model_validate({
        "type": "erp_soap", "wsdl": erp_emulator.wsdl_url, "preset": "nav_page",
        "auth": "basic", "username": erp_emulator.username, "password_env": "T_ERP_PASSWORD",
        "operation_timeout": 10, "timeout": 10, "retries": 2}))
    yield shop, erp, erp_emulator, shop_emulator
    shop.close()
    erp.close()
    shop_emulator.stop()
    erp_emulator.stop()


def test_shopify_code_and_erp_gift_order(tmp_path: Any, systems: Any, inbox: Any,
                                         smtp_port: int) -> None:
    shop, erp, erp_emulator, shop_emulator = systems
    store = Store(f"sqlite:///{tmp_path / 'loop.db'}")
    store.upgrade()
    raw = {"referral": {"shops": ["shop"], "smtp": {"port": smtp_port}, "language": "de",
                        "reward": {"kind": "gift_order", "connection": "erp",
                                   "product_id": "FERNGLAS-10x42", "amount": None}}}
    settings = ReferralSettings.model_validate(raw["referral"])
    host = shoploop.new_host(strict=True)
    host.register(builtin, name="referral")
    host.register(smtp, name="referral_smtp")

    def run(now: datetime) -> dict[str, int]:
        context = HookContext(config=raw, connectors={"shop": shop, "erp": erp}, store=store,
                              now=now)
        report = run_referrals(host, store, settings, now, context=context,
                               environ=LINK_SECRET)
        assert report.problems == [] and host.failures == []
        return report.counts

    with store.session() as session:
        upsert_customers(session, "shop", [ANNA, BEN])
        upsert_orders(session, "shop", [_order("9001", ANNA, T0)])
        # The sync's identity bindings: Anna of the shop is K-1001 in the ERP.
        internal = bind_identity(session, "shop", "customer", ANNA.id)
        bind_identity(session, "erp", "customer", ANNA_ERP.id, internal)
    run(T0 + timedelta(days=30))
    survey = inbox.wait_for(1)[0]
    assert survey["Subject"] == "Wie zufrieden sind Sie mit Ihrer Bestellung?"
    token = re.search(r"/survey/([^\s?]+)", survey.get_body(("plain",)).get_content())[1]
    record_answer(store, settings, token, score=5, now=T0 + timedelta(days=31),
                  environ=LINK_SECRET)
    assert run(T0 + timedelta(days=31))["codes_created"] == 1
    code = re.search(r"FRIEND-[A-Z0-9]{8}",
                     inbox.wait_for(2)[1].get_body(("plain",)).get_content())[0]
    assert list(shop_emulator.data.codes) == [code]  # the friend's discount code, in Shopify

    placed = T0 + timedelta(days=35)
    with store.session() as session:
        upsert_orders(session, "shop", [_order("9002", BEN, placed, (code,))])
    assert run(placed)["orders_attributed"] == 1
    counts = run(placed + timedelta(days=15))
    assert (counts["rewards_issued"], counts["advocates_thanked"]) == (1, 1)
    gifts = [row for _, row in erp_emulator.tables["SalesOrder"].rows()]
    assert len(gifts) == 1
    assert "K-1001" in str(gifts[0]) and "FERNGLAS-10x42" in str(gifts[0])
    run(placed + timedelta(days=16))
    assert len(list(erp_emulator.tables["SalesOrder"].rows())) == 1  # exactly once
    assert len(shop_emulator.data.codes) == 1
    store.dispose()
