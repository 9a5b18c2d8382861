"""*Popular in the customer's segment*: the fallback for new customers — over real store data
(SQLite and PostgreSQL) with the ERP's customer attributes, and for any history
(hypothesis, against a plain counting loop)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shoploop import load_plugins
from shoploop._plugins import PluginHost
from shoploop.hooks import Customer, CustomerProfile, RecommendationRequest
from shoploop.reco import RecoSettings, build_model, load_model, rank
from shoploop.reco._purchase_days import purchase_days
from shoploop.reco._segments import CustomerSegments, fit_segments
from shoploop.store import Store, bind_identity, upsert_customers

STRATEGIES = "bought_together,buy_again,upsell,popular_in_segment"
PRIOR = RecoSettings().segment_prior


@pytest.fixture
def strategies() -> PluginHost:
    return load_plugins(strict=True, environ={"SHOPLOOP_LOAD_PLUGINS": STRATEGIES})


def erp_customer(id: str, **attributes: Any) -> Customer:
    return Customer(id=id, email=f"{id.lower()}@example.com", kind="b2b", attributes=attributes)


def b2b_with_segments(store: Store, kit: Any) -> None:
    """The B2B merchant, with the ERP's industries: the machine buyers K-2000… are cafés,
    K-3000… bakeries (beans) and roasteries (grinders); K-9000 is a new bakery that has not
    ordered yet, with a fresh shop account 9100 the sync bound to it."""
    kit.b2b_merchant(store)
    customers = [erp_customer("K-1001", industry="bakery", customer_group="gold")]
    customers += [erp_customer(f"K-{2000 + n}", industry="cafe") for n in range(12)]
    customers += [erp_customer(f"K-{3000 + n}", industry="roastery" if n % 2 else "bakery",
                               customer_group="gold" if n < 4 else "standard")
                  for n in range(20)]
    customers.append(erp_customer("K-9000", industry="bakery"))
    with store.session() as session:
        upsert_customers(session, "erp", customers)
        upsert_customers(session, "shop", [Customer(id="9100", email="k-9000@example.com")])
        bind_identity(session, "erp", "customer", "K-9000", "person-9")
        bind_identity(session, "shop", "customer", "9100", "person-9")


def segment_answers(host: PluginHost, model: Any, profile: CustomerProfile | None = None,
                    **request: Any) -> list[Any]:
    ranked = rank(host, model, RecommendationRequest(connection="shop", **request),
                  profile=profile)
    return [r for r in ranked.recommendations if r.strategy == "popular_in_segment"]


def test_a_new_b2b_customer_gets_what_their_industry_buys(store: Store, kit: Any,
                                                           strategies: PluginHost) -> None:
    b2b_with_segments(store, kit)
    build_model(strategies, store, RecoSettings(), lambda: kit.now)
    model = load_model(store)
    # The shop account has no orders and no attributes: the ERP's industry answers for it.
    found = segment_answers(strategies, model, customer_id="9100")
    beans = kit.shop_ids["BEANS-1KG"]
    assert [r.product_id for r in found] == [beans]
    [top] = found
    # 12 bakeries (K-1001, 10 of K-3000…, K-9000), 11 bought beans; 11 beans buyers among
    # the 35 customers (34 with orders, K-9000 without); grinders: 1 bakery, too few.
    share = (11 + PRIOR * 11 / 35) / (12 + PRIOR)
    # As a probability per order: one of a customer's orders holds their first purchase.
    per_order = 35 / model.bought_together.orders
    assert top.score == pytest.approx(share * per_order)
    assert top.kind == "cross_sell"
    assert top.reason == "Popular with customers in industry bakery (11 of 12 bought it)"
    assert top.reason_in("de") == ("Beliebt bei Kunden der Branche bakery (11 von 12 haben "
                                   "es gekauft)")
    assert {k: v for k, v in top.evidence.items() if k != "strategies"} == {
        "segment": "industry=bakery", "buyers": 11, "customers": 12, "overall_buyers": 11,
        "all_customers": 35}


def test_without_a_known_segment_the_overall_bestsellers(store: Store, kit: Any,
                                                          strategies: PluginHost) -> None:
    b2b_with_segments(store, kit)
    build_model(strategies, store, RecoSettings(), lambda: kit.now)
    model = load_model(store)
    found = segment_answers(strategies, model, customer_id="an-unknown-account")
    # ESP-PRO-2: 12 ERP customers and the shop's 9002; DESC-500 the 12; grinders (10 and
    # person-1) and beans 11 each — ties by the shop's id —; milk jugs 4; filters 1.
    expected = ["ESP-PRO-2", "DESC-500", "GRINDER-S", "BEANS-1KG", "MILK-JUG", "FILTER-10"]
    assert [r.product_id for r in found] == [kit.shop_ids[sku] for sku in expected]
    assert found[0].reason == "Popular with our customers (13 of 35 bought it)"
    assert found[0].reason_in("de") == "Beliebt bei unseren Kunden (13 von 35 haben es gekauft)"
    assert found[0].score == pytest.approx(13 / model.bought_together.orders)
    # A request naming nobody and nothing gets the same.
    assert [r.product_id for r in segment_answers(strategies, model)] == [
        r.product_id for r in found]
    # A product page gets the products in most orders, scored by their base rate P(b),
    # below every significant partner of the anchor (bought together's confidence).
    grinder = kit.shop_ids["GRINDER-S"]
    page = rank(strategies, model, RecommendationRequest(connection="shop", product_id=grinder))
    popular = [r for r in page.recommendations if r.strategy == "popular_in_segment"]
    orders = model.bought_together.orders
    assert popular and grinder not in {r.product_id for r in popular}
    for rec in popular:
        index = model.product_index("shop", rec.product_id)
        assert index is not None
        with_it = int(model.bought_together.orders_with[index])
        assert rec.score == pytest.approx(with_it / orders)
        assert rec.reason.startswith("Popular with our customers: in ")
        assert rec.reason.endswith(f"of all orders ({with_it} of {orders})")
    partners = [r for r in page.recommendations if r.strategy == "bought_together"]
    assert all(p.score > p.evidence["base_rate"] for p in partners)


def test_a_profile_names_the_segment_of_a_customer_the_store_does_not_know(
        store: Store, kit: Any, strategies: PluginHost) -> None:
    b2b_with_segments(store, kit)
    build_model(strategies, store, RecoSettings(), lambda: kit.now)
    profile = CustomerProfile(customer=Customer(id="9300"), attributes={"industry": "roastery"})
    found = segment_answers(strategies, load_model(store), customer_id="9300", profile=profile)
    assert [r.product_id for r in found] == [kit.shop_ids["GRINDER-S"]]
    assert found[0].evidence["segment"] == "industry=roastery"


def test_returning_customers_get_no_fallback_for_what_they_bought_and_keys_are_configurable(
        store: Store, kit: Any, strategies: PluginHost) -> None:
    b2b_with_segments(store, kit)
    build_model(strategies, store, RecoSettings(), lambda: kit.now)
    model = load_model(store)
    # person-1 (shop 9001 = ERP K-1001: a gold bakery) bought beans and grinders, their
    # segments' popular products: buy again scores those from their own history.
    found = segment_answers(strategies, model, customer_id="9001")
    assert found == []
    mine = rank(strategies, model, RecommendationRequest(connection="shop",
                                                         customer_id="9001")).recommendations
    assert kit.shop_ids["BEANS-1KG"] in {r.product_id for r in mine
                                         if r.strategy == "buy_again"}
    new = segment_answers(strategies, model, customer_id="9100")
    assert [r.product_id for r in new] == [kit.shop_ids["BEANS-1KG"]]
    # Segmented by the customer group alone: beans and grinders in gold.
    build_model(strategies, store, RecoSettings(segment_keys=["customer_group"]),
                lambda: kit.now)
    profile = CustomerProfile(customer=Customer(id="9300"), attributes={"customer_group": "gold"})
    found = segment_answers(strategies, load_model(store), customer_id="9300", profile=profile)
    assert sorted(r.product_id for r in found) == sorted(
        [kit.shop_ids["BEANS-1KG"], kit.shop_ids["GRINDER-S"]])
    assert {(r.evidence["segment"], r.evidence["customers"]) for r in found} == {
        ("customer_group=gold", 5)}


# -- any history -----------------------------------------------------------------------------


@st.composite
def histories(draw: st.DrawFn) -> tuple[CustomerSegments, list[str], Any, Any, Any, int]:
    n_products = draw(st.integers(1, 6))
    n_customers = draw(st.integers(1, 12))
    labels = ["industry=a", "industry=b", "customer_group=gold"]
    people = {f"c{n}": sorted(draw(st.sets(st.integers(0, 2))))
              for n in range(n_customers) if draw(st.booleans())}
    people.update({f"new{n}": [draw(st.integers(0, 2))] for n in range(draw(st.integers(0, 3)))})
    customer_ids = [f"c{n}" for n in range(n_customers)]
    orders = draw(st.lists(st.tuples(st.integers(-1, n_customers - 1),
                                     st.lists(st.integers(0, n_products - 1), min_size=1,
                                              max_size=4)), max_size=30))
    order_customer = np.asarray([c for c, _ in orders], dtype=np.int32)
    line_order = np.asarray([n for n, (_, lines) in enumerate(orders) for _ in lines],
                            dtype=np.int32)
    line_product = np.asarray([p for _, lines in orders for p in lines], dtype=np.int32)
    return (CustomerSegments(labels=labels, people=people), customer_ids, order_customer,
            line_order, line_product, n_products)


@settings(deadline=None)  # no timing: the machine is shared
@given(histories(), st.integers(1, 3), st.integers(1, 4))
def test_segment_popularity_is_the_smoothed_share_over_a_counting_loop(
        history: tuple[Any, ...], min_buyers: int, keep: int) -> None:
    segments, customer_ids, order_customer, line_order, line_product, n_products = history
    days = purchase_days(order_customer, np.zeros(len(order_customer), dtype=np.int32),
                         line_order, line_product, n_products)
    fitted = fit_segments(segments, customer_ids, [{"shop": c} for c in customer_ids], days,
                          n_products, prior=PRIOR, min_buyers=min_buyers, keep=keep)
    bought: set[tuple[str, int]] = set()
    for order, product in zip(line_order.tolist(), line_product.tolist(), strict=True):
        if order_customer[order] >= 0:
            bought.add((customer_ids[order_customer[order]], product))
    everyone = set(customer_ids) | set(segments.people)
    overall = [sum(1 for _, p in bought if p == product) for product in range(n_products)]
    assert fitted.customers == len(everyone)
    assert fitted.product_buyers.tolist() == overall
    for segment, label in enumerate(segments.labels):
        members = {c for c, held in segments.people.items() if segment in held}
        assert int(fitted.segment_customers[segment]) == len(members)
        expected = []
        for product in range(n_products):
            n = sum(1 for c in members if (c, product) in bought)
            q = overall[product] / len(everyone)
            share = (n + PRIOR * q) / (len(members) + PRIOR)
            if n >= min_buyers and share > q:
                expected.append((-share, product, n))
        expected.sort()
        span = fitted.of(segment)
        assert list(zip(fitted.product[span].tolist(), fitted.buyers[span].tolist(),
                        strict=True)) == [(p, n) for _, p, n in expected[:keep]], label
    assert fitted.by_external.get("shop", {}) == {c: segments.people[c] for c in customer_ids
                                                   if segments.people.get(c)}
    top = sorted(range(n_products), key=lambda p: (-overall[p], p))[:keep]
    assert fitted.top.tolist() == [p for p in top if overall[p] > 0]


def test_a_model_stored_before_these_strategies_still_loads_and_they_abstain(
        store: Store, kit: Any, strategies: PluginHost) -> None:
    import dataclasses

    from shoploop.reco import Model

    b2b_with_segments(store, kit)
    built = build_model(strategies, store, RecoSettings(), lambda: kit.now).model
    old = dataclasses.replace(built, upsell={}, segments=None, installed_base=None)
    loaded = Model.from_bytes(old.to_bytes())
    assert (loaded.upsell, loaded.segments, loaded.installed_base) == ({}, None, None)
    assert segment_answers(strategies, loaded, customer_id="9100") == []
    # The new statistics survive the stored form.
    again = Model.from_bytes(built.to_bytes())
    assert again.segments is not None and built.segments is not None
    assert again.segments.labels == built.segments.labels
    assert again.segments.by_external == built.segments.by_external
    assert again.segments.top.tolist() == built.segments.top.tolist()
