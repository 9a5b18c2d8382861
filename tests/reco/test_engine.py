"""The engine over real store data (SQLite and PostgreSQL): pool, build, lookups."""

from __future__ import annotations

from typing import Any

import pytest

from shoploop.hooks import HookContext, RecommendationRequest
from shoploop.reco import (
    ModelMissingError,
    RecoSettings,
    UnknownConnectionError,
    load_model,
    load_pool,
    rank,
    recommend,
)
from shoploop.store import Store, reco_model_versions


def ids(recommendations: list[Any]) -> list[str]:
    return [r.product_id for r in recommendations]


def test_pool_unifies_products_customers_and_orders(store: Store, kit: Any) -> None:
    kit.b2b_merchant(store)
    pool = load_pool(store, RecoSettings())
    report = pool.report
    assert report.products == 6 and report.products_by_connection == {"erp": 6, "shop": 6}
    assert report.unmatched == report.unkeyed == report.ambiguous == 0
    assert report.orders == 7 + 2 + 12 + 20 + 3
    assert report.orders_by_connection == {"erp": 41, "shop": 3}
    assert report.guest_orders == 1 and report.customers_unified == 1
    person = pool.customer_ids.index("person-1")
    assert pool.customer_members[person] == {"erp": "K-1001", "shop": "9001"}
    # One product, known by both connections' ids.
    filters = pool.product_keys.index("FILTER-10")
    assert pool.product_members[filters] == {"erp": ["FILTER-10"], "shop": ["104"]}


def test_pool_reports_unmatched_unkeyed_and_ambiguous_products(store: Store, kit: Any) -> None:
    from decimal import Decimal

    from shoploop.hooks import Product

    shop = [*kit.shop_products(),
            Product(id="900", sku=None, name="Gift card", price=Decimal(25)),
            Product(id="901", sku="ESP-PRO-2", name="Espresso machine Pro 2 (B-stock)",
                    price=Decimal(799))]
    erp = [*kit.erp_products(["ESP-PRO-2", "DESC-500"]),
           Product(id="SPARE-GASKET", sku="SPARE-GASKET", name="Gasket", price=Decimal(3))]
    orders = kit.orders("shop", kit.shop_ids)
    orders.add("1", 3, ["ESP-PRO-2"])
    orders.orders[-1].lines[0].product_id = "901"  # the B-stock listing
    orders.add("2", 3, ["DESC-500"], by_sku_only=True)  # a line with only the SKU
    kit.seed(store, products={"shop": shop, "erp": erp}, orders=[orders])
    report = load_pool(store, RecoSettings()).report
    assert report.unkeyed == 1 and report.unkeyed_examples == [
        {"connection": "shop", "product_id": "900"}]
    assert report.ambiguous == 1 and report.ambiguous_examples == [
        {"connection": "shop", "key": "ESP-PRO-2", "product_ids": ["100", "901"]}]
    unmatched = {(e["connection"], e["key"]) for e in report.unmatched_examples}
    assert unmatched == {("shop", "MILK-JUG"), ("shop", "GRINDER-S"), ("shop", "FILTER-10"),
                         ("shop", "BEANS-1KG"), ("erp", "SPARE-GASKET")}
    assert report.unmatched == 5
    assert report.lines == 2 and report.lines_unmatched == 0  # both lines found their product


def test_pool_reports_order_lines_of_unknown_products(store: Any, kit: Any) -> None:
    from decimal import Decimal

    from shoploop.hooks import LineItem

    orders = kit.orders("shop", kit.shop_ids)
    orders.add("1", 3, ["DESC-500"])
    orders.orders[-1].lines.append(LineItem(product_id="999", sku="GONE", name="Old kettle",
                                            quantity=1, unit_price=Decimal(5)))
    orders.orders[-1].lines.append(LineItem(product_id=None, sku=None, name="Custom engraving",
                                            quantity=1, unit_price=Decimal(5)))
    orders.add("1", 2, ["DESC-500"], status="cancelled")  # not a purchase: not read
    kit.seed(store, products={"shop": kit.shop_products()}, orders=[orders])
    pool = load_pool(store, RecoSettings())
    assert pool.report.lines == 3 and pool.report.lines_unmatched == 2
    assert pool.report.lines_unmatched_examples == [
        {"connection": "shop", "product_id": "999", "sku": "GONE"},
        {"connection": "shop", "product_id": None, "sku": None}]
    assert pool.n_orders == 1 and pool.line_product.tolist() == [
        pool.product_keys.index("DESC-500")]


def test_product_key_can_be_an_attribute(store: Store, kit: Any) -> None:
    from decimal import Decimal

    from shoploop.hooks import Product

    shop = [Product(id="7", sku="web-7", name="Pump", price=Decimal(1),
                    attributes={"item_no": "P-100"})]
    erp = [Product(id="P-100", sku="P-100", name="PUMP", price=Decimal(1))]
    kit.seed(store, products={"shop": shop, "erp": erp})
    by_sku = load_pool(store, RecoSettings()).report
    assert by_sku.products == 2 and by_sku.unmatched == 2
    by_item = load_pool(store, RecoSettings(product_key="attributes.item_no"))
    # The ERP's products have no such attribute: unkeyed, on their own.
    assert by_item.report.unkeyed == 1
    mixed = load_pool(store, RecoSettings(product_key="id"))
    assert mixed.report.products == 2


def test_b2b_erp_history_drives_the_shops_recommendations(
        store: Store, kit: Any, host: Any, build: Any) -> None:
    kit.b2b_merchant(store)
    result = build(store, min_support=3)
    assert result.version == 1
    model = load_model(store)
    assert model.version == 1 and model.connections == ["erp", "shop"]
    context = HookContext(now=kit.now)

    # The shop customer 9001 never bought filters in the shop; the ERP says K-1001 — the same
    # person — orders them every 30 days, last 28 days ago: due now.
    due = recommend(host, model, RecommendationRequest(connection="shop", customer_id="9001"),
                    context=context)
    # Filters first (due), then the beans they bought in two orders (no interval to trust:
    # their frequency is the reason).
    assert ids(due) == [kit.shop_ids["FILTER-10"], kit.shop_ids["BEANS-1KG"]]
    refill, beans = due
    assert refill.kind == "replenishment" and refill.strategy == "buy_again"
    assert refill.evidence["due"] is True and beans.evidence["due"] is False
    assert 0 < beans.score < refill.score <= 1
    assert beans.reason.startswith("You bought this in 2 of your ")
    assert refill.reason == ("You order this about every 30 days; last order 28 days ago "
                             "(7 orders)")
    assert refill.reasons["de"] == ("Sie bestellen das etwa alle 30 Tage; letzte Bestellung "
                                    "vor 28 Tagen (7 Bestellungen)")
    assert refill.evidence["strategies"]["buy_again"]["evidence"]["median_interval_days"] == 30
    # Beans: two orders are no interval to trust. In the ERP's ids, the same answer.
    erp_due = recommend(host, model, RecommendationRequest(connection="erp",
                                                          customer_id="K-1001"),
                        context=context)
    assert ids(erp_due) == ["FILTER-10", "BEANS-1KG"]

    # Machines go out with descaler in the ERP's orders: the shop's machine page says so.
    page = recommend(host, model, RecommendationRequest(
        connection="shop", product_id=kit.shop_ids["ESP-PRO-2"]), context=context)
    assert ids(page)[0] == kit.shop_ids["DESC-500"]
    descaler = page[0]
    assert descaler.kind == "complementary" and descaler.strategy == "bought_together"
    # 12 ERP orders + 1 shop order hold the machine; 12 of them the descaler.
    assert descaler.reason == ("Bought together with Espresso machine Pro 2 in 92 % of the "
                               "orders with it (12 of 13)")
    assert descaler.reasons["de"].startswith("In 92 % der Bestellungen mit Espresso machine")
    assert 0 < descaler.score < 1
    assert kit.shop_ids["GRINDER-S"] not in ids(page)  # never bought with a machine


def test_request_time_decides_what_is_due(store: Store, kit: Any, host: Any,
                                          build: Any) -> None:
    from datetime import timedelta

    kit.b2b_merchant(store)
    build(store)
    model = load_model(store)
    request = RecommendationRequest(connection="shop", customer_id="9001")

    def due_at(days: int) -> list[str]:
        found = recommend(host, model, request,
                          context=HookContext(now=kit.now + timedelta(days=days)))
        return [r.product_id for r in found if r.evidence["due"]]

    assert due_at(-10) == []  # 18 days after the last order: not due yet (due from 24)
    assert due_at(-4) == [kit.shop_ids["FILTER-10"]]
    assert due_at(30) == [kit.shop_ids["FILTER-10"]]  # overdue is still due
    assert due_at(70) == []  # 98 days without an order: more than 3 intervals, lapsed
    # Not due, the filters are still proposed by their frequency, saying so.
    early = recommend(host, model, request, context=HookContext(now=kit.now - timedelta(days=10)))
    filters = {r.product_id: r for r in early}[kit.shop_ids["FILTER-10"]]
    assert filters.reason == "You bought this in 7 of your 10 orders; last order 18 days ago"


def test_cart_merges_anchors_and_never_recommends_the_cart(
        store: Store, kit: Any, host: Any, build: Any) -> None:
    kit.b2b_merchant(store)
    build(store)
    model = load_model(store)
    cart = [kit.shop_ids["ESP-PRO-2"], kit.shop_ids["DESC-500"]]
    ranked = rank(host, model, RecommendationRequest(connection="shop", cart=cart,
                                                     placement="cart", k=3))
    assert not set(cart) & set(ids(ranked.recommendations))
    assert ids(ranked.recommendations) == [kit.shop_ids["MILK-JUG"]]
    # The milk jug is bought with both; its evidence names the anchor that scored best.
    assert ranked.recommendations[0].evidence["anchor"] in cart


def test_rules_patch_the_built_in_strategies(store: Store, kit: Any, host: Any,
                                             build: Any) -> None:
    from shoploop.hooks import RecommendationPatch, hookimpl

    class NoDescaler:
        @hookimpl
        def recommendation_patches(self, candidates, products):
            return [RecommendationPatch(product_id=c.product_id, action="veto",
                                        reason="descaler campaign is over")
                    for c in candidates if products.get(c.product_id).sku == "DESC-500"]

    kit.b2b_merchant(store)
    build(store)
    host.register(NoDescaler(), name="no_descaler")
    model = load_model(store)
    ranked = rank(host, model, RecommendationRequest(connection="shop",
                                                     product_id=kit.shop_ids["ESP-PRO-2"]))
    assert kit.shop_ids["DESC-500"] not in ids(ranked.recommendations)
    assert ranked.vetoed == {kit.shop_ids["DESC-500"]: ["no_descaler: descaler campaign is "
                                                        "over"]}


def test_versions_are_kept_and_errors_name_the_remedy(store: Store, kit: Any, host: Any,
                                                      build: Any) -> None:
    with pytest.raises(ModelMissingError) as missing:
        load_model(store)
    assert "shoploop reco build" in missing.value.remedy
    kit.b2b_merchant(store)
    for _ in range(4):
        last = build(store, keep_models=2)
    assert last.version == 4
    with store.session() as session:
        assert [v for v, _, _ in reco_model_versions(session)] == [4, 3]
    assert load_model(store, version=3).version == 3
    with pytest.raises(ModelMissingError):
        load_model(store, version=1)
    with pytest.raises(UnknownConnectionError) as unknown:
        recommend(host, load_model(store), RecommendationRequest(connection="woo",
                                                                 product_id="1"))
    assert "'woo'" in str(unknown.value) and "erp, shop" in str(unknown.value)


def test_model_round_trips_through_its_blob(store: Store, kit: Any, build: Any) -> None:
    import numpy as np

    kit.b2b_merchant(store)
    built = build(store).model
    loaded = load_model(store)
    assert loaded.product_keys == built.product_keys
    assert loaded.customer_members == built.customer_members
    assert loaded.built_at == kit.now
    for name in ("indptr", "partner", "llr", "together", "orders_with"):
        assert np.array_equal(getattr(loaded.bought_together, name),
                              getattr(built.bought_together, name))
    assert loaded.summary["pool"]["orders"] == 44
    assert loaded.summary["strategies"] == ["bought_together", "buy_again"]


def test_a_disabled_strategy_does_not_answer(store: Store, kit: Any, build: Any) -> None:
    from shoploop import load_plugins

    kit.b2b_merchant(store)
    build(store)
    model = load_model(store)
    only_pairs = load_plugins(strict=True, environ={"SHOPLOOP_DISABLE_PLUGINS": "buy_again",
                                                    "SHOPLOOP_LOAD_PLUGINS":
                                                        "bought_together,buy_again"})
    request = RecommendationRequest(connection="shop", customer_id="9001")
    context = HookContext(now=kit.now)
    assert recommend(only_pairs, model, request, context=context) == []
    page = RecommendationRequest(connection="shop", product_id=kit.shop_ids["ESP-PRO-2"])
    assert {r.strategy for r in recommend(only_pairs, model, page)} == {"bought_together"}
